"""Lift with honest intervals, from statsmodels rather than hand-written formulas.

- Response rates: the difference of two proportions with Newcombe's hybrid score interval
  (Newcombe 1998, method 10; `confint_proportions_2indep(method="newcomb")`). It keeps
  its coverage near the nominal 95% with rare responses and unequal groups, where the
  textbook Wald interval is too narrow (and degenerate at 0 responses).
- Revenue per unit: the difference of two means with Welch's t interval (unequal
  variances; `CompareMeans.tconfint_diff(usevar="unequal")`). Revenue is skewed and mostly
  zero; with groups of hundreds or more the t interval of the mean is adequate.

A group smaller than `MIN_GROUP` gets no interval: "control of 3: lift unknown" says what
is known instead of printing a number that looks like a finding.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from statsmodels.stats.proportion import confint_proportions_2indep
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

CONFIDENCE = 0.95
# Below this many units in a group, an interval of a difference of response rates is all
# width and no information (with 8% responding, 20 controls expect 1.6 responses).
MIN_GROUP = 20
RATE_METHOD = "Newcombe's hybrid score interval for a difference of proportions"
REVENUE_METHOD = "Welch's t interval for a difference of means (unequal variances)"

Interval = tuple[float, float]


@dataclass(frozen=True)
class RateComparison:
    """Treatment against control on response rate (absolute lift in rate points)."""

    treatment_n: int
    control_n: int
    treatment_responses: int
    control_responses: int
    lift: float | None
    interval: Interval | None
    note: str | None  # why there is no lift, when there is none

    @property
    def treatment_rate(self) -> float | None:
        return self.treatment_responses / self.treatment_n if self.treatment_n else None

    @property
    def control_rate(self) -> float | None:
        return self.control_responses / self.control_n if self.control_n else None

    @property
    def relative_lift(self) -> float | None:
        """Lift as a share of the control's rate; None when the control never responded."""
        if self.lift is None or not self.control_rate:
            return None
        return self.lift / self.control_rate

    @property
    def known(self) -> bool:
        return self.lift is not None


def too_small(treatment_n: int, control_n: int, *, control: str = "control") -> str | None:
    if control_n < MIN_GROUP:
        return f"{control} of {control_n}: lift unknown"
    if treatment_n < MIN_GROUP:
        return f"treatment of {treatment_n}: lift unknown"
    return None


def compare_rates(
    treatment_responses: int,
    treatment_n: int,
    control_responses: int,
    control_n: int,
    *,
    control: str = "control",
) -> RateComparison:
    """Lift = treatment rate − control rate, with its 95% Newcombe interval.

    `control` names the comparison group in the note ("variant a of 3: lift unknown").
    """
    note = too_small(treatment_n, control_n, control=control)
    if note is not None:
        return RateComparison(
            treatment_n, control_n, treatment_responses, control_responses, None, None, note
        )
    low, high = confint_proportions_2indep(
        treatment_responses,
        treatment_n,
        control_responses,
        control_n,
        method="newcomb",
        compare="diff",
        alpha=1 - CONFIDENCE,
    )
    lift = treatment_responses / treatment_n - control_responses / control_n
    return RateComparison(
        treatment_n,
        control_n,
        treatment_responses,
        control_responses,
        lift,
        (float(low), float(high)),
        None,
    )


@dataclass(frozen=True)
class MeanComparison:
    difference: float | None
    interval: Interval | None
    note: str | None


def compare_means(treatment: Sequence[float], control: Sequence[float]) -> MeanComparison:
    """Treatment mean − control mean, with Welch's 95% interval."""
    note = too_small(len(treatment), len(control))
    if note is not None:
        return MeanComparison(None, None, note)
    t, c = np.asarray(treatment, dtype=float), np.asarray(control, dtype=float)
    difference = float(t.mean() - c.mean())
    if t.var() == 0 and c.var() == 0:
        # Every unit alike in each group (typically: no revenue at all): no spread to
        # estimate, and the difference is exact.
        return MeanComparison(difference, (difference, difference), None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # one group constant: still defined
        low, high = CompareMeans(DescrStatsW(t), DescrStatsW(c)).tconfint_diff(
            alpha=1 - CONFIDENCE, usevar="unequal"
        )
    if math.isnan(low) or math.isnan(high):
        return MeanComparison(difference, None, "revenue interval unknown")
    return MeanComparison(difference, (float(low), float(high)), None)
