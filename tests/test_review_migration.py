"""Migration 0004 (reviewed contacts) matches the models, and goes down and up again."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from engine.history.db import Database
from engine.history.migrate import alembic_config
from engine.history.models import Base

pytestmark = pytest.mark.backends

REVIEW_COLUMNS = {"generated_text", "approved_text", "reviewed_by", "reviewed_at", "post_url"}


def _columns(db: Database) -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns("contacts")}


def test_the_migrated_schema_is_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if "contacts" in repr(d)] == []
    assert _columns(db) >= REVIEW_COLUMNS


def test_0004_goes_down_and_up(db: Database) -> None:
    config = alembic_config(db)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    assert not REVIEW_COLUMNS & _columns(db)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert _columns(db) >= REVIEW_COLUMNS
