"""`rapport explain CUSTOMER`: for each cadence, enrolled or not and why, the step that is
due, and why it would or would not be sent — from the very preview evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.clock import as_utc
from engine.config import Settings
from engine.durations import format_duration
from engine.errors import RapportError
from engine.evaluation.pipeline import Evaluation, evaluate, prepare
from engine.evaluation.records import CustomerHistory, EnrolmentRecord, json_safe
from engine.evaluation.triggers import (
    audience_allows,
    date_instant,
    date_live_from,
    enrolled_for_date,
    event_candidates,
    next_date_instant,
    plan_triggers,
)
from engine.facts.loading import find_customer_ids, load_batch
from engine.history.db import Database
from engine.ledger.sinks import RecordingSink
from engine.messages import TemplateLibrary
from engine.modes.explain_values import ExplainValues
from engine.strategy import load_strategy
from engine.strategy.model import Cadence, ConditionTrigger, DateTrigger, EventTrigger


@dataclass(frozen=True)
class Explained:
    """One customer's explained evaluation: what it read, what it decided and left."""

    db: Database
    settings: Settings
    now: datetime
    evaluation: Evaluation
    history: CustomerHistory  # as read before the evaluation
    sink: RecordingSink  # what the evaluation decided
    enrolments: list[EnrolmentRecord]  # as the evaluation left them
    not_enrolled: dict[str, str]


def explain_run(db: Database, settings: Settings, customer: str, *, now: datetime) -> Explained:
    """The preview evaluation of one customer, kept whole for the text and json answers."""
    now = as_utc(now)
    ids = find_customer_ids(db, customer)
    if not ids:
        raise RapportError(f"no customer with id or handle {customer!r}")
    strategy = load_strategy(settings.rules_dir, templates_dir=settings.templates_dir)
    library = TemplateLibrary(settings.templates_dir)
    evaluation = prepare(db, strategy, settings, now=now, library=library)
    (history,) = load_batch(db, ids[:1], now, settings.timezone)
    not_enrolled = _why_not_enrolled(evaluation, history)
    sink = RecordingSink()
    # The very evaluation prepared above: rules, go-lives and matcher are built once.
    evaluate(db, evaluation, sink, mode="preview", customer_ids=ids)
    updated = {e.id: e for e in sink.changes.enrolment_updates}
    enrolments = [updated.get(e.id, e) for e in history.enrolments] + sink.changes.new_enrolments
    return Explained(db, settings, now, evaluation, history, sink, enrolments, not_enrolled)


def explain(db: Database, settings: Settings, customer: str, *, now: datetime) -> list[str]:
    """Every read in one snapshot: the reasons and the evaluation see the same history."""
    with db.snapshot():
        return _explain(db, settings, customer, now=as_utc(now))


def _explain(db: Database, settings: Settings, customer: str, *, now: datetime) -> list[str]:
    run = explain_run(db, settings, customer, now=now)
    now, sink, enrolments, not_enrolled = run.now, run.sink, run.enrolments, run.not_enrolled
    values = ExplainValues.of(run)
    c = run.history.customer
    lines = [
        f"customer {c.external_id} (@{c.handle or '-'}, {c.kind}, {c.timezone}) at {json_safe(now)}"
    ]
    for cadence in run.evaluation.strategy.cadences:
        lines.append(f"{cadence.name} (priority {cadence.priority}, channel {cadence.channel}):")
        mine = [e for e in enrolments if e.cadence == cadence.name]
        if mine:
            lines += [f"  {_describe(e, cadence, now)}" for e in mine[-2:]]
            settled = not any(e.ongoing or e.id is None for e in mine)
            if settled and cadence.name in not_enrolled:
                lines.append(f"  not enrolled again: {not_enrolled[cadence.name]}")
        else:
            lines.append(f"  not enrolled: {not_enrolled.get(cadence.name, 'trigger not met')}")
        lines += [f"  {line}" for line in values.condition_lines(cadence.name)]
        for d in sink.changes.decisions:
            if d.cadence == cadence.name:
                step = f"step {d.step}: " if d.step else ""
                detail = f" ({d.detail})" if d.detail else ""
                lines.append(f"  {step}{d.outcome} — {d.reason}{detail}")
                if d.text:
                    lines.append(f"    {d.text}")
    return lines + values.customer_lines()


def _describe(enrolment: EnrolmentRecord, cadence: Cadence, now: datetime) -> str:
    since = json_safe(enrolment.entered_at)
    new = " (new in this evaluation)" if enrolment.id is None else ""
    if not enrolment.ongoing:
        ended = json_safe(enrolment.ended_at) if enrolment.ended_at else "?"
        return f"enrolled {since}{new}, {enrolment.state}, ended {ended}"
    index = enrolment.next_step_index([s.name for s in cadence.steps])
    if index >= len(cadence.steps):
        return f"enrolled {since}{new}, {enrolment.state}, all steps resolved"
    step = cadence.steps[index]
    due = enrolment.next_due(step.after)
    when = "due now" if due <= now else f"due {json_safe(due)}"
    return (
        f"enrolled {since}{new}, {enrolment.state}: step {index + 1} of {len(cadence.steps)}"
        f" '{step.name}' {when}"
    )


def _why_not_enrolled(evaluation: Evaluation, history: CustomerHistory) -> dict[str, str]:
    """Before the evaluation: why each cadence could not enrol this customer now."""
    now = evaluation.now
    plan = plan_triggers(history, evaluation.cadences, evaluation.go_lives, now)
    sheet = evaluation.conditions.facts_of(history, now)
    (matched,) = evaluation.conditions.trigger_matches([history], [sheet], [plan])
    reasons = {}
    for cadence in evaluation.cadences:
        trigger, live = cadence.trigger, json_safe(evaluation.go_lives[cadence.name])
        if not audience_allows(cadence, history.customer.kind):
            reasons[cadence.name] = (
                f"audience is {cadence.audience}, this is a {history.customer.kind}"
            )
        elif isinstance(trigger, EventTrigger):
            seen = event_candidates(
                history.events, trigger.event, [], evaluation.go_lives[cadence.name]
            )
            if not seen:
                reasons[cadence.name] = f"no {trigger.event} event since go-live {live}"
            elif cadence.name not in plan.events:
                reasons[cadence.name] = (
                    f"reentry {_reentry_text(cadence)} or an active enrolment blocks"
                )
            elif trigger.where is not None:
                reasons[cadence.name] = f"where is false for every candidate: {trigger.where.text}"
        elif isinstance(trigger, ConditionTrigger):
            if cadence.name not in plan.conditions:
                reasons[cadence.name] = (
                    f"reentry {_reentry_text(cadence)} or an active enrolment blocks"
                )
            elif (cadence.name, None) not in matched:
                reasons[cadence.name] = f"when is false now: {trigger.when.text}"
        elif isinstance(trigger, DateTrigger) and cadence.name not in plan.dates:
            reasons[cadence.name] = _why_no_date(cadence, trigger, history, evaluation)
    return reasons


def _why_no_date(
    cadence: Cadence, trigger: DateTrigger, history: CustomerHistory, evaluation: Evaluation
) -> str:
    """The first of: no value, an unusable value, before go-live, this year's done, reentry."""
    name = f"customer.{trigger.attribute}"
    value = history.customer.attributes.get(trigger.attribute)
    if value is None or value == "":
        return f"no {name} on file"
    timezone, now = history.customer.timezone, evaluation.now
    instant = date_instant(value, timezone, now)
    if instant is None:
        return f"{name} {value!r} is not a usable date (write dates as YYYY-MM-DD)"
    following = next_date_instant(value, timezone, instant)
    upcoming = f" (next: {json_safe(following)})" if following is not None else ""
    go_live = evaluation.go_lives[cadence.name]
    if instant < date_live_from(go_live, timezone):
        return (
            f"the latest {name}, {json_safe(instant)}, is before go-live"
            f" {json_safe(go_live)}{upcoming}"
        )
    previous = history.enrolments_of(cadence.name)
    if enrolled_for_date(previous, instant):
        return f"already enrolled for {json_safe(instant)}{upcoming}"
    return f"reentry {_reentry_text(cadence)} or an active enrolment blocks{upcoming}"


def _reentry_text(cadence: Cadence) -> str:
    """As the rule file says it: never, always, 180d (or yearly, a date trigger's default)."""
    after = cadence.reentry.after
    return cadence.reentry.kind if after is None else format_duration(after)
