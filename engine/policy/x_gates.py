"""The X rules at send time (DESIGN §2): the automatic channel is one reply to one summons.

`rapport validate` already refuses channel-x cadences without an engaged-first trigger;
this stage checks each actual candidate, because the API accepts a programmatic reply
only to a post whose author summoned the brand, and only one reply per such post. The
post must be the trigger itself (a mention, quote or reply carrying its tweet id), and
neither the ledger nor a higher-priority candidate in this same call may already have
claimed it. Review-channel candidates pass untouched: a person posts those.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.policy.candidates import Candidate, Verdict
from engine.policy.stage import Context, StageResult, drop
from engine.strategy.xrules import ENGAGED_FIRST_EVENT_TYPES


def _summoning_post(candidate: Candidate) -> str | None:
    """The tweet id the candidate may reply to, or None when nobody summoned the brand."""
    event = candidate.trigger_event
    if event is None or event.type not in ENGAGED_FIRST_EVENT_TYPES:
        return None
    tweet_id = event.properties.get("tweet_id")
    if tweet_id in (None, "") or str(tweet_id) != candidate.in_reply_to:
        return None
    return str(tweet_id)


def x_gates(candidates: Sequence[Candidate], ctx: Context) -> StageResult:
    replied = {
        past.in_reply_to
        for past in ctx.state.past_contacts
        if past.channel == "x" and past.in_reply_to is not None
    }
    kept: list[Candidate] = []
    verdicts: list[Verdict] = []
    for candidate in candidates:  # priority order: the first claim on a post wins
        if candidate.cadence.channel != "x":
            kept.append(candidate)
            continue
        post = _summoning_post(candidate)
        if post is None:
            detail = "channel x only replies to a mention, quote or reply of the customer"
            verdicts.append(drop(candidate, "not_engaged_first", detail))
        elif post in replied:
            verdicts.append(drop(candidate, "already_replied", f"post {post} already has a reply"))
        else:
            replied.add(post)
            kept.append(candidate)
    return kept, verdicts
