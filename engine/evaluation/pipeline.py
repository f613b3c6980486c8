"""One evaluation at `now`: batches of customers through facts → matcher → enrolments →
policy → templates → a sink.

Run, preview, explain and simulate all call `evaluate`; only the sink differs.
Per batch: bulk reads (engine/facts/loading.py), trigger plans (triggers.py), one matcher
call for every trigger condition of the batch (matching.py), then per customer in this
order: opt-outs, new enrolments, exits, due steps (enrolments.py), decided and rendered
(contacting.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, partial

from engine.config import Settings
from engine.evaluation.contacting import ContactRound, MessageSetup
from engine.evaluation.enrolments import DueStep, Enrolments, TriggerMatches, decision
from engine.evaluation.matching import ConditionSet, FactSheet
from engine.evaluation.records import Changes, CustomerHistory, ResolvedStep
from engine.evaluation.signals import last_complaint_at, new_opt_outs, withdrawals
from engine.evaluation.summary import Summary
from engine.evaluation.triggers import TriggerPlan, go_live, plan_triggers
from engine.facts.loading import (
    DEFAULT_BATCH_SIZE,
    customer_id_batches,
    load_batch,
    load_launches,
)
from engine.history.db import Database
from engine.ledger.decisions import DecisionOutcome as Outcome
from engine.ledger.decisions import Reason
from engine.ledger.sinks import Sink
from engine.messages import TemplateLibrary
from engine.policy.holdout import holdout_group
from engine.strategy.model import Cadence, Strategy, templates_of

# The cadence column of an "evaluation_error" decision: the failure is the customer's,
# before or across cadences, not one cadence's.
ERROR_CADENCE = "*"


@dataclass(frozen=True)
class Evaluation:
    """What is fixed for one evaluation: the rules, the settings, `now`, go-lives."""

    strategy: Strategy
    settings: Settings
    now: datetime
    cadences: tuple[Cadence, ...]  # priority order; all, or the one asked for
    go_lives: dict[str, datetime]
    launches: dict[str, datetime]  # cadences seen for the first time now
    conditions: ConditionSet
    messages: MessageSetup

    @cached_property  # asked once per customer: built once per evaluation
    def by_name(self) -> dict[str, Cadence]:
        return {c.name: c for c in self.cadences}

    def holdout_reason(self, customer_external_id: str) -> Callable[[Cadence], Reason | None]:
        policy = self.settings.policy

        def reason(cadence: Cadence) -> Reason | None:
            return holdout_group(customer_external_id, cadence.name, cadence.holdout, policy)

        return reason


def prepare(
    db: Database,
    strategy: Strategy,
    settings: Settings,
    *,
    now: datetime,
    library: TemplateLibrary,
    cadence: str | None = None,
) -> Evaluation:
    """Go-live per cadence and the compiled conditions, once per evaluation."""
    cadences = tuple(c for c in strategy.cadences if cadence is None or c.name == cadence)
    launched = load_launches(db)
    return build_evaluation(
        strategy,
        settings,
        now=now,
        library=library,
        cadences=cadences,
        go_lives={c.name: go_live(c, launched, now) for c in cadences},
        launches={c.name: now for c in cadences if c.name not in launched},
    )


def build_evaluation(
    strategy: Strategy,
    settings: Settings,
    *,
    now: datetime,
    library: TemplateLibrary,
    cadences: tuple[Cadence, ...],
    go_lives: dict[str, datetime],
    launches: dict[str, datetime],
) -> Evaluation:
    """An Evaluation from decided go-lives; worker processes rebuild theirs with this."""
    brand = settings.brand.as_context()
    return Evaluation(
        strategy=strategy,
        settings=settings,
        now=now,
        cadences=cadences,
        go_lives=go_lives,
        launches=launches,
        # raises InvalidInput for a broken template: the run refuses to start
        conditions=ConditionSet.of(
            cadences, templates=library.history_needs(templates_of(cadences))
        ),
        messages=MessageSetup(settings, library, brand),
    )


def evaluate(
    db: Database,
    evaluation: Evaluation,
    sink: Sink,
    *,
    mode: str,
    customer_ids: Sequence[int] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int = 1,
) -> Summary:
    """Stream the customers in batches; each batch's changes go to the sink at once.

    With `workers` > 1 the batches are evaluated in that many processes (durable_rules
    allows one engine per process) while this process keeps the sink: writes stay
    single-writer and in batch order, so the outcome equals a one-process pass.
    """
    summary = Summary(evaluation.now)
    sink.begin(evaluation.now, mode, evaluation.strategy.version_hash)
    if evaluation.launches:
        sink.apply(Changes(launches=dict(evaluation.launches)))
    batches = customer_id_batches(db, batch_size=batch_size, only=customer_ids)
    if workers > 1:
        from engine.evaluation.parallel import evaluate_in_workers

        results: Iterable[tuple[Changes, int]] = evaluate_in_workers(
            db, evaluation, batches, workers
        )
    else:
        results = (evaluate_ids(db, evaluation, ids) for ids in batches)
    for changes, evaluated in results:
        sink.apply(changes)
        summary.add(changes, evaluated)
    sink.finish(summary.as_dict())
    return summary


def evaluate_ids(db: Database, evaluation: Evaluation, ids: Sequence[int]) -> tuple[Changes, int]:
    """One batch: bulk reads, then the pipeline; returns the changes and how many customers."""
    histories = load_batch(db, ids, evaluation.now, evaluation.settings.timezone)
    return evaluate_batch(evaluation, histories), len(histories)


def evaluate_batch(evaluation: Evaluation, histories: Sequence[CustomerHistory]) -> Changes:
    """The batch's changes; a customer whose evaluation fails is left out (see `isolated`)."""
    now = evaluation.now
    changes = Changes()
    prepared: list[tuple[CustomerHistory, FactSheet, TriggerPlan]] = []
    for history in histories:
        with isolated(history, now, changes):
            plan = plan_triggers(history, evaluation.cadences, evaluation.go_lives, now)
            prepared.append((history, evaluation.conditions.facts_of(history, now), plan))
    for (history, sheet, plan), matched in _trigger_matches(evaluation, prepared, changes):
        with isolated(history, now, changes) as own:
            evaluate_customer(
                evaluation, history, facts=sheet, plan=plan, matches=matched, changes=own
            )
    return changes


def _trigger_matches(
    evaluation: Evaluation,
    prepared: list[tuple[CustomerHistory, FactSheet, TriggerPlan]],
    changes: Changes,
) -> list[tuple[tuple[CustomerHistory, FactSheet, TriggerPlan], TriggerMatches]]:
    """One matcher call for the batch; if it fails, one call per customer to find whom."""
    conditions = evaluation.conditions
    histories, sheets, plans = (
        [p[0] for p in prepared],
        [p[1] for p in prepared],
        [p[2] for p in prepared],
    )
    try:
        matches = conditions.trigger_matches(histories, sheets, plans)
        return list(zip(prepared, matches, strict=True))
    except Exception:  # retried customer by customer just below
        pass
    found: list[tuple[tuple[CustomerHistory, FactSheet, TriggerPlan], TriggerMatches]] = []
    for one in prepared:
        with isolated(one[0], evaluation.now, changes):
            found.append((one, conditions.trigger_matches([one[0]], [one[1]], [one[2]])[0]))
    return found


@contextmanager
def isolated(history: CustomerHistory, now: datetime, changes: Changes) -> Iterator[Changes]:
    """One customer's changes, merged into the batch's only if their evaluation succeeds.

    A row nobody foresaw (odd data written by another tool, a bug in one rule) must not
    stop contact for everyone else: the customer's partial changes are discarded and an
    "evaluation_error" drop says what went wrong; the next evaluation tries again.
    """
    own = Changes()
    try:
        yield own
    except Exception as exc:  # contained to this customer
        detail = f"{type(exc).__name__}: {exc}"
        changes.decisions.append(
            decision(
                history,
                cadence=ERROR_CADENCE,
                step=None,
                outcome=Outcome.DROPPED,
                reason=Reason.EVALUATION_ERROR,
                detail=detail,
                at=now,
            )
        )
    else:
        changes.extend(own)


def evaluate_customer(
    evaluation: Evaluation,
    history: CustomerHistory,
    *,
    facts: FactSheet,
    plan: TriggerPlan,
    matches: TriggerMatches,
    changes: Changes,
) -> None:
    """In this order: opt-outs, new enrolments, exits, then due steps until none is left."""
    now, settings = evaluation.now, evaluation.settings
    changes.suppressions += new_opt_outs(history, settings.policy.opt_out_words, now)
    changes.withdrawals += withdrawals(history, now)
    known = {id(e) for e in history.enrolments}
    enrolments = Enrolments(
        history,
        now,
        step_when=partial(evaluation.conditions.step_holds, facts),
        holdout_reason=evaluation.holdout_reason(history.customer.external_id),
    )
    created, decisions = enrolments.enrol(
        evaluation.cadences,
        plan=plan,
        matches=matches,
        rules_version=evaluation.strategy.version_hash,
    )
    changes.new_enrolments += created
    changes.decisions += decisions
    by_name = evaluation.by_name
    changes.decisions += enrolments.apply_exits(by_name)
    contact_round = ContactRound(
        setup=evaluation.messages,
        history=history,
        sheet=facts,
        last_complaint_at=last_complaint_at(history),
        now=now,
        changes=changes,
    )
    pending = [e for e in history.enrolments if e.ongoing and e.cadence in by_name]
    while pending:
        due_steps: list[DueStep] = []
        for enrolment in pending:
            advanced = enrolments.advance(enrolment, by_name[enrolment.cadence])
            changes.decisions += advanced.decisions
            if advanced.due is not None:
                due_steps.append(advanced.due)
        pending = contact_round.run(due_steps) if due_steps else []
    changes.enrolment_updates += [e for e in history.enrolments if e.changed and id(e) in known]
    changes.resolutions += resolved_steps(history)


def resolved_steps(history: CustomerHistory) -> list[ResolvedStep]:
    """This evaluation's step resolutions, for the ledger (each taken once)."""
    found = []
    for enrolment in history.enrolments:
        arm = "control" if enrolment.state == "held_out" else "treatment"
        found += [
            ResolvedStep(enrolment, step, arm, outcome, at)
            for step, at, outcome in enrolment.resolutions
        ]
        enrolment.resolutions.clear()
    return found
