"""The statistics of `rapport report`: intervals that cover what they claim."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.reporting.statistics import MIN_GROUP, compare_means, compare_rates

SEEDS = 2_000 if os.environ.get("CI") == "true" else 400


def test_a_planted_four_point_lift_is_found_with_an_interval_that_excludes_zero() -> None:
    rng = np.random.default_rng(12)
    treated, control = 3_000, 3_000
    result = compare_rates(
        int(rng.binomial(treated, 0.12)), treated, int(rng.binomial(control, 0.08)), control
    )
    assert result.interval is not None and result.lift is not None
    low, high = result.interval
    assert low < 0.04 < high
    assert low > 0
    assert result.relative_lift == pytest.approx(result.lift / result.control_rate)


def test_with_no_effect_the_interval_covers_zero_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(2026)
    covered = 0
    for _ in range(SEEDS):
        n_t, n_c = 2_000, 600  # unequal groups, as with a 10-20% holdout
        result = compare_rates(int(rng.binomial(n_t, 0.08)), n_t, int(rng.binomial(n_c, 0.08)), n_c)
        assert result.interval is not None
        covered += result.interval[0] <= 0 <= result.interval[1]
    share = covered / SEEDS
    assert 0.92 <= share <= 0.98, share


@pytest.mark.parametrize(
    ("control_n", "treatment_n", "note"),
    [
        (0, 500, "control of 0: lift unknown"),
        (3, 500, "control of 3: lift unknown"),
        (500, 5, "treatment of 5: lift unknown"),
    ],
)
def test_a_group_too_small_says_lift_unknown(control_n: int, treatment_n: int, note: str) -> None:
    result = compare_rates(min(2, treatment_n), treatment_n, 0, control_n)
    assert (result.lift, result.interval, result.note) == (None, None, note)
    assert compare_means([1.0] * treatment_n, [0.0] * control_n).note == note


def test_the_threshold_is_the_smallest_group_with_an_interval() -> None:
    assert compare_rates(5, 100, 1, MIN_GROUP).known
    assert not compare_rates(5, 100, 1, MIN_GROUP - 1).known


def test_zero_responses_on_both_sides_is_a_lift_of_zero_with_an_interval() -> None:
    result = compare_rates(0, 1_000, 0, 200)
    assert result.lift == 0 and result.interval is not None
    assert result.interval[0] < 0 < result.interval[1]
    assert result.relative_lift is None  # no control response to be relative to


def test_revenue_difference_with_welch_interval() -> None:
    rng = np.random.default_rng(5)
    treated = (rng.random(2_000) < 0.12) * rng.lognormal(3.5, 0.6, 2_000)
    control = (rng.random(800) < 0.08) * rng.lognormal(3.5, 0.6, 800)
    result = compare_means(list(treated), list(control))
    assert result.interval is not None and result.difference is not None
    assert result.interval[0] < result.difference < result.interval[1]
    assert result.difference == pytest.approx(treated.mean() - control.mean())


def test_no_revenue_anywhere_is_an_exact_zero() -> None:
    result = compare_means([0.0] * 100, [0.0] * 50)
    assert (result.difference, result.interval, result.note) == (0.0, (0.0, 0.0), None)


@given(
    st.integers(MIN_GROUP, 5_000).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))),
    st.integers(MIN_GROUP, 5_000).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))),
)
@settings(max_examples=200)
def test_the_interval_holds_the_estimate_and_stays_within_plus_minus_one(
    treatment: tuple[int, int], control: tuple[int, int]
) -> None:
    (n_t, r_t), (n_c, r_c) = treatment, control
    result = compare_rates(r_t, n_t, r_c, n_c)
    assert result.interval is not None and result.lift is not None
    low, high = result.interval
    assert -1 <= low <= result.lift <= high <= 1
