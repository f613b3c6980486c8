"""What must hold for a reviewer's edit or approval to stand, each failure with its reason.

- An edited text goes through the checks a rendered text goes through: X's weighted
  length (280), the recipient's @handle, no other @handle unless the step allows it.
- The recipient may still be contacted: no active suppression, no opt-out (an `opt_out`
  event or an opt-out word in a reply or mention, even one the evaluation has not turned
  into a suppression yet), no complaint within `policy.complaint_block` (forever without
  it) — the same rules as the contact policy's.
- At approval, the caps and `min_gap` still allow a message *now*: the message is about
  to go out, so it counts at the approval time, against the messages that went out or are
  on their way (approved, sending, sent, unknown, planned), each at the time it went out
  (sent), was approved (approved) or was planned (the rest). Other messages still waiting
  for review do not count: each is checked when it is approved.
- Pending messages expire `review.expires` after they were generated, approved ones the
  same time after they were approved (docs/review.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.config import Cap, Policy
from engine.durations import format_duration
from engine.history.models import Contact, Customer, Event, Suppression
from engine.ledger.states import ContactState
from engine.messages.compose import NO_HANDLE, OTHER_MENTIONS, TOO_LONG
from engine.messages.length import MAX_WEIGHTED_LENGTH, mentions, weighted_length
from engine.policy.caps import overfills
from engine.policy.opt_out import OPT_OUT_EVENT, OPT_OUT_TEXT_EVENT_TYPES, opt_out_signal
from engine.policy.stage import utc_text
from engine.policy.suppression import OPTED_OUT

COMPLAINT_EVENT = "complaint"
# Messages that went out or are on their way: what a cap or min_gap holds against now.
GONE_OUT = frozenset(
    {
        ContactState.PLANNED,
        ContactState.APPROVED,
        ContactState.SENDING,
        ContactState.SENT,
        ContactState.UNKNOWN,
    }
)


@dataclass(frozen=True)
class Refusal:
    """Why an edit or approval cannot stand: a short reason and the sentence for a person."""

    reason: str
    detail: str


def text_refusal(text: str, *, handle: str, allow_mentions: bool) -> Refusal | None:
    """The checks a rendered text passes, applied to a reviewer's text."""
    if not text.strip():
        return Refusal("empty", "the text is empty")
    length = weighted_length(text)
    if length > MAX_WEIGHTED_LENGTH:
        return Refusal(
            TOO_LONG,
            f"the text is {length} weighted characters, over X's {MAX_WEIGHTED_LENGTH}"
            f" (shorten it by {length - MAX_WEIGHTED_LENGTH}; links count 23, emoji and"
            " most non-Latin characters 2)",
        )
    found = mentions(text)
    wanted = handle.lstrip("@").lower()
    if wanted not in {name.lower() for name in found}:
        return Refusal(NO_HANDLE, f"the text does not mention the recipient @{handle}; add it")
    others = sorted({f"@{name}" for name in found if name.lower() != wanted})
    if others and not allow_mentions:
        return Refusal(
            OTHER_MENTIONS,
            f"the text mentions {', '.join(others)}; only the recipient @{handle} may be"
            " mentioned (the step does not set allow_mentions: true)",
        )
    return None


def recipient_refusal(
    session: Session, customer: Customer, *, policy: Policy, now: datetime
) -> Refusal | None:
    """Suppressed, opted out or complained since the message was generated."""
    handle_key = (customer.handle or "").lower() or None
    condition = Suppression.customer_id == customer.id
    if handle_key is not None:
        condition = or_(condition, Suppression.handle_key == handle_key)
    for suppression in session.scalars(select(Suppression).where(condition)):
        if suppression.until is None or suppression.until > now:
            until = (
                "forever" if suppression.until is None else f"until {utc_text(suppression.until)}"
            )
            reason = OPTED_OUT if suppression.reason == OPTED_OUT else "suppressed"
            return Refusal(reason, f"the customer is suppressed ({suppression.reason}) {until}")
    events = session.scalars(
        select(Event)
        .where(Event.customer_id == customer.id, Event.occurred_at <= now)
        .where(Event.type.in_([OPT_OUT_EVENT, COMPLAINT_EVENT, *OPT_OUT_TEXT_EVENT_TYPES]))
        .order_by(Event.occurred_at, Event.id)
    ).all()
    for event in events:
        signal = opt_out_signal(event.type, event.properties, policy.opt_out_words)
        if signal is not None:
            return Refusal(
                OPTED_OUT, f"the customer opted out ({signal}) at {utc_text(event.occurred_at)}"
            )
    return _complaint_refusal(
        [e.occurred_at for e in events if e.type == COMPLAINT_EVENT], policy, now
    )


def _complaint_refusal(times: list[datetime], policy: Policy, now: datetime) -> Refusal | None:
    if not times:
        return None
    last, block = max(times), policy.complaint_block
    if block is not None and last <= now - block:
        return None
    how_long = "" if block is None else f" for {format_duration(block)}"
    return Refusal(
        "complaint_block",
        f"the customer complained at {utc_text(last)}; that blocks proactive contact{how_long}",
    )


def _went_out_at(contact: Contact) -> datetime:
    if contact.state == ContactState.SENT and contact.sent_at is not None:
        return contact.sent_at
    if contact.state == ContactState.APPROVED and contact.reviewed_at is not None:
        return contact.reviewed_at
    return contact.planned_at


def limits_refusal(
    session: Session,
    contact: Contact,
    *,
    policy: Policy,
    cadence_cap: Cap | None,
    now: datetime,
) -> Refusal | None:
    """A cap or min_gap that one more message now would break, given what went out."""
    others = session.scalars(
        select(Contact).where(
            Contact.customer_id == contact.customer_id,
            Contact.id != contact.id,
            Contact.state.in_([s.value for s in GONE_OUT]),
        )
    ).all()
    limits: list[tuple[str, Cap, Iterable[Contact]]] = []
    if cadence_cap is not None:
        own = [o for o in others if o.cadence == contact.cadence]
        limits.append(("cadence_cap", cadence_cap, own))
    limits += [("cap", cap, others) for cap in policy.caps]
    for reason, cap, counted in limits:
        times = [_went_out_at(o) for o in counted]
        if overfills(times, now, cap.per, cap.max):
            name = "cadence cap" if reason == "cadence_cap" else "cap"
            return Refusal(
                reason,
                f"{name} {cap.max} per {format_duration(cap.per)} is full now: "
                + _latest(counted, now - cap.per),
            )
    gap = policy.min_gap
    close = [o for o in others if gap is not None and abs(_went_out_at(o) - now) < gap]
    if gap is not None and close:
        return Refusal("min_gap", f"min_gap {format_duration(gap)}: " + _latest(close, now - gap))
    return None


def _latest(contacts: Iterable[Contact], since: datetime) -> str:
    """The newest message that counts, said so the reviewer can find it."""
    counted = list(contacts)
    recent = [c for c in counted if _went_out_at(c) > since] or counted
    if not recent:
        return "it allows no message"
    newest = max(recent, key=_went_out_at)
    return (
        f"message {newest.id} ({newest.cadence}/{newest.step}, {newest.state})"
        f" at {utc_text(_went_out_at(newest))}"
    )


def expires_at(contact: Contact, expires: timedelta) -> datetime | None:
    """When a pending or approved message expires; None in any other state."""
    if contact.state == ContactState.PENDING_REVIEW:
        return contact.planned_at + expires
    if contact.state == ContactState.APPROVED:
        return (contact.reviewed_at or contact.planned_at) + expires
    return None
