"""Suppression and complaint block: the customer said no, so nothing else matters.

First in the pipeline because it is the one rule with no exception (docs/compliance.md: honour
"stop" at once; no unsolicited contact with people who complained). A suppression drops
the candidate.

A complaint blocks proactive contact (channel review: thank-yous, check-ins, prospecting)
forever, or for `policy.complaint_block` when one is configured (deferred until it ends).
A channel-x reply to a post in which the customer summoned the brand is solicited, so it
passes: answering someone who just wrote to us, complaint or not, is not unsolicited.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from engine.durations import format_duration
from engine.facts.model import SuppressionFacts
from engine.ledger.decisions import Reason
from engine.ledger.states import Channel
from engine.policy.candidates import Candidate, Verdict
from engine.policy.opt_out import opt_out_signal
from engine.policy.stage import Context, StageResult, defer, drop, utc_text

OPTED_OUT = Reason.OPTED_OUT  # also the suppressions.reason of an opt-out


def _active(suppressions: Sequence[SuppressionFacts], now: datetime) -> SuppressionFacts | None:
    """The strongest active suppression: an opt-out wins over any other reason."""
    active = [s for s in suppressions if s.until is None or s.until > now]
    opted_out = [s for s in active if s.reason == OPTED_OUT]
    strongest = opted_out or active
    return strongest[0] if strongest else None


def _opt_out_in_triggers(candidates: Sequence[Candidate], ctx: Context) -> str | None:
    """An opt-out word in any trigger suppresses the whole customer in this very call."""
    for candidate in candidates:
        event = candidate.trigger_event
        if event is None:
            continue
        found = opt_out_signal(event.type, event.properties, ctx.policy.opt_out_words)
        if found is not None:
            return found
    return None


def drop_suppressed(candidates: Sequence[Candidate], ctx: Context) -> StageResult:
    suppression = _active(ctx.state.suppressions, ctx.now)
    if suppression is not None:
        reason = OPTED_OUT if suppression.reason == OPTED_OUT else Reason.SUPPRESSED
        until = "forever" if suppression.until is None else f"until {utc_text(suppression.until)}"
        detail = f"suppressed ({suppression.reason}) {until}"
        return [], [drop(c, reason, detail) for c in candidates]
    found = _opt_out_in_triggers(candidates, ctx)
    if found is not None:
        return [], [drop(c, OPTED_OUT, f"opted out: {found}") for c in candidates]
    return list(candidates), []


def block_after_complaint(candidates: Sequence[Candidate], ctx: Context) -> StageResult:
    block, complained = ctx.policy.complaint_block, ctx.state.last_complaint_at
    if complained is None or (block is not None and complained <= ctx.now - block):
        return list(candidates), []
    kept: list[Candidate] = []
    verdicts: list[Verdict] = []
    for candidate in candidates:
        if candidate.cadence.channel == Channel.X:  # a reply to a summons: solicited
            kept.append(candidate)
        elif block is None:
            detail = f"complaint at {utc_text(complained)} blocks proactive contact"
            verdicts.append(drop(candidate, Reason.COMPLAINT_BLOCK, detail))
        else:
            detail = (
                f"complaint at {utc_text(complained)} blocks proactive contact"
                f" for {format_duration(block)}"
            )
            verdicts.append(defer(candidate, Reason.COMPLAINT_BLOCK, detail, complained + block))
    return kept, verdicts
