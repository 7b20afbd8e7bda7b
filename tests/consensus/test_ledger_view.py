"""pyri.consensus.ledger_view: balances through tips (reference §7.9, api-reference §3.3/§3.4)
and the ledger part of checkConsistency (api-reference §4.16).

Every tangle starts from the same snapshot: alice holds 100, carol 50.
"""

from __future__ import annotations

import pytest

from pyri.consensus.ledger_view import (
    TIPS_NOT_CONSISTENT,
    TipNotFound,
    TipsBalances,
    TipsDiff,
    TipsNotConsistent,
    TipsView,
    balances_through_tips,
    tails_consistent,
    tips_diff,
)
from pyri.model.bundle import BundleStatus
from pyri.trinary import NULL_HASH
from tests.consensus.tangle_builder import TangleBuilder, address_of

ALICE = address_of("alice")
ALICE_1 = address_of("alice", 1)
BOB = address_of("bob")
CAROL = address_of("carol")
DAVE = address_of("dave")
MISSING = "MISSING" + "9" * 74
ADDRESSES = (ALICE, ALICE_1, BOB, CAROL, DAVE)


@pytest.fixture
def tangle() -> TangleBuilder:
    builder = TangleBuilder()
    builder.genesis({"alice": 100, "carol": 50})
    return builder


def view(
    tangle: TangleBuilder, tips: list[str], addresses: tuple[str, ...] = ADDRESSES
) -> TipsView:
    latest = tangle.milestones.get(tangle.latest_index)
    return balances_through_tips(
        tangle.reader,
        addresses,
        tips,
        latest_index=tangle.latest_index,
        latest_hash=latest.tail_hash if latest is not None else NULL_HASH,
        balances=tangle.balances,
    )


def balances_of(result: TipsView) -> tuple[int, ...]:
    assert isinstance(result, TipsBalances), result
    return result.balances


def inconsistent(result: TipsView) -> TipsNotConsistent:
    assert isinstance(result, TipsNotConsistent), result
    assert result.message == TIPS_NOT_CONSISTENT
    return result


# --- without tips --------------------------------------------------------------------------------


def test_no_tips_gives_the_confirmed_balances_even_on_a_genesis_snapshot(
    tangle: TangleBuilder,
) -> None:
    tangle.transfer("alice", BOB, 60)  # unconfirmed: not seen without tips

    result = view(tangle, [], (ALICE, BOB, CAROL, ALICE))

    assert result == TipsBalances((100, 0, 50, 100), (NULL_HASH,), 0, {})


def test_no_tips_after_a_milestone_references_it(tangle: TangleBuilder) -> None:
    pay = tangle.transfer("alice", BOB, 60, remainder_to=ALICE_1)
    tangle.issue_milestone([pay.tail_hash])

    result = view(tangle, [])

    assert isinstance(result, TipsBalances)
    assert result.balances == (0, 40, 60, 50, 0)
    assert result.references == (tangle.milestones[1].tail_hash,)
    assert result.milestone_index == 1


# --- consistent tips -----------------------------------------------------------------------------


def test_a_tip_adds_its_unconfirmed_cone_to_the_confirmed_balances(tangle: TangleBuilder) -> None:
    pay = tangle.transfer("alice", BOB, 60, remainder_to=ALICE_1)
    spend = tangle.transfer("bob", DAVE, 60, trunk=pay.tail_hash)

    result = view(tangle, [spend.tail_hash], (ALICE, ALICE_1, BOB, CAROL, DAVE, BOB))

    assert isinstance(result, TipsBalances)
    assert result.balances == (0, 40, 0, 50, 60, 0)
    assert result.references == (spend.tail_hash,)
    assert result.milestone_index == 0
    assert dict(result.diff) == {ALICE: -100, ALICE_1: 40, DAVE: 60}
    assert result.spent_addresses == (BOB, ALICE)
    assert set(result.verdicts_to_cache) == {spend.tail_hash, pay.tail_hash}


def test_tips_sharing_a_cone_count_it_once(tangle: TangleBuilder) -> None:
    pay = tangle.transfer("alice", BOB, 60, remainder_to=ALICE_1)
    later = tangle.message("LATER", trunk=pay.tail_hash)

    for tips in ([later.tail_hash, pay.tail_hash], [pay.tail_hash, later.tail_hash]):
        assert balances_of(view(tangle, tips)) == (0, 40, 60, 50, 0)
    repeated = view(tangle, [pay.tail_hash, pay.tail_hash])
    assert isinstance(repeated, TipsBalances)
    assert repeated.balances == (0, 40, 60, 50, 0)
    assert repeated.references == (pay.tail_hash, pay.tail_hash)


def test_two_tips_with_independent_transfers_add_up(tangle: TangleBuilder) -> None:
    from_alice = tangle.transfer("alice", DAVE, 30, remainder_to=ALICE_1)
    from_carol = tangle.transfer("carol", DAVE, 50)

    result = view(tangle, [from_alice.tail_hash, from_carol.tail_hash])

    assert balances_of(result) == (0, 70, 0, 0, 80)


def test_a_confirmed_tip_adds_nothing(tangle: TangleBuilder) -> None:
    pay = tangle.transfer("alice", BOB, 60, remainder_to=ALICE_1)
    tangle.issue_milestone([pay.tail_hash])

    assert balances_of(view(tangle, [pay.tail_hash])) == (0, 40, 60, 50, 0)
    assert balances_of(view(tangle, [tangle.milestones[1].tail_hash])) == (0, 40, 60, 50, 0)


def test_a_tip_that_is_not_a_tail_adds_nothing(tangle: TangleBuilder) -> None:
    pay = tangle.transfer("alice", BOB, 60, remainder_to=ALICE_1)

    assert balances_of(view(tangle, [pay.head.hash])) == (100, 0, 0, 50, 0)


def test_a_reattachment_within_the_tips_is_counted_twice() -> None:
    tangle = TangleBuilder()
    tangle.genesis({"alice": 120})
    pay = tangle.transfer("alice", BOB, 60)
    again = tangle.reattach(pay)

    assert balances_of(view(tangle, [pay.tail_hash, again.tail_hash])) == (0, 0, 120, 0, 0)
    both = tangle.message("BOTH", trunk=pay.tail_hash, branch=again.tail_hash)
    assert balances_of(view(tangle, [both.tail_hash])) == (0, 0, 120, 0, 0)


# --- inconsistent tips ---------------------------------------------------------------------------


def test_a_double_spend_across_two_tips_is_not_consistent(tangle: TangleBuilder) -> None:
    to_bob = tangle.transfer("alice", BOB, 100)
    to_dave = tangle.transfer("alice", DAVE, 100)
    assert balances_of(view(tangle, [to_bob.tail_hash])) == (0, 0, 100, 50, 0)
    assert balances_of(view(tangle, [to_dave.tail_hash])) == (0, 0, 0, 50, 100)

    result = inconsistent(view(tangle, [to_bob.tail_hash, to_dave.tail_hash]))

    assert result.tip == to_dave.tail_hash
    assert result.reason == "negative_balance"
    assert dict(result.negative) == {ALICE: -100}
    assert result.spent_addresses == (ALICE,)


def test_an_overdraft_in_one_tip_is_not_consistent(tangle: TangleBuilder) -> None:
    greedy = tangle.transfer("alice", BOB, 150)

    result = inconsistent(view(tangle, [greedy.tail_hash]))

    assert result.reason == "negative_balance" and dict(result.negative) == {ALICE: -50}
    assert result.detail == f"tip {greedy.tail_hash}: balances would go negative: {ALICE} -> -50"


def test_an_invalid_bundle_in_a_tips_cone_is_not_consistent(tangle: TangleBuilder) -> None:
    bad = tangle.invalid_bundle("alice", BOB, 10)
    tip = tangle.message("TIP", trunk=bad.tail_hash)

    result = inconsistent(view(tangle, [tip.tail_hash]))

    assert result.tip == tip.tail_hash and result.reason == "invalid_bundle"
    assert result.failure is not None and result.failure.tail == bad.tail_hash
    assert result.failure.verdict is not None and result.failure.verdict.reason == "signature"
    assert result.verdicts_to_cache[bad.tail_hash] == result.failure.verdict


def test_the_tips_view_enforces_the_extra_rules(tangle: TangleBuilder) -> None:
    odd = tangle.transfer("alice", BOB, 60, extra_rules=False, trunk=tangle.message().tail_hash)

    result = inconsistent(view(tangle, [odd.tail_hash]))

    assert result.failure is not None and result.failure.verdict is not None
    assert result.failure.verdict.reason == "transaction_approval"
    assert result.failure.verdict.status is BundleStatus.INVALID


def test_an_unsolid_tip_is_not_consistent(tangle: TangleBuilder) -> None:
    dangling = tangle.message("DANGLING", trunk=MISSING)
    assert not tangle.reader.metas[dangling.tail_hash].solid

    result = inconsistent(view(tangle, [dangling.tail_hash]))

    assert result.reason == "not_solid" and result.tip == dangling.tail_hash
    assert result.detail == f"tip {dangling.tail_hash}: not solid"


def test_an_unknown_tip_is_not_found(tangle: TangleBuilder) -> None:
    pay = tangle.transfer("alice", BOB, 60)

    result = view(tangle, [pay.tail_hash, MISSING])

    assert isinstance(result, TipNotFound)
    assert result.tip == MISSING
    assert result.message == f"Tip not found: {MISSING}"
    assert result.spent_addresses == (ALICE,)
    # The null hash is never a stored transaction either.
    assert view(tangle, [NULL_HASH]) == TipNotFound(NULL_HASH)


def test_tips_are_checked_in_order_and_the_first_failure_answers(tangle: TangleBuilder) -> None:
    bad = tangle.invalid_bundle("alice", BOB, 10)

    assert isinstance(view(tangle, [MISSING, bad.tail_hash]), TipNotFound)
    assert isinstance(view(tangle, [bad.tail_hash, MISSING]), TipsNotConsistent)


# --- tips_diff and checkConsistency --------------------------------------------------------------


def test_tips_diff_merges_the_tips(tangle: TangleBuilder) -> None:
    from_alice = tangle.transfer("alice", DAVE, 30, remainder_to=ALICE_1)
    from_carol = tangle.transfer("carol", DAVE, 20)

    result = tips_diff(
        tangle.reader,
        [from_alice.tail_hash, from_carol.tail_hash],
        latest_index=0,
        balances=tangle.balances,
    )

    assert isinstance(result, TipsDiff)
    assert dict(result.diff) == {ALICE: -100, ALICE_1: 70, DAVE: 50, CAROL: -20}
    assert result.spent_addresses == (ALICE, CAROL)


def test_tails_consistent_refuses_absent_and_non_tail_entries(tangle: TangleBuilder) -> None:
    pay = tangle.transfer("alice", BOB, 60)

    def check(tails: list[str]) -> TipsDiff | TipsNotConsistent:
        return tails_consistent(tangle.reader, tails, latest_index=0, balances=tangle.balances)

    ok = check([pay.tail_hash])
    assert isinstance(ok, TipsDiff) and dict(ok.diff) == {ALICE: -60, BOB: 60}
    missing = check([pay.tail_hash, MISSING])
    assert isinstance(missing, TipsNotConsistent) and missing.reason == "missing_tail"
    not_tail = check([pay.head.hash])
    assert isinstance(not_tail, TipsNotConsistent) and not_tail.reason == "not_a_tail"
    double = check([pay.tail_hash, tangle.transfer("alice", DAVE, 100).tail_hash])
    assert isinstance(double, TipsNotConsistent) and dict(double.negative) == {ALICE: -60}
