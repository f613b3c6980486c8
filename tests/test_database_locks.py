"""Database-wide named locks (engine/history/db.py) on SQLite files and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.errors import RapportError
from engine.history.db import DAEMON, EVALUATION, Database

pytestmark = pytest.mark.backends


@pytest.fixture
def other(db_url: str, db: Database) -> Iterator[Database]:
    """A second handle on the same database: another process, as far as locks go."""
    second = Database.open(db_url, upgrade=False)
    yield second
    second.dispose()


def test_a_second_daemon_is_refused_with_a_clear_message(db: Database, other: Database) -> None:
    with (
        db.exclusive_lock(DAEMON, timeout=0),
        pytest.raises(RapportError) as refused,
        other.exclusive_lock(DAEMON, timeout=0),
    ):
        pass
    assert str(refused.value) == (
        "another daemon is running on this database "
        "(stop the other daemon first: one daemon runs per database)"
    )


def test_locks_of_different_names_do_not_block_each_other(db: Database, other: Database) -> None:
    with db.exclusive_lock(DAEMON, timeout=0), other.exclusive_lock(EVALUATION, timeout=0):
        pass


def test_a_released_lock_can_be_taken_again(db: Database, other: Database) -> None:
    with db.exclusive_lock(DAEMON, timeout=0):
        pass
    with other.exclusive_lock(DAEMON, timeout=0):
        pass
