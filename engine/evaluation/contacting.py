"""Due steps → candidates → contact policy → rendered contacts, and decisions.

Only what the policy would send is rendered. A text the templates cannot produce must
never count against a cap, so a refusal is taken out and the rest decided again; such
a step waits (deferred) until the template is fixed or the step expires. A policy drop
(opted out, prospect, not engaged first, already replied) resolves the step for good; a
policy defer leaves it due for a later evaluation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from engine.config import Settings
from engine.evaluation.enrolments import DueStep, decision
from engine.evaluation.matching import FactSheet
from engine.evaluation.records import Changes, CustomerHistory, EnrolmentRecord, PlannedContact
from engine.facts.model import PastContact
from engine.ledger.decisions import DecisionOutcome as Outcome
from engine.ledger.decisions import Reason
from engine.ledger.states import Channel, ContactState
from engine.messages import (
    MessageContext,
    MessageRefusal,
    Rendered,
    TemplateLibrary,
    compose_message,
)
from engine.policy import decide
from engine.policy.candidates import Candidate, CustomerPolicyState, Verdict
from engine.policy.consent import delivery_channel
from engine.policy.keys import idempotency_key

Text = Rendered | MessageRefusal | None  # None: the policy did not send, nothing rendered


@dataclass(frozen=True)
class MessageSetup:
    settings: Settings
    library: TemplateLibrary
    brand: dict[str, Any]


def choose_variant(
    customer_external_id: str, cadence: str, step: str, variants: tuple[str, ...]
) -> str:
    """A/B split by customer: a hash, so a customer sees the same variant on every run."""
    if len(variants) == 1:
        return variants[0]
    digest = hashlib.sha256(f"{cadence}:{step}:{customer_external_id}".encode()).digest()
    return sorted(variants)[int.from_bytes(digest[:8], "big") % len(variants)]


def in_reply_to(due: DueStep) -> str | None:
    """Channel x replies to the summoning post; review messages stand on their own."""
    event = due.trigger_event
    if due.cadence.channel != Channel.X or event is None:
        return None
    post = event.properties.get("post_id")
    return str(post) if post is not None else None


def candidate_of(history: CustomerHistory, due: DueStep) -> Candidate:
    customer = history.customer
    variant = choose_variant(
        customer.external_id, due.cadence.name, due.step.name, due.step.variants
    )
    reply_to = in_reply_to(due)
    return Candidate(
        customer=customer,
        cadence=due.cadence,
        step=due.step,
        step_index=due.step_index,
        enrolment_id=due.enrolment.id,
        enrolment_start=due.enrolment.entered_at,
        due=due.due,
        trigger_event=due.trigger_event,
        variant=variant,
        template=dict(due.step.templates)[variant],
        idempotency_key=idempotency_key(
            customer.external_id,
            due.cadence.name,
            due.enrolment.entered_at,
            due.step.name,
            reply_to,
        ),
        in_reply_to=reply_to,
    )


def render(
    setup: MessageSetup,
    candidate: Candidate,
    *,
    history: CustomerHistory,
    sheet: FactSheet,
    now: datetime,
) -> Rendered | MessageRefusal:
    customer = candidate.customer
    if not customer.handle:
        return MessageRefusal(Reason.NO_HANDLE, "the customer has no X handle on file")
    event = candidate.trigger_event
    context = MessageContext.build(
        customer={
            "external_id": customer.external_id,
            "handle": customer.handle,
            "name": history.name,
            "timezone": customer.timezone,
            "kind": customer.kind,
            "attributes": customer.attributes,
        },
        event=sheet.events.get(event.id) if event is not None else None,
        cadence=candidate.cadence.name,
        step=candidate.step.name,
        brand=setup.brand,
        history=sheet.aggregates,
        now_utc=now,
        default_timezone=setup.settings.timezone,
    )
    return compose_message(
        setup.library,
        templates=[candidate.template],
        fallback=candidate.step.fallback,
        context=context,
        handle=customer.handle,
        allow_mentions=candidate.step.allow_mentions,
    )


@dataclass(kw_only=True)
class ContactRound:
    """One customer's due steps at one `now`, decided together (priority arbitration)."""

    setup: MessageSetup
    history: CustomerHistory
    sheet: FactSheet
    last_complaint_at: datetime | None
    now: datetime
    changes: Changes

    def run(self, due_steps: list[DueStep]) -> list[EnrolmentRecord]:
        """Decide; returns the enrolments whose step resolved (they may have another due)."""
        resolved: list[EnrolmentRecord] = []
        pending: dict[int, tuple[Candidate, DueStep]] = {}
        for due in due_steps:
            candidate = candidate_of(self.history, due)
            if candidate.idempotency_key in self.history.contact_keys:
                # Already in the ledger (an earlier run, another process): never twice.
                due.enrolment.resolve_step(
                    self.now, due.step_index, due.step.name, outcome=Outcome.PLANNED
                )
                resolved.append(due.enrolment)
                continue
            # By identity: the policy hands back the very candidate objects it was given.
            pending[id(candidate)] = (candidate, due)
        verdicts, refused = self._decide([c for c, _ in pending.values()])
        while refused:  # a text could not be made: decide again without it
            for key in refused:
                del pending[key]
            verdicts, refused = self._decide([c for c, _ in pending.values()])
        for verdict, rendered in verdicts:
            candidate, due = pending[id(verdict.candidate)]
            if verdict.outcome == "send":
                assert isinstance(rendered, Rendered)
                self._plan(candidate, rendered, due)
                resolved.append(due.enrolment)
            elif verdict.outcome == "drop":
                self._note(candidate, Outcome.DROPPED, verdict.reason, verdict.detail, None)
                due.enrolment.resolve_step(
                    self.now, due.step_index, due.step.name, outcome=Outcome.DROPPED
                )
                resolved.append(due.enrolment)
            else:
                self._note(candidate, Outcome.DEFERRED, verdict.reason, verdict.detail, None)
        return resolved

    def _decide(self, candidates: list[Candidate]) -> tuple[list[tuple[Verdict, Text]], list[int]]:
        """Verdicts with the rendered text of each send, and the candidates refused.

        Only what the policy would send is rendered (rendering is the costly part). A
        refusal is noted as deferred and must be taken out before deciding again, so that
        it never counts against a cap for the candidates after it.
        """
        policy = self.setup.settings.policy
        verdicts = decide(candidates, self._state(), self.now, policy)
        results: list[tuple[Verdict, Text]] = []
        refused: list[int] = []
        for verdict in verdicts:
            rendered: Text = None
            if verdict.outcome == "send":
                rendered = render(
                    self.setup,
                    verdict.candidate,
                    history=self.history,
                    sheet=self.sheet,
                    now=self.now,
                )
                if isinstance(rendered, MessageRefusal):
                    refused.append(id(verdict.candidate))
                    reason, detail = rendered.reason, rendered.detail
                    self._note(verdict.candidate, Outcome.DEFERRED, reason, detail, rendered)
            results.append((verdict, rendered))
        return results, refused

    def _state(self) -> CustomerPolicyState:
        return CustomerPolicyState(
            past_contacts=tuple(self.history.past_contacts),
            suppressions=tuple(self.history.suppressions),
            last_complaint_at=self.last_complaint_at,
        )

    def _plan(self, candidate: Candidate, rendered: Rendered, due: DueStep) -> None:
        customer, cadence = candidate.customer, candidate.cadence
        channel = delivery_channel(candidate, self.setup.settings.policy, self.now)
        contact = PlannedContact(
            customer_id=customer.id,
            enrolment=due.enrolment,
            cadence=cadence.name,
            step=candidate.step.name,
            variant=candidate.variant,
            idempotency_key=candidate.idempotency_key,
            text=rendered.text,
            channel=channel,
            state=ContactState.first(channel),
            in_reply_to=candidate.in_reply_to,
            planned_at=self.now,
            handle=customer.handle,
            customer_external_id=customer.external_id,
            template=rendered.template,
            weighted_length=rendered.weighted_length,
        )
        self.changes.contacts.append(contact)
        self.history.contact_keys.add(candidate.idempotency_key)
        self.history.past_contacts.append(
            PastContact(cadence.name, self.now, channel.value, candidate.in_reply_to)
        )
        due.enrolment.resolve_step(self.now, due.step_index, due.step.name, outcome=Outcome.PLANNED)
        self._note(
            candidate,
            Outcome.PLANNED,
            Reason.SENT_TO_OUTBOX,
            f"{channel}: {rendered.template}",
            rendered,
        )

    def _note(
        self, candidate: Candidate, outcome: Outcome, reason: Reason, detail: str, rendered: Text
    ) -> None:
        record = decision(
            self.history,
            cadence=candidate.cadence.name,
            step=candidate.step.name,
            outcome=outcome,
            reason=reason,
            detail=detail,
            at=self.now,
        )
        self.changes.decisions.append(
            replace(
                record,
                variant=candidate.variant,
                channel=candidate.cadence.channel,
                text=(rendered.text if rendered else None) or "",
                weighted_length=rendered.weighted_length if rendered else None,
            )
        )
