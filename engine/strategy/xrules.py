"""The X rules (docs/x.md, the two ways out), as checks on a cadence file.

X allows automated posts only as one reply to a post in which the customer summoned the
brand (mentioned or quoted it, or replied to it), one reply per such post, so an
automatic cadence has a single step. That holds for prospects too: one who @mentions the
brand engaged first and may get an automatic reply (`audience: prospects` with a summons
trigger is valid). Everything proactive — thank-yous, check-ins, prospecting on keyword
posts — goes through the review queue. Rapport refuses, at validate
time, any cadence whose messages could leave automatically without such a post.
"""

from __future__ import annotations

from typing import Any

from engine.errors import Problem
from engine.yamlpos import Document

# The event types in which a person addressed the brand first (docs/compliance.md). Imported by
# the policy stages; defined here once.
ENGAGED_FIRST_EVENT_TYPES: tuple[str, ...] = ("mention", "quote", "reply")

_ENGAGED = ", ".join(ENGAGED_FIRST_EVENT_TYPES)


def x_rule_problems(doc: Document) -> list[Problem]:
    """Problems with `channel: x` in one cadence file (empty when the channel is review)."""
    data: dict[str, Any] = doc.data
    if data.get("channel") != "x":
        return []
    problems: list[Problem] = []
    trigger = data.get("trigger")
    event = trigger.get("event") if isinstance(trigger, dict) else None
    if not isinstance(event, str):
        problems.append(
            doc.problem(
                ("channel",),
                "channel: x needs an event trigger on an engaged-first event "
                f"({_ENGAGED}); X allows automated replies only to people who "
                "addressed the brand first (use channel: review)",
            )
        )
    elif event not in ENGAGED_FIRST_EVENT_TYPES:
        problems.append(
            doc.problem(
                ("trigger", "event"),
                f"trigger.event: channel: x is not allowed with event '{event}' "
                f"(only {_ENGAGED}: X allows automated replies only to people who "
                "addressed the brand first; use channel: review)",
            )
        )
    steps = data.get("steps")
    if isinstance(steps, list) and len(steps) > 1:
        # One automatic reply per summoning post: the first step uses it up.
        problems.append(
            doc.problem(
                ("steps", 1),
                "steps[1]: channel: x sends one reply per mention; later steps can never be "
                "sent (move them to a review cadence)",
            )
        )
    return problems
