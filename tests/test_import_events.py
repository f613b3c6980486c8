"""Event import: dedupe, time zones to UTC, properties typed safely, seq, bad rows."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from engine.errors import InvalidInput
from engine.history.db import Database
from engine.history.importing import import_customers, import_events
from engine.history.importing.values import RowError, parse_cell
from engine.history.models import Event

pytestmark = pytest.mark.backends

CUSTOMERS = "id,handle,name,timezone\n0042,@Alice,Alice,Europe/Paris\n7,bob,Bob,\n"


@pytest.fixture
def known(db: Database, tmp_path: Path) -> Database:
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    assert import_customers(db, path).rejected == 0
    return db


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def events(db: Database) -> list[Event]:
    with db.read() as session:
        found = list(session.scalars(select(Event).order_by(Event.id)))
        session.expunge_all()
        return found


def test_times_with_offsets_become_utc(known: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "e.csv",
        "customer_id,type,occurred_at\n"
        "0042,visit,2026-03-01T09:30:00+05:45\n"
        "0042,visit,2026-03-01\n"
        "0042,visit,2026-03-01T09:30:00\n"
        "0042,visit,2026-03-01T09:30:00-07:00\n",
    )
    assert import_events(known, path).inserted == 4
    assert [e.occurred_at for e in events(known)] == [
        datetime(2026, 3, 1, 3, 45, tzinfo=UTC),
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        datetime(2026, 3, 1, 16, 30, tzinfo=UTC),
    ]


def test_events_without_id_are_idempotent(known: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "e.csv",
        "customer_id,handle,type,occurred_at,amount,product\n"
        "0042,,purchase,2026-03-01T10:00:00Z,25,mug\n"
        ",@BOB,purchase,2026-03-02T10:00:00Z,9.5,decaf\n"
        "0042,,purchase,2026-03-01T10:00:00Z,25,mug\n",  # the same event twice in one file
    )
    first = import_events(known, path)
    assert (first.read, first.inserted, first.unchanged) == (3, 2, 1)
    second = import_events(known, path)
    assert (second.inserted, second.unchanged, second.rejected) == (0, 3, 0)
    stored = events(known)
    assert [(e.type, e.properties) for e in stored] == [
        ("purchase", {"amount": 25, "product": "mug"}),
        ("purchase", {"amount": 9.5, "product": "decaf"}),
    ]
    assert all(len(e.external_id) == 64 and e.source == "import" for e in stored)


def test_given_ids_dedupe_per_source(known: Database, tmp_path: Path) -> None:
    row = {"id": "e1", "customer_id": "7", "type": "mention", "occurred_at": "2026-03-01"}
    path = write(tmp_path, "e.jsonl", json.dumps(row | {"post_id": 42}) + "\n")
    assert import_events(known, path).inserted == 1
    assert import_events(known, path).inserted == 0
    assert import_events(known, path, source="x").inserted == 1
    assert [(e.external_id, e.source) for e in events(known)] == [("e1", "import"), ("e1", "x")]
    assert events(known)[0].properties == {"post_id": "42"}


def test_seq_increases_in_file_order_across_imports(known: Database, tmp_path: Path) -> None:
    header = "customer_id,type,occurred_at,id\n"
    import_events(known, write(tmp_path, "a.csv", header + "7,a,2026-01-02,1\n7,a,2026-01-01,2\n"))
    import_events(known, write(tmp_path, "b.csv", header + "7,a,2026-01-03,3\n"))
    seqs = [e.seq for e in events(known)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3


def test_post_ids_and_leading_zeros_stay_text(known: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "e.csv",
        "customer_id,type,occurred_at,post_id,in_reply_to,big,zip,count,ratio,neg,word\n"
        "0042,mention,2026-03-01,1790000000000000001,12,1234567890123456,02139,3,0.5,-2,3d\n",
    )
    import_events(known, path)
    assert events(known)[0].properties == {
        "post_id": "1790000000000000001",
        "in_reply_to": "12",
        "big": "1234567890123456",
        "zip": "02139",
        "count": 3,
        "ratio": 0.5,
        "neg": -2,
        "word": "3d",
    }


def test_bad_rows_are_named_and_the_rest_imported(known: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "e.csv",
        "customer_id,type,occurred_at\n"
        "0042,purchase,2026-13-01\n"
        "42,purchase,2026-03-01\n"
        "7,,2026-03-01\n"
        "7,pur chase,2026-03-01\n"
        "7,purchase,\n"
        "7,purchase,2026-03-01\n",
    )
    summary = import_events(known, path)
    assert [str(p) for p in summary.problems] == [
        f"{path}:2: field 'occurred_at': '2026-13-01' is not a time "
        "(use ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:30:00Z)",
        f"{path}:3: field 'customer_id': no customer has the id '42' (import customers first)",
        f"{path}:4: field 'type': is empty (every event needs a type, e.g. purchase)",
        f"{path}:5: field 'type': 'pur chase' is not an event type (letters, digits and _)",
        f"{path}:6: field 'occurred_at': is empty (use ISO 8601, e.g. 2026-03-01T09:30:00Z)",
    ]
    assert (summary.inserted, summary.rejected) == (1, 5)


def test_csv_row_numbers_count_lines_of_quoted_cells(known: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "e.csv",
        'customer_id,type,occurred_at,text\n7,reply,2026-03-01,"two\nlines"\n8,reply,2026-03-01,x\n',
    )
    summary = import_events(known, path)
    assert [p.line for p in summary.problems] == [4]
    assert events(known)[0].properties == {"text": "two\nlines"}


def test_missing_columns_are_named(known: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", "type,when\npurchase,2026-01-01\n")
    with pytest.raises(InvalidInput) as error:
        import_events(known, path)
    assert str(error.value) == (
        f"{path}:1: missing column 'customer_id' or 'handle'\n"
        f"{path}:1: missing column 'occurred_at'"
    )


def test_rows_read_back_through_the_models_equal_what_was_written(
    known: Database, tmp_path: Path
) -> None:
    """The SQLite fast path must store what SQLAlchemy itself would have stored."""
    path = write(
        tmp_path,
        "e.jsonl",
        json.dumps({"customer_id": "0042", "type": "purchase", "amount": 12.5,
                    "occurred_at": "2026-03-01T09:30:00.123456-08:00",
                    "properties": {"note": "café ☕", "tags": ["a", "b"]}}) + "\n",
    )  # fmt: skip
    import_events(known, path)
    with known.write() as session:
        session.add(
            Event(
                customer_id=events(known)[0].customer_id,
                type="purchase",
                occurred_at=datetime(2026, 3, 1, 17, 30, 0, 123456, tzinfo=UTC),
                properties={"note": "café ☕", "tags": ["a", "b"], "amount": 12.5},
                external_id="orm",
                seq=99,
            )
        )
    fast, orm = events(known)
    assert (fast.occurred_at, fast.properties) == (orm.occurred_at, orm.properties)
    with known.read() as session:
        later = session.scalars(
            select(Event.external_id).where(Event.occurred_at >= orm.occurred_at)
        ).all()
    assert len(later) == 2  # SQL comparisons see the same stored text


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet="0123456789.-e", min_size=1, max_size=22))
def test_numbers_are_parsed_only_when_nothing_is_lost(text: str) -> None:
    try:
        value = parse_cell("x", text)
    except RowError:  # an exponent past a float's range: not a finite number
        assert "e" in text and not math.isfinite(float(text))
        return
    if isinstance(value, int):
        assert str(value) == text and len(text.lstrip("-")) <= 15
    elif isinstance(value, float):
        assert float(text) == value and "e" not in text
    else:
        assert value == text


NOT_A_TIME = "is not a time (use ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:30:00Z)"
OUT_OF_RANGE = "is not a time Rapport accepts (years 1970 to 9000 only)"


def test_times_past_the_ends_of_the_calendar_are_row_problems(
    known: Database, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "e.csv",
        "customer_id,type,occurred_at\n"
        "7,visit,9999-12-31T23:00:00-05:00\n"
        "7,visit,0001-01-01T00:00:00+01:00\n"
        "7,visit,9001-01-01\n"
        "7,visit,1969-12-31T23:59:59Z\n"
        "7,visit,2026-03-01\n",
    )
    summary = import_events(known, path)
    assert [str(p) for p in summary.problems] == [
        f"{path}:2: field 'occurred_at': '9999-12-31T23:00:00-05:00' {NOT_A_TIME}",
        f"{path}:3: field 'occurred_at': '0001-01-01T00:00:00+01:00' {NOT_A_TIME}",
        f"{path}:4: field 'occurred_at': '9001-01-01' {OUT_OF_RANGE}",
        f"{path}:5: field 'occurred_at': '1969-12-31T23:59:59Z' {OUT_OF_RANGE}",
    ]
    assert (summary.inserted, summary.rejected) == (1, 4)


def test_an_unclosed_quote_is_a_problem_on_its_first_line(known: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "e.csv",
        "customer_id,type,occurred_at,note\n"
        "7,a,2026-03-02,fine\n"
        '7,b,2026-03-02,"x"y\n'
        "7,c,2026-03-02,fine\n"
        '7,d,2026-03-02,"oops\n'
        "7,e,2026-03-02,fine\n"
        "7,f,2026-03-02,fine\n",
    )
    summary = import_events(known, path)
    assert [str(p) for p in summary.problems] == [
        f"{path}:3: is not valid CSV (',' expected after '\"')",
        f"{path}:5: has a quote that is never closed (every later line was read into one cell)",
    ]
    assert [e.type for e in events(known)] == ["a", "c"]


def test_unnamed_columns_may_only_hold_empty_cells(known: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "e.csv",
        "customer_id,type,occurred_at,,\n7,a,2026-03-01,,\n7,b,2026-03-01\n7,c,2026-03-01,,x\n",
    )
    summary = import_events(known, path)
    assert [str(p) for p in summary.problems] == [
        f"{path}:4: has 'x' in column 5, which has no name in the header"
    ]
    assert [(e.type, e.properties) for e in events(known)] == [("a", {}), ("b", {})]


def test_jsonl_fields_that_are_lists_or_objects_are_row_problems(
    known: Database, tmp_path: Path
) -> None:
    rows = [
        {"customer_id": "7", "type": ["x"], "occurred_at": "2026-03-01"},
        {"customer_id": "7", "type": {"a": 1}, "occurred_at": "2026-03-01"},
        {"customer_id": ["7"], "type": "x", "occurred_at": "2026-03-01"},
        {"handle": {"h": "bob"}, "type": "x", "occurred_at": "2026-03-01"},
        {"customer_id": "7", "type": "x", "occurred_at": "2026-03-01", "id": [1]},
        {"customer_id": "7", "type": "ok", "occurred_at": "2026-03-01"},
    ]
    path = write(tmp_path, "e.jsonl", "".join(json.dumps(row) + "\n" for row in rows))
    summary = import_events(known, path)
    assert [str(p) for p in summary.problems] == [
        f"{path}:1: field 'type': ['x'] is not text",
        f"{path}:2: field 'type': {{'a': 1}} is not text",
        f"{path}:3: field 'customer_id': ['7'] is not text",
        f"{path}:4: field 'handle': {{'h': 'bob'}} is not text",
        f"{path}:5: field 'id': [1] is not text",
    ]
    assert [e.type for e in events(known)] == ["ok"]


def test_nan_properties_are_row_problems(known: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "e.jsonl",
        '{"customer_id": "7", "type": "x", "occurred_at": "2026-03-01", "properties": {"a": NaN}}\n'
        '{"customer_id": "7", "type": "ok", "occurred_at": "2026-03-01", "b": Infinity}\n'
        '{"customer_id": "7", "type": "ok", "occurred_at": "2026-03-01"}\n',
    )
    summary = import_events(known, path)
    assert [str(p) for p in summary.problems] == [
        f"{path}:1: has NaN, which is not a JSON number (use null or a number)",
        f"{path}:2: has Infinity, which is not a JSON number (use null or a number)",
    ]
    assert [e.properties for e in events(known)] == [{}]
