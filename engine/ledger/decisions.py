"""What an evaluation decided about a step, and why: the words of the `decisions` table.

Every decision has an outcome and a reason. The stored values are these enums' values,
so a query, an export or a golden file reads the same word the code uses. A new reason
is added here, never spelled inline where it is produced.
"""

from __future__ import annotations

from enum import StrEnum


class DecisionOutcome(StrEnum):
    PLANNED = "planned"  # a message went to the outbox
    HELD_OUT = "held_out"  # control group: resolved (or enrolled) without a message
    DEFERRED = "deferred"  # not now; decided again at a later evaluation
    DROPPED = "dropped"  # never, for this step
    SKIPPED = "skipped"  # the step's `when` was false when it came due
    EXPIRED = "expired"  # not sendable within the step's `expires`
    EXITED = "exited"  # the enrolment ended (`exit_on`, a step's `unless`)


class Reason(StrEnum):
    # planned
    SENT_TO_OUTBOX = "sent_to_outbox"
    # contact policy (engine/policy/), in the order of its stages
    DUPLICATE_KEY = "duplicate_key"
    OPTED_OUT = "opted_out"
    SUPPRESSED = "suppressed"
    COMPLAINT_BLOCK = "complaint_block"
    NO_CONSENT = "no_consent"
    NOT_ENGAGED_FIRST = "not_engaged_first"
    ALREADY_REPLIED = "already_replied"
    HELD_OUT = "held_out"  # the cadence's own holdout
    GLOBAL_HOLDOUT = "global_holdout"
    QUIET_HOURS = "quiet_hours"
    CADENCE_CAP = "cadence_cap"
    CAP = "cap"
    MIN_GAP = "min_gap"
    # the text (engine/messages/): the step waits until the template is fixed
    TOO_LONG = "too_long"
    NO_HANDLE = "no_handle"  # no @handle to address: none on file, or the text lacks it
    OTHER_MENTIONS = "other_mentions"
    TEMPLATE_ERROR = "template_error"
    # the enrolment machine (engine/evaluation/enrolments.py)
    EXIT_EVENT = "exit_event"
    UNLESS_EVENT = "unless_event"
    EXPIRED = "expired"
    WHEN_FALSE = "when_false"
    # the customer's evaluation failed; the next evaluation tries again
    EVALUATION_ERROR = "evaluation_error"
