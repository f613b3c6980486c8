"""durable_rules and the reference evaluator agree on random conditions and facts."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_conditions_strategies import EVENT_FIELDS, conditions, data_values, facts, wide_conditions

from engine.conditions import Facts, pretty
from engine.matcher import MatchRequest
from engine.matcher.durable import DurableMatcher
from engine.matcher.reference import ReferenceMatcher


@st.composite
def customers(draw: st.DrawFn) -> list[MatchRequest]:
    """One customer: a request without event plus a few with candidate events."""
    base = draw(facts(with_event=False))
    events = draw(
        st.lists(
            st.fixed_dictionaries({}, optional={f: data_values for f in EVENT_FIELDS}),
            max_size=3,
        )
    )
    customer_id = str(draw(st.integers(0, 10**6)))
    return [
        MatchRequest(customer_id, Facts(base.customer, event, base.aggregates), frozenset())
        for event in [None, *events]
    ]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(wide_conditions, min_size=1, max_size=4),
    st.lists(customers(), min_size=1, max_size=3),
)
def test_durable_matcher_agrees_with_reference(exprs, people) -> None:
    named = {f"c{i}/{pretty(e)}": e for i, e in enumerate(exprs)}
    durable, reference = DurableMatcher(named), ReferenceMatcher(named)
    requests = [
        MatchRequest(r.customer_id, r.facts, frozenset(named)) for person in people for r in person
    ]
    got, want = durable.match(requests), reference.match(requests)
    for request, answer, expected in zip(requests, got, want, strict=True):
        assert answer == expected, (request.facts, durable.fallback_reasons)


@settings(max_examples=200, deadline=None)
@given(conditions)
def test_most_conditions_compile_to_durable(expr) -> None:
    """The fallback is the exception: only the documented shapes use it."""
    matcher = DurableMatcher({"c": expr})
    reason = matcher.fallback_reasons.get("c", "")
    allowed = ("another name", "not contains", "contains' with", "alternatives", "as a value")
    assert not reason or any(word in reason for word in allowed), reason
