"""Customer import: upsert by id, handle rules, time zones, row errors with places."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidInput, RapportError
from engine.history.db import Database
from engine.history.importing import import_customers
from engine.history.models import Customer

pytestmark = pytest.mark.backends

HEADER = "id,handle,name,timezone,kind,consent_at,city,tier,zip\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def customers(db: Database) -> dict[str, Customer]:
    with db.read() as session:
        found = {c.external_id: c for c in session.scalars(select(Customer))}
        session.expunge_all()  # keep the loaded values past the read's rollback
        return found


def test_ids_are_kept_exactly_and_handles_normalised(db: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.csv",
        HEADER
        + "00042,@Alice_W,Alice,Europe/Paris,,2025-01-01,Paris,gold,02139\n"
        + "42,bob,Bob,Asia/Kathmandu,prospect,,,,\n",
    )
    summary = import_customers(db, path)
    assert str(summary) == f"{path}: read 2, inserted 2, updated 0, unchanged 0, rejected 0"
    stored = customers(db)
    assert set(stored) == {"00042", "42"}
    alice = stored["00042"]
    assert (alice.handle, alice.handle_key, alice.kind) == ("Alice_W", "alice_w", "customer")
    assert alice.consent_at == datetime(2025, 1, 1, tzinfo=UTC)
    assert alice.attributes == {"city": "Paris", "tier": "gold", "zip": "02139"}
    assert stored["42"].kind == "prospect"
    assert stored["42"].attributes == {}  # empty cells are absent attributes


def test_handles_are_unique_ignoring_case(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", HEADER + "1,alice,,,,,,,\n2,@ALICE,,,,,,,\n")
    summary = import_customers(db, path)
    assert (summary.inserted, summary.rejected) == (1, 1)
    assert [str(p) for p in summary.problems] == [
        f"{path}:3: field 'handle': '@ALICE' already belongs to customer '1' "
        "(this row is customer '2'; handles are unique, ignoring case)"
    ]


def test_bad_rows_are_named_and_skipped(db: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.csv",
        HEADER
        + "1,ok_1,,UTC,,,,,\n"
        + "2,bad-handle,,,,,,,\n"
        + "3,ok_3,,Mars/Olympus,,,,,\n"
        + "4,ok_4,,,vip,,,,\n"
        + "5,ok_5,,,,2026-13-01,,,\n"
        + ",ok_6,,,,,,,\n"
        + "7,ok_7,,,,,,,,extra\n",
    )
    summary = import_customers(db, path)
    assert [str(p) for p in summary.problems] == [
        f"{path}:3: field 'handle': 'bad-handle' is not an X handle "
        "(1-15 letters, digits or _, e.g. @jane_doe)",
        f"{path}:4: field 'timezone': 'Mars/Olympus' is not an IANA time zone "
        "(e.g. America/Los_Angeles, Europe/Paris)",
        f"{path}:5: field 'kind': 'vip' is not a kind (use customer or prospect)",
        f"{path}:6: field 'consent_at': '2026-13-01' is not a time "
        "(use ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:30:00Z)",
        f"{path}:7: field 'id': is empty (every customer needs an id)",
        f"{path}:8: has 10 cells but the header has 9 columns",
    ]
    assert (summary.read, summary.inserted, summary.rejected) == (7, 1, 6)


def test_reimport_counts_updates_and_unchanged_rows(db: Database, tmp_path: Path) -> None:
    first = write(tmp_path, "a.csv", HEADER + "1,alice,Alice,,,,,,\n2,bob,Bob,,,,,,\n")
    import_customers(db, first)
    again = import_customers(db, first)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    changed = write(tmp_path, "b.csv", HEADER + "1,alice,Alice B,,,,,gold,\n2,bob,Bob,,,,,,\n")
    summary = import_customers(db, changed)
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 1)
    assert customers(db)["1"].name == "Alice B"
    assert customers(db)["1"].attributes == {"tier": "gold"}


def test_a_handle_can_move_to_another_customer(db: Database, tmp_path: Path) -> None:
    import_customers(db, write(tmp_path, "a.csv", HEADER + "1,alice,,,,,,,\n2,bob,,,,,,,\n"))
    moved = write(tmp_path, "b.csv", HEADER + "1,alice_old,,,,,,,\n2,Alice,,,,,,,\n")
    summary = import_customers(db, moved)
    assert (summary.updated, summary.rejected) == (2, 0)
    assert {k: c.handle for k, c in customers(db).items()} == {"1": "alice_old", "2": "Alice"}


def test_jsonl_with_attributes_object(db: Database, tmp_path: Path) -> None:
    lines = [
        {"id": "007", "handle": "@Bond", "timezone": "Australia/Lord_Howe",
         "attributes": {"tier": "gold", "visits": 3}, "city": "Lord Howe Island"},
        {"id": 8, "handle": None, "kind": "prospect"},
        {"handle": "nobody"},
        "not an object",
    ]  # fmt: skip
    path = write(tmp_path, "c.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n\n{oops\n")
    summary = import_customers(db, path)
    stored = customers(db)
    assert stored["007"].attributes == {"tier": "gold", "visits": 3, "city": "Lord Howe Island"}
    assert stored["007"].handle == "Bond"
    assert stored["8"].handle is None
    assert [str(p) for p in summary.problems] == [
        f"{path}:3: field 'id': is empty (every customer needs an id)",
        f"{path}:4: is not a JSON object",
        f"{path}:6: is not valid JSON (Expecting property name enclosed in double quotes "
        "at column 2)",
    ]


def test_missing_id_column_stops_before_importing(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "handle,name\nalice,Alice\n")
    with pytest.raises(InvalidInput) as error:
        import_customers(db, path)
    assert str(error.value) == f"{path}:1: missing column 'id'"
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 0


def test_unknown_extension_names_the_accepted_ones(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "c.xlsx", "")
    with pytest.raises(RapportError) as error:
        import_customers(db, path)
    assert str(error.value) == (
        f"{path}: cannot tell the format from the extension (use a .csv or .jsonl file)"
    )


def test_a_partial_file_updates_only_its_columns(db: Database, tmp_path: Path) -> None:
    full = HEADER + "1,ann,Ann Lee,Europe/Paris,prospect,2025-01-01,Paris,gold,75001\n"
    import_customers(db, write(tmp_path, "full.csv", full))
    partial = write(tmp_path, "tier.csv", "id,tier,zip\n1,silver,\n")
    summary = import_customers(db, partial)
    assert (summary.updated, summary.unchanged) == (1, 0)
    ann = customers(db)["1"]
    assert (ann.handle, ann.name, ann.timezone, ann.kind) == (
        "ann",
        "Ann Lee",
        "Europe/Paris",
        "prospect",
    )
    assert ann.consent_at == datetime(2025, 1, 1, tzinfo=UTC)
    assert ann.attributes == {"city": "Paris", "tier": "silver"}  # zip: an empty cell clears
    assert import_customers(db, partial).unchanged == 1


def test_a_partial_jsonl_row_updates_only_its_keys(db: Database, tmp_path: Path) -> None:
    first = {"id": "1", "handle": "ann", "name": "Ann", "attributes": {"tier": "gold", "n": 1}}
    import_customers(db, write(tmp_path, "a.jsonl", json.dumps(first) + "\n"))
    later = {"id": "1", "name": None, "attributes": {"tier": "silver"}, "city": "Oslo"}
    import_customers(db, write(tmp_path, "b.jsonl", json.dumps(later) + "\n"))
    ann = customers(db)["1"]
    assert (ann.handle, ann.name) == ("ann", "Ann")
    assert ann.attributes == {"tier": "silver", "n": 1, "city": "Oslo"}


def test_a_new_customer_from_a_partial_file_gets_the_defaults(db: Database, tmp_path: Path) -> None:
    import_customers(db, write(tmp_path, "c.csv", "id,tier\n9,gold\n"))
    new = customers(db)["9"]
    assert (new.handle, new.name, new.kind, new.attributes) == (
        None,
        None,
        "customer",
        {"tier": "gold"},
    )


def test_problems_are_reported_in_row_order_with_handle_clashes(
    db: Database, tmp_path: Path
) -> None:
    path = write(tmp_path, "c.csv", "id,handle,kind\n1,ann,\n2,ANN,\n3,bob,vip\n")
    summary = import_customers(db, path)
    assert [p.line for p in summary.problems] == [3, 4]


def test_nan_and_infinity_are_row_problems(db: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.jsonl",
        '{"id": "1", "score": NaN}\n{"id": "2", "attributes": {"x": -Infinity}}\n{"id": "3"}\n',
    )
    summary = import_customers(db, path)
    assert [str(p) for p in summary.problems] == [
        f"{path}:1: has NaN, which is not a JSON number (use null or a number)",
        f"{path}:2: has -Infinity, which is not a JSON number (use null or a number)",
    ]
    assert set(customers(db)) == {"3"}
