"""A cap: at most `max` messages in any window of length `per`.

Its own module because both the settings (`policy.caps`) and the rule model (a
cadence's `cap:`) hold one, and the rule model must not depend on the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Cap:
    """At most `max` messages in any window of length `per` (global or per cadence)."""

    max: int
    per: timedelta
