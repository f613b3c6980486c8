"""Caps, min_gap and arbitration: how much contact one customer gets, and from whom.

The ledger (the contacts table) is the single source of truth: caps and min_gap count its rows,
never a counter kept elsewhere. Candidates are taken in priority order (higher first,
then cadence name); each is sent only if every cap and min_gap still allow it after the
sends decided before it in this call, which count at `now`. The rest wait: they stay due
until they expire, so arbitration defers and never drops — except a channel-x reply to a
post that a send before it in this call already replies to (docs/compliance.md: one reply per
post), which is dropped as "already_replied". Only a send claims a post: a candidate
held back here or by an earlier stage leaves the post to the next one.

docs/time.md counts contacts in (now − per, now]. With evaluations moving forward in time
that is the whole story. A ledger row planned after `now` (an `--at` in the past, clock
skew between workers) is counted too: a contact is refused when it would overfill any
window (t − per, t] containing `now`, and min_gap holds on both sides. For forward
evaluations this is exactly the (now − per, now] rule.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.durations import format_duration
from engine.facts.model import PastContact
from engine.ledger.decisions import Reason
from engine.ledger.states import Channel
from engine.policy.candidates import Candidate, Verdict
from engine.policy.stage import Context, StageResult, defer, drop, utc_text


@dataclass(frozen=True)
class Blocked:
    reason: Reason
    detail: str
    retry_at: datetime | None


def overfills(times: Sequence[datetime], now: datetime, per: timedelta, limit: int) -> bool:
    """True when one more contact at `now` puts more than `limit` in some window of `per`."""
    if limit <= 0:
        return True
    near = sorted(t for t in times if now - per < t < now + per)
    for end in [now, *(t for t in near if t > now)]:
        inside = bisect_right(near, end) - bisect_right(near, end - per)
        if inside + 1 > limit:
            return True
    return False


def _cap_frees_at(
    times: Sequence[datetime], now: datetime, per: timedelta, limit: int
) -> datetime | None:
    """When enough past contacts leave the window for one more; None when that never
    happens (max 0) or when contacts planned after `now` are what blocks (no cheap guess)."""
    past = sorted(t for t in times if now - per < t <= now)
    if limit <= 0 or len(past) < limit:
        return None
    return past[len(past) - limit] + per


def _cap_check(
    times: Sequence[datetime], now: datetime, max_: int, per: timedelta, reason: Reason, name: str
) -> Blocked | None:
    if not overfills(times, now, per, max_):
        return None
    detail = f"{name} {max_} per {format_duration(per)} reached"
    return Blocked(reason, detail, _cap_frees_at(times, now, per, max_))


def _min_gap_check(times: Sequence[datetime], now: datetime, gap: timedelta) -> Blocked | None:
    close = [t for t in times if abs(t - now) < gap]
    if not close:
        return None
    last = max(close)
    detail = f"min_gap {format_duration(gap)}: a contact at {utc_text(last)}"
    return Blocked(Reason.MIN_GAP, detail, last + gap)


def blocked_by_caps(
    candidate: Candidate, ledger: Sequence[PastContact], ctx: Context
) -> Blocked | None:
    """The first limit that stops `candidate`: cadence cap, then global caps, then min_gap."""
    now, cadence = ctx.now, candidate.cadence
    if cadence.cap is not None:
        own = [p.planned_at for p in ledger if p.cadence == cadence.name]
        blocked = _cap_check(
            own, now, cadence.cap.max, cadence.cap.per, Reason.CADENCE_CAP, "cadence cap"
        )
        if blocked is not None:
            return blocked
    everything = [p.planned_at for p in ledger]
    for rule in ctx.policy.caps:
        blocked = _cap_check(everything, now, rule.max, rule.per, Reason.CAP, "cap")
        if blocked is not None:
            return blocked
    if ctx.policy.min_gap is not None:
        return _min_gap_check(everything, now, ctx.policy.min_gap)
    return None


def arbitrate(candidates: Sequence[Candidate], ctx: Context) -> StageResult:
    """Sequential: each send joins the ledger at `now` before the next candidate is checked."""
    ledger = list(ctx.state.past_contacts)
    sent: list[Candidate] = []
    verdicts: list[Verdict] = []
    claimed: set[str] = set()  # posts a send of this call replies to
    for candidate in candidates:
        post = candidate.in_reply_to if candidate.cadence.channel == Channel.X else None
        if post is not None and post in claimed:
            detail = f"post {post} already has a reply"
            verdicts.append(drop(candidate, Reason.ALREADY_REPLIED, detail))
            continue
        blocked = blocked_by_caps(candidate, ledger, ctx)
        if blocked is not None:
            verdicts.append(defer(candidate, blocked.reason, blocked.detail, blocked.retry_at))
            continue
        sent.append(candidate)
        if post is not None:
            claimed.add(post)
        ledger.append(
            PastContact(
                candidate.cadence.name, ctx.now, candidate.cadence.channel, candidate.in_reply_to
            )
        )
    return sent, verdicts
