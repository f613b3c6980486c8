"""The X rules at send time (docs/x.md): the automatic channel is one reply to one summons.

`rapport validate` already refuses channel-x cadences without an engaged-first trigger;
this stage checks each actual candidate, because the API accepts a programmatic reply
only to a post whose author summoned the brand, and only one reply per such post. The
post must be the trigger itself (a mention, quote or reply carrying its post id), and
the ledger must not hold a reply to it already. Review-channel candidates pass untouched:
a person posts those.

Two candidates of this call replying to one post are settled in arbitration (caps.py),
not here: only a candidate that is actually sent claims the post, so one held back by a
cap or quiet hours leaves the post to the next candidate instead of to nobody.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.ledger.decisions import Reason
from engine.ledger.states import Channel
from engine.policy.candidates import Candidate, Verdict
from engine.policy.stage import Context, StageResult, drop, one_by_one
from engine.strategy.xrules import ENGAGED_FIRST_EVENT_TYPES


def _not_engaged_first(candidate: Candidate) -> str | None:
    """Why the candidate may not reply automatically, or None when it replies to its summons."""
    event = candidate.trigger_event
    if event is None or event.type not in ENGAGED_FIRST_EVENT_TYPES:
        kind = "no trigger event" if event is None else f"trigger is a {event.type}"
        return f"channel x only replies to a mention, quote or reply ({kind})"
    post_id = event.properties.get("post_id")
    if post_id in (None, ""):
        return f"the {event.type} has no post_id to reply to"
    if str(post_id) != candidate.in_reply_to:
        return f"reply to {candidate.in_reply_to} is not the summoning post {post_id}"
    return None


def x_gates(candidates: Sequence[Candidate], ctx: Context) -> StageResult:
    # Any channel: a summons reply that went to review (consent.py) answers the post too.
    replied = {past.in_reply_to for past in ctx.state.past_contacts if past.in_reply_to is not None}

    def verdict_of(candidate: Candidate) -> Verdict | None:
        if candidate.cadence.channel != Channel.X:
            return None
        why_not = _not_engaged_first(candidate)
        post = candidate.in_reply_to
        if why_not is not None or post is None:
            return drop(candidate, Reason.NOT_ENGAGED_FIRST, why_not or "")
        if post in replied:
            return drop(candidate, Reason.ALREADY_REPLIED, f"post {post} already has a reply")
        return None

    return one_by_one(candidates, verdict_of)
