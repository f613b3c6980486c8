"""Tables. SQLite by default, PostgreSQL supported: portable types only.

Times are stored as UTC. SQLite drops the zone, so `UtcDateTime` puts it back on the way
out: code never sees a naive datetime.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from engine import clock
from engine.ledger.states import EnrolmentState


class UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store aware UTC times only")
        return value.astimezone(UTC).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def sqlite_time(moment: datetime) -> str:
    """An aware time as SQLite stores our datetimes: UTC text, fixed width, so it compares
    and sorts correctly as text. For hot paths that skip SQLAlchemy's type processing."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def json_text(value: Any) -> str:
    """A JSON value as text for a hot path that skips SQLAlchemy's JSON type: orjson, five
    times faster than json.dumps and as readable by every reader. What orjson refuses
    (integers beyond 64 bits, lone surrogates from JSONL escapes) goes through json.dumps."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
    }


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    handle: Mapped[str | None] = mapped_column(String(15))
    # Lower-cased handle: the case-insensitive unique key (portable across SQLite/PostgreSQL).
    handle_key: Mapped[str | None] = mapped_column(String(15), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="customer")
    consent_at: Mapped[datetime | None]
    consent_source: Mapped[str | None] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_events_customer_time", "customer_id", "occurred_at"),
        Index("ix_events_seq", "seq", unique=True),
    )

    # `id` is the import order: events at the same instant are ordered by it (docs/time.md).
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    external_id: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(64), default="import")
    # Arrival counter for the daemon's "new events since" watermark. 0 = "number it for me":
    # the database replaces it (a sequence on PostgreSQL, max + 1 on SQLite; migration
    # 0003). Read it as a watermark only as engine/history/event_seq.py says: on
    # PostgreSQL seqs may commit out of order.
    seq: Mapped[int] = mapped_column(BigInteger, default=0)


class Enrolment(Base):
    __tablename__ = "enrolments"
    __table_args__ = (Index("ix_enrolments_customer_cadence", "customer_id", "cadence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    cadence: Mapped[str] = mapped_column(String(100))
    entered_at: Mapped[datetime]
    trigger_event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    step_reached: Mapped[int] = mapped_column(default=0)  # steps resolved so far
    # Name of the last resolved step: progress that survives rule edits (0002).
    last_step: Mapped[str | None] = mapped_column(String(100))
    last_resolved_at: Mapped[datetime | None]  # when step `step_reached` resolved
    state: Mapped[str] = mapped_column(String(16), default=EnrolmentState.ACTIVE.value)
    ended_at: Mapped[datetime | None]
    rules_version: Mapped[str] = mapped_column(String(64))


class Contact(Base):
    """The ledger: single source of truth for caps and dedupe."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_customer_time", "customer_id", "planned_at"),
        Index("ix_contacts_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id"))
    cadence: Mapped[str] = mapped_column(String(100))
    step: Mapped[str] = mapped_column(String(100))
    variant: Mapped[str] = mapped_column(String(32), default="")
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    in_reply_to: Mapped[str | None] = mapped_column(String(64))
    planned_at: Mapped[datetime]  # the evaluation time that produced it (counts for caps)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    sent_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    remote_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    # The review queue (0004): `text` is what goes out; the text as generated is kept from
    # the first review action on, the text as approved at approval; the post's URL once a
    # person posted it.
    generated_text: Mapped[str | None] = mapped_column(Text)
    approved_text: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None]
    post_url: Mapped[str | None] = mapped_column(String(500))


class StepResolution(Base):
    """When each step of each enrolment resolved, and how (migration 0005).

    Measurement starts a response window at the step's resolution: for a sent message
    when it was planned, for a held-out enrolment when the step would have been sent.
    Enrolments keep only their last resolution and decisions are pruned, so the ledger
    keeps every one here. These rows are not messages: caps, dedupe and delivery read
    `contacts` only, so a held-out step can never count for a cap or be delivered.
    """

    __tablename__ = "step_resolutions"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "step"),
        Index("ix_step_resolutions_cadence_time", "cadence", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    cadence: Mapped[str] = mapped_column(String(100))
    step: Mapped[str] = mapped_column(String(100))
    arm: Mapped[str] = mapped_column(String(16))  # treatment | control
    # planned | dropped | expired | skipped | held_out | global_holdout | imported
    outcome: Mapped[str] = mapped_column(String(16))
    resolved_at: Mapped[datetime]


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_run", "run_id"), Index("ix_decisions_at", "decided_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    cadence: Mapped[str] = mapped_column(String(100))
    step: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(16))  # planned | held_out | deferred | dropped
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime]


class Suppression(Base):
    __tablename__ = "suppressions"
    __table_args__ = (Index("ix_suppressions_customer", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    handle_key: Mapped[str | None] = mapped_column(String(15), index=True)
    reason: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    until: Mapped[datetime | None]  # None = forever
    source_event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), unique=True)


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=clock.now)
    finished_at: Mapped[datetime | None]
    evaluated_at: Mapped[datetime | None]  # the evaluation's `now`
    mode: Mapped[str] = mapped_column(String(16))
    rules_hash: Mapped[str] = mapped_column(String(64))
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CadenceLaunch(Base):
    """Go-live per cadence: the first evaluation that saw it (docs/time.md, Go-live)."""

    __tablename__ = "cadence_launches"

    cadence: Mapped[str] = mapped_column(String(100), primary_key=True)
    first_seen_at: Mapped[datetime]


class XCredentials(Base):
    """The X account's OAuth 2.0 tokens and user id (0006).

    X rotates the refresh token at every refresh and the old one stops working, so the
    newest is kept here, not only in the environment: a restart must not lose it.
    """

    __tablename__ = "x_credentials"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)  # "brand"
    access_token: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None]
    refresh_token: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(String(32))  # from GET /2/users/me
    username: Mapped[str | None] = mapped_column(String(15))
    updated_at: Mapped[datetime]


class XCursor(Base):
    """Ingestion cursors: the newest post id seen per endpoint, so each post is read once."""

    __tablename__ = "x_cursors"

    endpoint: Mapped[str] = mapped_column(String(100), primary_key=True)
    since_id: Mapped[str | None] = mapped_column(String(32))
    last_success_at: Mapped[datetime | None]


class XRateLimit(Base):
    """The last rate-limit headers X sent per endpoint (and the app's 24-hour limit)."""

    __tablename__ = "x_rate_limits"

    endpoint: Mapped[str] = mapped_column(String(100), primary_key=True)
    limit: Mapped[int | None]
    remaining: Mapped[int | None]
    reset_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class XPostAttempt(Base):
    """One POST /2/tweets attempt, written with the `sending` commit: the configured
    budgets per 15 minutes and 24 hours count these, as X counts requests."""

    __tablename__ = "x_post_attempts"
    __table_args__ = (Index("ix_x_post_attempts_at", "attempted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None]
    outcome: Mapped[str | None] = mapped_column(String(16))


class DaemonHeartbeat(Base):
    """The running daemon, as `rapport status` and a second daemon see it (one row, id 1).

    Written at start, after each evaluation tick and at a clean stop; a row whose
    `stopped_at` is empty and whose `last_tick_at` is old belongs to a daemon that died.
    """

    __tablename__ = "daemon_heartbeat"

    id: Mapped[int] = mapped_column(primary_key=True)
    pid: Mapped[int]
    host: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime]
    last_tick_at: Mapped[datetime | None]
    last_tick_seconds: Mapped[float | None] = mapped_column(Float)
    rules_hash: Mapped[str | None] = mapped_column(String(64))
    rules_loaded_at: Mapped[datetime | None]
    last_reload_error: Mapped[str | None] = mapped_column(Text)
    stopped_at: Mapped[datetime | None]


class OperatorPause(Base):
    """An operator's pause (0009): all sending (cadence "*") or one cadence's, until resumed.

    In the database, not in the daemon's memory: `rapport pause` runs in another process,
    and a pause must outlive a restart."""

    __tablename__ = "operator_pauses"

    cadence: Mapped[str] = mapped_column(String(100), primary_key=True)
    paused_at: Mapped[datetime]


class DeletedPost(Base):
    """A post deleted on X (reported by X or listed by an operator, 0009): housekeeping
    removes its stored text; `purged_at` says it was done."""

    __tablename__ = "deleted_posts"

    post_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    reported_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(64))
    purged_at: Mapped[datetime | None]
