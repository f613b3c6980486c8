"""Each policy stage, one reason at a time: the exact outcome, reason and detail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from policy_helpers import (
    NOW,
    cadence,
    candidate,
    caps,
    customer,
    event,
    mention_candidate,
    one,
    past,
    policy,
    quiet,
    state,
)

from engine.cap import Cap
from engine.facts import EventFacts, SuppressionFacts
from engine.policy import STAGES, decide
from engine.policy.consent import delivery_channel


def test_nothing_in_the_way_sends() -> None:
    assert one(decide([candidate()], state(), NOW, policy())) == ("send", "sent_to_outbox", "")


def test_every_stage_is_a_plain_function_in_design_order() -> None:
    names = [stage.__name__ for stage in STAGES]
    assert names == [
        "drop_duplicate_keys",
        "drop_suppressed",
        "block_after_complaint",
        "require_consent",
        "x_gates",
        "drop_held_out",
        "defer_in_quiet_hours",
        "arbitrate",
    ]


# suppression -------------------------------------------------------------------------


def test_opt_out_suppression_drops_forever() -> None:
    s = state(suppressions=(SuppressionFacts("opted_out", None),))
    assert one(decide([candidate()], s, NOW, policy())) == (
        "drop",
        "opted_out",
        "suppressed (opted_out) forever",
    )


def test_other_suppression_drops_as_suppressed_until_it_ends() -> None:
    until = NOW + timedelta(days=2)
    s = state(suppressions=(SuppressionFacts("complaint", until),))
    assert one(decide([candidate()], s, NOW, policy())) == (
        "drop",
        "suppressed",
        "suppressed (complaint) until 2026-06-17T18:00:00Z",
    )


def test_expired_suppression_no_longer_counts() -> None:
    s = state(suppressions=(SuppressionFacts("suppressed", NOW),))  # until == now: over
    assert one(decide([candidate()], s, NOW, policy()))[0] == "send"


def test_opt_out_wins_over_a_weaker_suppression() -> None:
    s = state(
        suppressions=(
            SuppressionFacts("suppressed", NOW + timedelta(days=1)),
            SuppressionFacts("opted_out", None),
        )
    )
    assert one(decide([candidate()], s, NOW, policy()))[1] == "opted_out"


def test_stop_in_the_summoning_mention_drops_every_candidate_at_once() -> None:
    reply = mention_candidate(text="@acme STOP!")
    thanks = candidate()
    verdicts = decide([reply, thanks], state(), NOW, policy())
    assert [(v.outcome, v.reason) for v in verdicts] == [("drop", "opted_out")] * 2
    assert verdicts[0].detail == "opted out: 'stop' in the customer's mention"


def test_words_that_merely_contain_stop_do_not_opt_out() -> None:
    reply = mention_candidate(text="@acme unstoppable coffee")
    assert one(decide([reply], state(), NOW, policy()))[0] == "send"


# complaint block ---------------------------------------------------------------------


def test_recent_complaint_defers_until_the_block_ends() -> None:
    complained = NOW - timedelta(days=1)
    (v,) = decide(
        [candidate()],
        state(last_complaint_at=complained),
        NOW,
        policy(complaint_block=timedelta(days=30)),
    )
    assert (v.outcome, v.reason) == ("defer", "complaint_block")
    assert v.detail == "complaint at 2026-06-14T18:00:00Z blocks proactive contact for 30d"
    assert v.retry_at == complained + timedelta(days=30)


def test_without_a_configured_block_a_complaint_blocks_proactive_contact_forever() -> None:
    years_ago = state(last_complaint_at=NOW - timedelta(days=3 * 365))
    assert one(decide([candidate()], years_ago, NOW, policy())) == (
        "drop",
        "complaint_block",
        "complaint at 2023-06-16T18:00:00Z blocks proactive contact",
    )


def test_a_reply_to_a_summons_is_solicited_and_passes_the_complaint_block() -> None:
    s = state(last_complaint_at=NOW - timedelta(hours=1))
    for configured in (policy(complaint_block=timedelta(days=1)), policy()):
        v = one(decide([mention_candidate()], s, NOW, configured))
        assert v == ("send", "sent_to_outbox", "")


def test_only_the_proactive_candidate_is_held_back() -> None:
    s = state(last_complaint_at=NOW - timedelta(hours=1))
    verdicts = decide([candidate(), mention_candidate()], s, NOW, policy())
    assert [(v.candidate.cadence.channel, v.outcome) for v in verdicts] == [
        ("x", "send"),
        ("review", "drop"),
    ]


def test_old_complaint_past_the_configured_block_and_no_complaint_let_it_through() -> None:
    old = state(last_complaint_at=NOW - timedelta(days=30))
    assert (
        one(decide([candidate()], old, NOW, policy(complaint_block=timedelta(days=30))))[0]
        == "send"
    )
    assert one(decide([candidate()], state(), NOW, policy()))[0] == "send"


# consent -----------------------------------------------------------------------------


def test_customer_without_consent_waits() -> None:
    c = candidate(who=customer(consent_at=None))
    assert one(decide([c], state(), NOW, policy(require_consent=True))) == (
        "defer",
        "no_consent",
        "no consent on file",
    )


def test_consent_given_later_than_now_waits_until_then() -> None:
    later = NOW + timedelta(hours=3)
    (v,) = decide(
        [candidate(who=customer(consent_at=later))], state(), NOW, policy(require_consent=True)
    )
    assert (v.reason, v.detail, v.retry_at) == (
        "no_consent",
        "consent only from 2026-06-15T21:00:00Z",
        later,
    )


def test_consent_not_required_by_default() -> None:
    c = candidate(who=customer(consent_at=None))
    assert one(decide([c], state(), NOW, policy()))[0] == "send"


def test_a_prospect_who_summons_gets_an_automatic_reply() -> None:
    prospect = customer(kind="prospect", consent_at=None)
    auto = mention_candidate(who=prospect)
    assert one(decide([auto], state(), NOW, policy(require_consent=True)))[0] == "send"
    assert delivery_channel(auto, policy(require_consent=True), NOW) == "x"
    assert (
        one(decide([candidate(who=prospect)], state(), NOW, policy(require_consent=True)))[0]
        == "send"
    )


def test_a_prospect_is_never_answered_on_x_without_a_summons() -> None:
    prospect = customer(kind="prospect", consent_at=None)
    keyword = candidate(
        cadence("prospecting", channel="x"),
        who=prospect,
        trigger=event("keyword", post_id="9", text="acme?"),
        in_reply_to="9",
    )
    assert one(decide([keyword], state(), NOW, policy()))[:2] == ("drop", "not_engaged_first")


def test_a_customer_without_consent_who_summons_is_answered_through_review() -> None:
    unconsented = mention_candidate(who=customer(consent_at=None))
    strict = policy(require_consent=True)
    assert one(decide([unconsented], state(), NOW, strict))[0] == "send"
    assert delivery_channel(unconsented, strict, NOW) == "review"
    consented = mention_candidate(who=customer())
    assert delivery_channel(consented, strict, NOW) == "x"
    # A proactive message to the same customer still waits for consent.
    proactive = candidate(who=customer(consent_at=None))
    assert one(decide([proactive], state(), NOW, strict))[:2] == ("defer", "no_consent")


# X gates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "detail"),
    [
        (None, "channel x only replies to a mention, quote or reply (no trigger event)"),
        (
            event("purchase"),
            "channel x only replies to a mention, quote or reply (trigger is a purchase)",
        ),
        (
            event("keyword", post_id="9", text="acme"),
            "channel x only replies to a mention, quote or reply (trigger is a keyword)",
        ),
        (event("mention", text="@acme hi"), "the mention has no post_id to reply to"),
        (event("quote", post_id="8", text="nice"), "reply to 9 is not the summoning post 8"),
    ],
)
def test_channel_x_without_its_summoning_post_is_dropped(
    trigger: EventFacts | None, detail: str
) -> None:
    c = candidate(cadence("auto", channel="x"), trigger=trigger, in_reply_to="9")
    assert one(decide([c], state(), NOW, policy())) == ("drop", "not_engaged_first", detail)


def test_channel_x_replies_to_a_quote_or_reply_too() -> None:
    for kind in ("quote", "reply"):
        c = candidate(
            cadence("auto", channel="x"), trigger=event(kind, post_id="9"), in_reply_to="9"
        )
        assert one(decide([c], state(), NOW, policy()))[0] == "send"


def test_one_reply_per_post_from_the_ledger() -> None:
    s = state(past=(past("mention-reply", NOW - timedelta(hours=1), "x", "t1"),))
    assert one(decide([mention_candidate("t1")], s, NOW, policy())) == (
        "drop",
        "already_replied",
        "post t1 already has a reply",
    )
    assert one(decide([mention_candidate("t2")], s, NOW, policy()))[0] == "send"


def test_one_reply_per_post_within_one_call_goes_to_the_higher_priority() -> None:
    low = mention_candidate("t1", cad=cadence("a-low", channel="x", priority=10))
    high = mention_candidate("t1", cad=cadence("z-high", channel="x", priority=90))
    verdicts = decide([low, high], state(), NOW, policy())
    assert [(v.candidate.cadence.name, v.outcome, v.reason) for v in verdicts] == [
        ("z-high", "send", "sent_to_outbox"),
        ("a-low", "drop", "already_replied"),
    ]


def test_a_deferred_candidate_does_not_claim_the_post() -> None:
    """The higher one waits for its cadence cap; the post gets the lower one's reply."""
    capped = cadence("z-high", channel="x", priority=90, cap=Cap(1, timedelta(days=30)))
    s = state(past=(past("z-high", NOW - timedelta(days=2), "x", "t0"),))
    high = mention_candidate("t1", cad=capped)
    low = mention_candidate("t1", cad=cadence("a-low", channel="x", priority=10))
    verdicts = decide([low, high], s, NOW, policy())
    assert [(v.candidate.cadence.name, v.outcome, v.reason) for v in verdicts] == [
        ("z-high", "defer", "cadence_cap"),
        ("a-low", "send", "sent_to_outbox"),
    ]


def test_a_held_out_candidate_does_not_claim_the_post() -> None:
    high = mention_candidate("t1", cad=cadence("z-high", channel="x", priority=90, holdout=1.0))
    low = mention_candidate("t1", cad=cadence("a-low", channel="x", priority=10))
    verdicts = decide([low, high], state(), NOW, policy())
    assert [(v.candidate.cadence.name, v.outcome) for v in verdicts] == [
        ("z-high", "drop"),
        ("a-low", "send"),
    ]


def test_a_capped_lower_candidate_after_a_sent_reply_is_dropped_not_deferred() -> None:
    """The post is claimed by the send: a later reply to it could never go, so it drops."""
    high = mention_candidate("t1", cad=cadence("z-high", channel="x", priority=90))
    low = mention_candidate("t1", cad=cadence("a-low", channel="x", priority=10))
    verdicts = decide([low, high], state(), NOW, policy(caps=caps((1, "1d"))))
    assert [(v.candidate.cadence.name, v.outcome, v.reason, v.detail) for v in verdicts] == [
        ("z-high", "send", "sent_to_outbox", ""),
        ("a-low", "drop", "already_replied", "post t1 already has a reply"),
    ]


# holdout -----------------------------------------------------------------------------


def test_cadence_holdout_and_global_holdout_drop() -> None:
    everyone = cadence(holdout=1.0)
    assert one(decide([candidate(everyone)], state(), NOW, policy())) == (
        "drop",
        "held_out",
        "customer is in the holdout of thanks",
    )
    assert one(decide([candidate()], state(), NOW, policy(global_holdout=1.0))) == (
        "drop",
        "global_holdout",
        "customer is in the global holdout",
    )


# quiet hours -------------------------------------------------------------------------


def test_quiet_hours_defer_until_local_end() -> None:
    paris = candidate(who=customer(timezone="Europe/Paris"))  # 20:00 local at NOW
    (v,) = decide([paris], state(), NOW, policy(quiet_hours=quiet("19:00-09:00")))
    assert (v.outcome, v.reason, v.detail) == (
        "defer",
        "quiet_hours",
        "quiet hours until 09:00 Europe/Paris (2026-06-16T07:00:00Z)",
    )
    assert v.retry_at == datetime(2026, 6, 16, 7, 0, tzinfo=UTC)
    la = candidate(who=customer(timezone="America/Los_Angeles"))  # 11:00 local
    assert one(decide([la], state(), NOW, policy(quiet_hours=quiet("19:00-09:00"))))[0] == "send"


# pipeline ----------------------------------------------------------------------------


def test_duplicate_key_in_one_call_is_sent_once() -> None:
    c = candidate()
    verdicts = decide([c, c], state(), NOW, policy())
    assert sorted((v.outcome, v.reason) for v in verdicts) == [
        ("drop", "duplicate_key"),
        ("send", "sent_to_outbox"),
    ]


def test_first_stage_that_objects_gives_the_reason() -> None:
    # suppressed AND in quiet hours AND capped: suppression speaks.
    s = state(
        past=(past("other", NOW - timedelta(hours=1)),),
        suppressions=(SuppressionFacts("opted_out", None),),
    )
    p = policy(caps=caps((1, "1d")), quiet_hours=quiet("00:00-23:59"))
    assert one(decide([candidate()], s, NOW, p))[1] == "opted_out"


def test_now_may_be_given_in_any_zone() -> None:
    paris_now = NOW.astimezone(ZoneInfo("Europe/Paris"))
    assert one(decide([candidate()], state(), paris_now, policy()))[0] == "send"


def test_verdicts_hold_the_very_candidates_given() -> None:
    given = [candidate(cadence("a")), candidate(cadence("b")), mention_candidate()]
    verdicts = decide(given, state(), NOW, policy(min_gap=timedelta(hours=1)))
    assert sorted(map(id, given)) == sorted(id(v.candidate) for v in verdicts)


def test_no_candidates_no_verdicts() -> None:
    assert decide([], state(), NOW, policy()) == []
