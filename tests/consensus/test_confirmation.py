"""pyri.consensus.confirmation: what a milestone confirms and what it does to the ledger
(reference §7.2-§7.5), on tangles built with ``TangleBuilder``.

Every tangle starts from the same snapshot: alice holds 100, carol 50. Bundles attach to the
null hash (a solid entry point) unless a test says otherwise.
"""

from __future__ import annotations

import pytest

from pyri.consensus.confirmation import (
    DiffFailure,
    MilestoneAlreadyApplied,
    MilestoneEffect,
    MilestoneFailure,
    MilestoneNeedsReset,
    balance_diff,
    confirmed_cone,
    find_tails,
    milestone_effect,
)
from pyri.model.bundle import BundleStatus
from pyri.storage.schema import Validity
from pyri.trinary import NULL_HASH
from tests.consensus.tangle_builder import TIMESTAMP, TangleBuilder, address_of

ALICE = address_of("alice")
ALICE_1 = address_of("alice", 1)
BOB = address_of("bob")
BOB_1 = address_of("bob", 1)
CAROL = address_of("carol")
DAVE = address_of("dave")
MISSING = "MISSING" + "9" * 74


@pytest.fixture
def tangle() -> TangleBuilder:
    builder = TangleBuilder()
    builder.genesis({"alice": 100, "carol": 50})
    return builder


def effect_of(outcome: object) -> MilestoneEffect:
    assert isinstance(outcome, MilestoneEffect), outcome
    return outcome


def failure_of(outcome: object) -> MilestoneFailure:
    assert isinstance(outcome, MilestoneFailure), outcome
    return outcome


# --- §7.4 findTails ------------------------------------------------------------------------------


def test_find_tails_passes_through_a_bundle_to_the_tails_its_head_approves(
    tangle: TangleBuilder,
) -> None:
    one = tangle.message("ONE")
    two = tangle.message("TWO")
    pay = tangle.transfer("alice", BOB, 10, trunk=one.tail_hash, branch=two.tail_hash)

    # From the tail: through transactions 1..3 of its own bundle and out of the head.
    assert find_tails(tangle.reader, pay.tail_hash) == {one.tail_hash, two.tail_hash}
    # From the head: its approvees directly.
    assert find_tails(tangle.reader, pay.head.hash) == {one.tail_hash, two.tail_hash}


def test_find_tails_skips_absent_transactions_silently(tangle: TangleBuilder) -> None:
    one = tangle.message("ONE")
    lonely = tangle.message("LONELY", trunk=one.tail_hash, branch=MISSING)

    assert find_tails(tangle.reader, lonely.tail_hash) == {one.tail_hash}
    assert find_tails(tangle.reader, MISSING) == set()


def test_referencing_a_non_tail_does_not_reach_that_bundles_tail(tangle: TangleBuilder) -> None:
    pay = tangle.transfer("alice", BOB, 10)
    pointer = tangle.message("POINTER", trunk=pay.transactions[1].hash)

    # transaction 1 -> 2 -> head -> null hash: the walk never goes back down to the tail.
    assert find_tails(tangle.reader, pointer.tail_hash) == set()


def test_find_tails_passes_through_confirmed_non_tails(tangle: TangleBuilder) -> None:
    one = tangle.message("ONE")
    pay = tangle.transfer("alice", BOB, 10, trunk=one.tail_hash)
    tangle.confirm(pay, 1)
    pointer = tangle.message("POINTER", trunk=pay.transactions[1].hash)

    assert find_tails(tangle.reader, pointer.tail_hash) == {one.tail_hash}


# --- §7.3 balance diff ---------------------------------------------------------------------------


def test_a_simple_cone_moves_the_transfer(tangle: TangleBuilder) -> None:
    pay = tangle.transfer("alice", BOB, 60, remainder_to=ALICE_1)

    effect = effect_of(tangle.issue_milestone([pay.tail_hash]))

    assert effect.index == 1
    assert effect.timestamp == TIMESTAMP
    assert dict(effect.diff) == {ALICE: -100, BOB: 60, ALICE_1: 40}
    assert dict(effect.balances) == {ALICE: 0, BOB: 60, ALICE_1: 40}
    assert effect.emptied == {ALICE}
    assert effect.spent_addresses == (ALICE,)
    assert tangle.ledger == {BOB: 60, ALICE_1: 40, CAROL: 50}
    assert tangle.latest_index == 1


def test_a_nested_cone_counts_every_unconfirmed_bundle_once(tangle: TangleBuilder) -> None:
    first = tangle.transfer("alice", BOB, 60, remainder_to=ALICE_1)
    # bob spends what the first bundle gives him, in the same milestone.
    second = tangle.transfer(
        "bob", DAVE, 25, input_value=60, remainder_to=BOB_1, trunk=first.tail_hash
    )
    milestone = tangle.milestone([second.tail_hash])

    walk = balance_diff(tangle.reader, milestone.tail_hash, 0, extra_rules=False)

    assert walk.ok and walk.failure is None
    assert walk.counted == (milestone.tail_hash, second.tail_hash, first.tail_hash)
    # bob gets 60 and spends 60: a change of 0 is left out.
    assert dict(walk.diff) == {ALICE: -100, ALICE_1: 40, DAVE: 25, BOB_1: 35}
    assert walk.spent_addresses == (BOB, ALICE)
    assert walk.visited == {milestone.tail_hash, second.tail_hash, first.tail_hash}

    effect = effect_of(tangle.issue_milestone([second.tail_hash]))
    assert tangle.ledger == {ALICE_1: 40, DAVE: 25, BOB_1: 35, CAROL: 50}
    assert effect.emptied == {ALICE}


def test_tails_confirmed_by_an_earlier_milestone_are_not_counted_or_expanded(
    tangle: TangleBuilder,
) -> None:
    first = tangle.transfer("alice", BOB, 60, remainder_to=ALICE_1)
    effect_of(tangle.issue_milestone([first.tail_hash]))
    second = tangle.transfer("bob", DAVE, 60, trunk=first.tail_hash)

    effect = effect_of(tangle.issue_milestone([second.tail_hash]))

    assert dict(effect.diff) == {BOB: -60, DAVE: 60}
    assert tangle.ledger == {ALICE_1: 40, DAVE: 60, CAROL: 50}


def test_confirmed_means_snapshot_index_in_1_to_confirmed_up_to(tangle: TangleBuilder) -> None:
    pay = tangle.transfer("alice", BOB, 60, remainder_to=ALICE_1)
    tangle.confirm(pay, 3)

    assert dict(balance_diff(tangle.reader, pay.tail_hash, 3, extra_rules=False).diff) == {}
    # A snapshot index above the ledger's milestone is not "confirmed" yet: counted again.
    walk = balance_diff(tangle.reader, pay.tail_hash, 2, extra_rules=False)
    assert dict(walk.diff) == {ALICE: -100, BOB: 60, ALICE_1: 40}


def test_solid_entry_points_count_as_visited(tangle: TangleBuilder) -> None:
    pay = tangle.transfer("alice", BOB, 60, remainder_to=ALICE_1)
    tangle.reader.add_solid_entry_points({pay.tail_hash: 0})
    pointer = tangle.message("POINTER", trunk=pay.tail_hash)

    walk = balance_diff(tangle.reader, pointer.tail_hash, 0, extra_rules=False)

    assert walk.counted == (pointer.tail_hash,)
    assert dict(walk.diff) == {}


def test_a_non_tail_start_enters_nothing(tangle: TangleBuilder) -> None:
    pay = tangle.transfer("alice", BOB, 60, remainder_to=ALICE_1)

    walk = balance_diff(tangle.reader, pay.head.hash, 0, extra_rules=True, visited={"X" * 81})

    assert walk.ok and dict(walk.diff) == {} and walk.counted == ()
    assert walk.visited == {"X" * 81}


# --- double spends and reattachments -------------------------------------------------------------


def test_a_double_spend_in_one_cone_fails_the_milestone(tangle: TangleBuilder) -> None:
    to_bob = tangle.transfer("alice", BOB, 100)
    to_carol = tangle.transfer("alice", CAROL, 100)

    failure = failure_of(tangle.issue_milestone([to_bob.tail_hash, to_carol.tail_hash]))

    assert failure.index == 1
    assert failure.reason == "negative_balance"
    assert dict(failure.negative) == {ALICE: -100}
    assert failure.spent_addresses == (ALICE,)
    # Nothing applied: ledger, latest milestone and snapshot indexes unchanged.
    assert tangle.ledger == {ALICE: 100, CAROL: 50}
    assert tangle.latest_index == 0
    assert tangle.reader.snapshot_index(to_bob.tail_hash) == 0


def test_a_double_spend_across_milestones_the_first_confirmed_wins(tangle: TangleBuilder) -> None:
    to_bob = tangle.transfer("alice", BOB, 100)
    to_carol = tangle.transfer("alice", CAROL, 100)

    effect_of(tangle.issue_milestone([to_bob.tail_hash]))
    failure = failure_of(tangle.issue_milestone([to_carol.tail_hash]))

    assert failure.index == 2
    assert failure.reason == "negative_balance"
    assert dict(failure.negative) == {ALICE: -100}
    assert tangle.ledger == {BOB: 100, CAROL: 50}
    assert tangle.latest_index == 1


def test_both_attachments_of_a_reattached_bundle_are_debited(tangle: TangleBuilder) -> None:
    pay = tangle.transfer("alice", BOB, 60)
    again = tangle.reattach(pay)
    assert again.bundle_hash == pay.bundle_hash and again.tail_hash != pay.tail_hash

    failure = failure_of(tangle.issue_milestone([pay.tail_hash, again.tail_hash]))

    assert dict(failure.negative) == {ALICE: -20}
    assert tangle.ledger == {ALICE: 100, CAROL: 50}


def test_both_attachments_count_when_the_funds_suffice() -> None:
    tangle = TangleBuilder()
    tangle.genesis({"alice": 120})
    pay = tangle.transfer("alice", BOB, 60)
    again = tangle.reattach(pay)

    effect = effect_of(tangle.issue_milestone([pay.tail_hash, again.tail_hash]))

    assert dict(effect.diff) == {ALICE: -120, BOB: 120}
    assert tangle.ledger == {BOB: 120}


def test_a_reattached_tail_sharing_the_rest_of_the_bundle_counts_twice() -> None:
    tangle = TangleBuilder()
    tangle.genesis({"alice": 120})
    pay = tangle.transfer("alice", BOB, 60)
    second_tail = tangle.reattach_tail(pay)
    assert second_tail.transactions[1:] == pay.transactions[1:]

    effect = effect_of(tangle.issue_milestone([pay.tail_hash, second_tail.tail_hash]))

    assert dict(effect.diff) == {ALICE: -120, BOB: 120}


# --- bundles that are not valid ------------------------------------------------------------------


def test_an_invalid_bundle_in_the_cone_fails_the_milestone_naming_its_tail(
    tangle: TangleBuilder,
) -> None:
    good = tangle.transfer("carol", DAVE, 50)
    bad = tangle.invalid_bundle("alice", BOB, 10)

    failure = failure_of(tangle.issue_milestone([good.tail_hash, bad.tail_hash]))

    assert failure.reason == "invalid_bundle"
    assert failure.tail == bad.tail_hash
    assert failure.verdict is not None and failure.verdict.reason == "signature"
    assert failure.verdicts_to_cache[bad.tail_hash] == failure.verdict
    assert tangle.ledger == {ALICE: 100, CAROL: 50}


def test_spent_addresses_of_bundles_counted_before_the_failure_are_reported(
    tangle: TangleBuilder,
) -> None:
    bad = tangle.invalid_bundle("alice", BOB, 10)
    # The valid bundle approves the invalid one, so the walk counts it first.
    good = tangle.transfer("carol", DAVE, 50, trunk=bad.tail_hash)

    failure = failure_of(tangle.issue_milestone([good.tail_hash]))

    assert failure.tail == bad.tail_hash
    assert failure.spent_addresses == (CAROL,)
    assert tangle.spent == {CAROL}
    assert set(failure.verdicts_to_cache) == {
        tangle.milestones[1].tail_hash,
        good.tail_hash,
        bad.tail_hash,
    }


def test_a_missing_tail_fails_the_walk(tangle: TangleBuilder) -> None:
    walk = balance_diff(tangle.reader, MISSING, 0, extra_rules=False)

    assert not walk.ok
    assert walk.failure == DiffFailure("missing_tail", MISSING)
    assert walk.visited == {MISSING}


def test_a_bundle_with_a_missing_transaction_fails_the_walk(tangle: TangleBuilder) -> None:
    pay = tangle.transfer("alice", BOB, 60)
    tangle.reader.remove(pay.transactions[2].hash)
    pointer = tangle.message("POINTER", trunk=pay.tail_hash)

    walk = balance_diff(tangle.reader, pointer.tail_hash, 0, extra_rules=False)

    assert walk.failure is not None
    assert walk.failure.reason == "invalid_bundle" and walk.failure.tail == pay.tail_hash
    assert walk.failure.verdict is not None
    assert walk.failure.verdict.status is BundleStatus.INCOMPLETE
    # INCOMPLETE is never cached (§5.8); the pointer's VALID verdict is.
    assert set(walk.verdicts_to_cache) == {pointer.tail_hash}


def test_a_milestone_approving_only_the_null_hash_changes_nothing(tangle: TangleBuilder) -> None:
    effect = effect_of(tangle.issue_milestone([NULL_HASH]))

    assert dict(effect.diff) == {}
    assert effect.spent_addresses == ()


# --- §5.8 verdict cache --------------------------------------------------------------------------


def test_verdicts_are_reported_once_and_then_read_from_the_cache(tangle: TangleBuilder) -> None:
    pay = tangle.transfer("alice", BOB, 60)
    walk = balance_diff(tangle.reader, pay.tail_hash, 0, extra_rules=False)
    verdict = walk.verdicts_to_cache[pay.tail_hash]
    assert verdict.valid and dict(verdict.value_diff) == {ALICE: -60, BOB: 60}

    tangle.reader.cache_verdicts(walk.verdicts_to_cache)
    again = balance_diff(tangle.reader, pay.tail_hash, 0, extra_rules=True)

    assert dict(again.verdicts_to_cache) == {}
    assert again.diff == walk.diff
    assert tangle.reader.meta(pay.tail_hash) is not None
    assert tangle.reader.metas[pay.tail_hash].validity is Validity.VALID


def test_an_extra_rule_failure_cached_by_a_tips_walk_blocks_a_later_milestone() -> None:
    def node() -> tuple[TangleBuilder, str]:
        tangle = TangleBuilder()
        tangle.genesis({"alice": 100})
        odd = tangle.transfer("alice", BOB, 60, extra_rules=False, trunk=tangle.message().tail_hash)
        return tangle, odd.tail_hash

    # A node that never judged the bundle with the extra rules applies the milestone.
    quiet, tail = node()
    effect_of(quiet.issue_milestone([tail]))
    assert quiet.ledger == {ALICE: 40, BOB: 60}

    # A node that did (getBalances with tips, tip selection) cached INVALID and cannot.
    busy, tail = node()
    tips_walk = balance_diff(busy.reader, tail, 0, extra_rules=True)
    assert tips_walk.failure is not None and tips_walk.failure.verdict is not None
    assert tips_walk.failure.verdict.reason == "transaction_approval"
    busy.reader.cache_verdicts(tips_walk.verdicts_to_cache)

    failure = failure_of(busy.issue_milestone([tail]))

    assert failure.reason == "invalid_bundle" and failure.tail == tail
    assert failure.verdict is not None and failure.verdict.reason == "transaction_approval"
    # The cached INVALID is not judged again, so not reported again; the milestone's VALID is.
    assert set(failure.verdicts_to_cache) == {busy.milestones[1].tail_hash}
    assert busy.ledger == {ALICE: 100}


# --- §7.2 milestone preconditions ----------------------------------------------------------------


def test_an_unsolid_milestone_is_not_applied(tangle: TangleBuilder) -> None:
    milestone = tangle.milestone([MISSING])

    outcome = milestone_effect(tangle.reader, milestone.tail_hash, 1, tangle.balances, 0, 0)

    failure = failure_of(outcome)
    assert failure.reason == "not_solid" and failure.detail == "the tail is not solid"
    absent = failure_of(milestone_effect(tangle.reader, MISSING, 1, tangle.balances, 0, 0))
    assert absent.detail == "the tail is not stored"


def test_an_applied_milestone_is_reported_as_such(tangle: TangleBuilder) -> None:
    pay = tangle.transfer("alice", BOB, 60)
    effect_of(tangle.issue_milestone([pay.tail_hash]))
    milestone = tangle.milestones[1].tail_hash

    outcome = milestone_effect(tangle.reader, milestone, 1, tangle.balances, 1, 0)

    assert outcome == MilestoneAlreadyApplied(1, milestone)


def test_a_milestone_tail_confirmed_by_another_milestone_needs_a_reset(
    tangle: TangleBuilder,
) -> None:
    milestone = tangle.milestone([NULL_HASH], 2)
    tangle.reader.set_snapshot_index([milestone.tail_hash], 1)

    outcome = milestone_effect(tangle.reader, milestone.tail_hash, 2, tangle.balances, 1, 0)

    assert outcome == MilestoneNeedsReset(2, milestone.tail_hash, 1)
    assert isinstance(outcome, MilestoneNeedsReset)
    assert "reset milestone 2" in outcome.message


# --- §7.5 the confirmed cone ---------------------------------------------------------------------


def test_the_cone_gets_every_approvee_but_stops_at_earlier_confirmed_ones(
    tangle: TangleBuilder,
) -> None:
    old = tangle.transfer("alice", BOB, 60, remainder_to=ALICE_1)
    effect_of(tangle.issue_milestone([old.tail_hash]))
    note = tangle.message("NOTE", trunk=old.tail_hash)
    spend = tangle.transfer("bob", DAVE, 60, trunk=note.tail_hash, branch=old.tail_hash)
    # A bundle whose tail the milestone does not reach: only its non-tails are approved.
    stray = tangle.transfer("carol", DAVE, 5)
    pointer = tangle.message("POINTER", trunk=stray.transactions[1].hash)

    effect = effect_of(tangle.issue_milestone([spend.tail_hash, pointer.tail_hash]))

    assert effect.confirmed == {
        *tangle.milestones[2].hashes,
        *spend.hashes,
        note.tail_hash,
        pointer.tail_hash,
        *stray.hashes[1:],
    }
    # The stray bundle's non-tails are now confirmed, but its value was never applied.
    assert tangle.reader.snapshot_index(stray.transactions[1].hash) == 2
    assert tangle.reader.snapshot_index(stray.tail_hash) == 0
    assert dict(effect.diff) == {BOB: -60, DAVE: 60}
    assert all(tangle.reader.snapshot_index(h) == 1 for h in old.hashes)
    assert effect.cone.corrupt_milestones == frozenset()
    assert dict(effect.new_solid_entry_points) == {}


def test_the_milestone_tail_is_taken_even_when_confirmed_before(tangle: TangleBuilder) -> None:
    milestone = tangle.milestone([NULL_HASH], 3)
    tangle.confirm(milestone, 1)

    cone = confirmed_cone(tangle.reader, milestone.tail_hash, 3, 0)

    # Appendix C item 5: the tail gets 3, the rest of its bundle keeps 1.
    assert cone.to_update == {milestone.tail_hash}


def test_the_cone_reports_later_milestones_that_confirmed_part_of_it(
    tangle: TangleBuilder,
) -> None:
    pay = tangle.transfer("alice", BOB, 60)
    tangle.reader.set_snapshot_index([pay.transactions[1].hash], 5)
    milestone = tangle.milestone([pay.tail_hash], 1)

    cone = confirmed_cone(tangle.reader, milestone.tail_hash, 1, 0)

    assert cone.corrupt_milestones == {5}
    assert cone.to_update == {*milestone.hashes, *pay.hashes}


def test_a_back_reference_below_the_initial_snapshot_becomes_a_solid_entry_point() -> None:
    tangle = TangleBuilder()
    tangle.genesis({"alice": 100}, index=10)
    old = tangle.message("OLD")
    older = tangle.message("OLDER")
    tangle.confirm(old, 9)
    tangle.confirm(older, 8)
    tangle.reader.add_solid_entry_points({older.tail_hash: 8})

    effect = effect_of(tangle.issue_milestone([old.tail_hash, older.tail_hash]))

    assert effect.index == 11
    assert dict(effect.new_solid_entry_points) == {old.tail_hash: 10}
    assert tangle.reader.solid_entry_points[old.tail_hash] == 10


def test_a_reset_un_confirms_what_the_milestone_confirmed(tangle: TangleBuilder) -> None:
    first = tangle.transfer("alice", BOB, 60)
    effect_of(tangle.issue_milestone([first.tail_hash]))
    second = tangle.transfer("bob", DAVE, 60, trunk=first.tail_hash)
    applied = effect_of(tangle.issue_milestone([second.tail_hash]))

    reset = confirmed_cone(tangle.reader, tangle.milestones[2].tail_hash, 2, 0, new_index=0)

    assert reset.new_index == 0
    assert reset.to_update == applied.confirmed
    assert first.tail_hash not in reset.to_update
