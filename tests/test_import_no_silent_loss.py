"""Importers never lose data silently: conflicts, encodings, numbers, kinds, floods.

Each test reproduces one way a file used to be half-imported without a word, and pins the
exact line the user now gets.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from engine.history.changes import customers_changed_since
from engine.history.db import Database
from engine.history.importing import import_customers, import_events
from engine.history.models import Customer, Event

RunCli = Callable[..., tuple[int, str, str]]
EVENTS_HEADER = "customer_id,type,occurred_at,id,amount\n"


@pytest.fixture
def known(db: Database, tmp_path: Path) -> Database:
    (tmp_path / "customers.csv").write_text("id,handle\n7,bob\n0042,alice\n", encoding="utf-8")
    assert import_customers(db, tmp_path / "customers.csv").rejected == 0
    return db


def stored(db: Database) -> list[tuple[str, str, dict[str, object], int]]:
    with db.read() as session:
        rows = session.execute(
            select(Event.external_id, Event.type, Event.properties, Event.seq).order_by(Event.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the same event id with different content ------------------------------------------


def test_a_conflicting_reimport_is_reported_and_the_first_kept(
    known: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    write(tmp_path, "a.csv", EVENTS_HEADER + "7,purchase,2026-03-01,E1,10\n")
    write(tmp_path, "b.csv", EVENTS_HEADER + "7,purchase,2026-03-01,E1,100\n")
    assert run_cli("import", "events", "a.csv")[0] == 0
    code, out, err = run_cli("import", "events", "b.csv")
    assert (code, err) == (
        1,
        "b.csv:2: id 'E1' already imported with different content (amount 10 → 100);"
        " kept the first (use --update to replace it)\n",
    )
    assert out == "b.csv: read 1, inserted 0, updated 0, unchanged 0, rejected 1\n"
    assert [props for _, _, props, _ in stored(known)] == [{"amount": 10}]


def test_another_customer_or_type_under_one_id_is_a_conflict(
    known: Database, tmp_path: Path
) -> None:
    import_events(known, write(tmp_path, "a.csv", EVENTS_HEADER + "7,purchase,2026-03-01,E1,10\n"))
    text = EVENTS_HEADER + "0042,refund,2026-03-02,E1,10\n"
    summary = import_events(known, write(tmp_path, "b.csv", text))
    assert [p.message for p in summary.problems] == [
        "id 'E1' already imported with different content (customer '7' → '0042',"
        " type 'purchase' → 'refund', occurred_at 2026-03-01T00:00:00Z → 2026-03-02T00:00:00Z);"
        " kept the first (use --update to replace it)"
    ]


def test_a_conflict_inside_one_file_is_reported_on_the_later_row(
    known: Database, tmp_path: Path
) -> None:
    text = EVENTS_HEADER + "7,purchase,2026-03-01,E1,10\n7,purchase,2026-03-01,E1,10\n"
    text += "7,purchase,2026-03-01,E1,12\n"
    summary = import_events(known, write(tmp_path, "a.csv", text))
    assert (summary.inserted, summary.unchanged, summary.rejected) == (1, 1, 1)
    assert [(p.line, p.message.split(";")[0]) for p in summary.problems] == [
        (4, "id 'E1' already imported with different content (amount 10 → 12)")
    ]


@pytest.mark.backends
def test_update_replaces_and_marks_the_customer_for_evaluation(
    known: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    write(
        tmp_path,
        "a.csv",
        EVENTS_HEADER + "7,purchase,2026-03-01,E1,10\n0042,visit,2026-03-01,E2,\n",
    )
    write(tmp_path, "b.csv", EVENTS_HEADER + "7,purchase,2026-03-01,E1,100\n")
    assert run_cli("import", "events", "a.csv")[0] == 0
    watermark = max(seq for *_, seq in stored(known))
    code, out, err = run_cli("import", "events", "b.csv", "--update")
    assert (code, err) == (0, "")
    assert out == "b.csv: read 1, inserted 0, updated 1, unchanged 0, rejected 0\n"
    rows = stored(known)
    assert [(ext, props) for ext, _, props, _ in rows] == [("E1", {"amount": 100}), ("E2", {})]
    assert rows[0][3] > watermark  # a new arrival for the "new since" watermark
    with known.read() as session:
        bob = session.execute(select(Customer.id).where(Customer.external_id == "7")).scalar()
        assert customers_changed_since(session, watermark) == {bob}
    # An identical re-import with --update changes nothing.
    code, out, _ = run_cli("import", "events", "b.csv", "--update")
    assert out == "b.csv: read 1, inserted 0, updated 0, unchanged 1, rejected 0\n"


# -- encodings -------------------------------------------------------------------------


def test_one_bad_byte_names_its_line_keeps_the_good_rows_and_suggests_the_encoding(
    known: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    body = EVENTS_HEADER.encode() + b"7,visit,2026-03-01,E1,1\n"
    body += b"7,caf\xe9,2026-03-01,E2,2\n7,visit,2026-03-02,E3,3\n"
    (tmp_path / "e.csv").write_bytes(body)
    code, out, err = run_cli("import", "events", "e.csv")
    assert (code, out) == (1, "e.csv: read 3, inserted 2, updated 0, unchanged 0, rejected 1\n")
    assert err == (
        "e.csv:3: byte 0xE9 is not UTF-8 (the file may be Windows-1252, where this cell"
        " reads 'café'); save the file as UTF-8\n"
    )


def test_a_bad_byte_in_jsonl_names_its_line(known: Database, tmp_path: Path) -> None:
    good = '{"customer_id": "7", "type": "visit", "occurred_at": "2026-03-01"}\n'
    path = tmp_path / "e.jsonl"
    path.write_bytes(good.encode() + b'{"customer_id": "7", "type": "visit", "x": "\xff"}\n')
    summary = import_events(known, path)
    assert (summary.inserted, summary.rejected) == (1, 1)
    assert summary.problems[0].line == 2
    assert summary.problems[0].message.startswith("byte 0xFF is not UTF-8")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_files_with_a_byte_order_mark_are_read(
    known: Database, tmp_path: Path, encoding: str
) -> None:
    path = tmp_path / "e.csv"
    path.write_text(EVENTS_HEADER + "7,visit,2026-03-01,E1,1\n", encoding=encoding)
    summary = import_events(known, path)
    assert (summary.inserted, summary.rejected) == (1, 0)


def test_utf16_without_a_byte_order_mark_is_named(
    known: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    (tmp_path / "e.csv").write_bytes(
        (EVENTS_HEADER + "7,visit,2026-03-01,E1,1\n").encode("utf-16-le")
    )
    code, out, err = run_cli("import", "events", "e.csv")
    assert (code, out) == (1, "")
    assert err == (
        "error: e.csv: is UTF-16 text without a byte-order mark"
        " (save it as UTF-8, or as UTF-16 with a byte-order mark)\n"
    )


# -- numbers ---------------------------------------------------------------------------


def test_non_finite_numbers_are_rejected(known: Database, tmp_path: Path) -> None:
    csv_text = EVENTS_HEADER + "7,a,2026-03-01,E1,NaN\n7,a,2026-03-01,E2,-inf\n"
    csv_text += "7,a,2026-03-01,E3,1e400\n7,a,2026-03-01,E4,5\n"
    summary = import_events(known, write(tmp_path, "e.csv", csv_text))
    assert [(p.line, p.message) for p in summary.problems] == [
        (2, "field 'amount': 'NaN' is not a finite number (leave the cell empty for no value)"),
        (3, "field 'amount': '-inf' is not a finite number (leave the cell empty for no value)"),
        (4, "field 'amount': '1e400' is not a finite number (leave the cell empty for no value)"),
    ]
    row = {"customer_id": "7", "type": "a", "occurred_at": "2026-03-01"}
    jsonl = json.dumps(row)[:-1] + ', "amount": 1e400}\n' + json.dumps(row) + "\n"
    summary = import_events(known, write(tmp_path, "e.jsonl", jsonl))
    assert [(p.line, p.message) for p in summary.problems] == [
        (1, "has 1e400, which is not a finite number (use null or a number)")
    ]
    with sqlite3.connect(known.engine.url.database or "") as connection:
        texts = [row[0] for row in connection.execute("SELECT properties FROM events")]
    assert all("Infinity" not in text and "NaN" not in text for text in texts)


def test_numeric_looking_text_in_a_numeric_column_is_warned_with_counts_and_examples(
    known: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    text = EVENTS_HEADER + "".join(
        f"7,purchase,2026-03-01,E{n},{amount}\n"
        for n, amount in enumerate(["20", "$25", '"1,234.50"', "30", "$7", "12.5", "note"])
    )
    write(tmp_path, "e.csv", text)
    code, out, err = run_cli("import", "events", "e.csv")
    assert (code, out) == (0, "e.csv: read 7, inserted 7, updated 0, unchanged 0, rejected 0\n")
    assert err == (
        "e.csv: warning: column 'amount' holds numbers, but 3 cells are text that looks like"
        " a number: '$25' (line 3), '1,234.50' (line 4), '$7' (line 6); conditions compare"
        " them as text, not numbers (write plain numbers such as 1234.50)\n"
    )


def test_event_types_are_stored_in_lower_case(known: Database, tmp_path: Path) -> None:
    text = (
        EVENTS_HEADER
        + "7,Purchase,2026-03-01,,1\n7,PURCHASE,2026-03-01,,1\n7,purchase,2026-03-02,,1\n"
    )
    summary = import_events(known, write(tmp_path, "e.csv", text))
    assert (summary.inserted, summary.unchanged) == (2, 1)  # the first two are one event
    assert [t for _, t, _, _ in stored(known)] == ["purchase", "purchase"]


# -- the wrong kind of file ------------------------------------------------------------


def test_an_events_file_given_to_import_customers_is_refused(
    tmp_path: Path, run_cli: RunCli
) -> None:
    write(tmp_path, "events.csv", EVENTS_HEADER + "7,purchase,2026-03-01,E1,10\n")
    code, out, err = run_cli("import", "customers", "events.csv")
    assert (code, out) == (1, "")
    assert err == (
        "error: events.csv:1: this is an events file (it has the columns 'type' and"
        " 'occurred_at'); import it with: rapport import events events.csv\n"
    )
    row = {"id": "E1", "customer_id": "7", "type": "purchase", "occurred_at": "2026-03-01"}
    write(tmp_path, "events.jsonl", json.dumps(row) + "\n")
    code, _, err = run_cli("import", "customers", "events.jsonl")
    assert (code, err.split(";")[0]) == (
        1,
        "error: events.jsonl:1: this is an events file (it has the columns 'type' and"
        " 'occurred_at')",
    )
    assert run_cli("db", "upgrade")[0] == 0
    with sqlite3.connect(tmp_path / "rapport.db") as connection:
        assert connection.execute("SELECT count(*) FROM customers").fetchone() == (0,)


def test_a_customers_file_given_to_import_events_is_refused(
    tmp_path: Path, run_cli: RunCli
) -> None:
    write(tmp_path, "customers.csv", "id,handle,name\n1,ann,Ann\n")
    code, _, err = run_cli("import", "events", "customers.csv")
    assert (code, err) == (
        1,
        "error: customers.csv:1: this is a customers file (it has no column 'type' or"
        " 'occurred_at'); import it with: rapport import customers customers.csv\n",
    )


def test_duplicate_ids_in_one_customers_file_are_reported(db: Database, tmp_path: Path) -> None:
    text = "id,handle,tier\n1,ann,gold\n2,bob,\n1,ann,silver\n"
    summary = import_customers(db, write(tmp_path, "c.csv", text))
    assert (summary.inserted, summary.rejected) == (2, 1)
    assert [(p.line, p.message) for p in summary.problems] == [
        (4, "id '1' appears again (first at line 2); the first row is kept")
    ]


# -- floods of one error ---------------------------------------------------------------


def test_twelve_thousand_identical_errors_are_one_line_per_kind(
    tmp_path: Path, run_cli: RunCli
) -> None:
    lines = [f"c{n},purchase,2026-03-01,E{n},1\n" for n in range(12_000)]
    lines[5] = "c5,purchase,2026-03-01,E5,1,extra\n"  # another kind, once
    write(tmp_path, "e.csv", EVENTS_HEADER + "".join(lines))
    code, out, err = run_cli("import", "events", "e.csv")
    assert code == 1
    assert out == "e.csv: read 12000, inserted 0, updated 0, unchanged 0, rejected 12000\n"
    assert err.splitlines() == [
        "e.csv:2: field 'customer_id': no customer has the id 'c0' (import customers first)"
        " [11999 rows like this; the first at lines 2, 3, 4, 5, 6]",
        "e.csv:7: has 6 cells but the header has 5 columns",
    ]


def test_a_few_errors_of_one_kind_are_each_listed(tmp_path: Path, run_cli: RunCli) -> None:
    lines = [f"c{n},purchase,2026-03-01,E{n},1\n" for n in range(3)]
    write(tmp_path, "e.csv", EVENTS_HEADER + "".join(lines))
    _, _, err = run_cli("import", "events", "e.csv")
    assert [line.split(":")[1] for line in err.splitlines()] == ["2", "3", "4"]


_values = st.one_of(
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.booleans(),
)
_ids = iter(range(10**9))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(props=st.dictionaries(st.sampled_from(["a", "b", "c_x", "é"]), _values, max_size=4))
def test_a_reimport_in_any_key_order_is_unchanged_and_any_change_a_conflict(
    known: Database, tmp_path: Path, props: dict[str, object]
) -> None:
    """The fast comparison (stored text) and the exact one (decoded) agree."""
    event_id = f"P{next(_ids)}"
    row = {"id": event_id, "customer_id": "7", "type": "t", "occurred_at": "2026-03-01"}
    first = write(tmp_path, "p.jsonl", json.dumps(row | {"properties": props}) + "\n")
    assert import_events(known, first).inserted == 1
    backwards = dict(reversed(props.items()))
    again = write(tmp_path, "q.jsonl", json.dumps(row | {"properties": backwards}) + "\n")
    summary = import_events(known, again)
    assert (summary.unchanged, summary.rejected) == (1, 0)
    changed = write(tmp_path, "r.jsonl", json.dumps(row | {"properties": props | {"z": 1}}) + "\n")
    summary = import_events(known, changed)
    assert summary.rejected == 1
    assert "z (none) → 1" in summary.problems[0].message
