"""Attaching bundles locally: chaining, proof of work, timestamps, reattachment."""

from __future__ import annotations

import itertools

from pyri.devnet.bundle_builder import (
    ATTACHMENT_UPPER_BOUND,
    Draft,
    attach_bundle,
    bundle_hash,
    pad_tag,
    reattach_bundle,
    seal,
)
from pyri.model.bundle import validate_bundle
from pyri.trinary import NULL_HASH

MWM = 5
ADDRESS = "PYRI9BUILDER".ljust(81, "9")


def _drafts(count: int) -> list[Draft]:
    return seal(
        [Draft(ADDRESS, 0, pad_tag("TEST"), pad_tag("TEST"), "HELLO", 1_700_000_000)] * count
    )


def test_seal_numbers_and_hashes() -> None:
    sealed = _drafts(3)
    assert [d.current_index for d in sealed] == [0, 1, 2]
    assert {d.last_index for d in sealed} == {2}
    assert {d.bundle for d in sealed} == {bundle_hash(sealed)}


def test_attach_chains_head_first_with_proof_of_work() -> None:
    tip_a = attach_bundle(_drafts(1), NULL_HASH, NULL_HASH, MWM, clock=lambda: 1_700_000_001.5)
    tip_b = attach_bundle(_drafts(1), NULL_HASH, NULL_HASH, MWM)
    bundle = attach_bundle(
        _drafts(3), tip_a[0].hash, tip_b[0].hash, MWM, clock=lambda: 1_700_000_002.25
    )
    head = bundle[-1]
    assert (head.trunk_transaction, head.branch_transaction) == (tip_a[0].hash, tip_b[0].hash)
    for lower, upper in itertools.pairwise(bundle):
        assert lower.trunk_transaction == upper.hash
        assert lower.branch_transaction == head.trunk_transaction
    for tx in bundle:
        assert tx.weight_magnitude >= MWM
        assert tx.attachment_timestamp == 1_700_000_002_250
        assert tx.attachment_timestamp_lower_bound == 0
        assert tx.attachment_timestamp_upper_bound == ATTACHMENT_UPPER_BOUND
    lookup = {tx.hash: tx for tx in [*tip_a, *tip_b, *bundle]}
    assert validate_bundle(bundle, enforce_extra_rules=True, lookup=lookup.get).valid


def test_reattachment_keeps_the_bundle_and_changes_the_hashes() -> None:
    first = attach_bundle(_drafts(2), NULL_HASH, NULL_HASH, MWM)
    tip = attach_bundle(_drafts(1), NULL_HASH, NULL_HASH, MWM)
    again = reattach_bundle(first, tip[0].hash, tip[0].hash, MWM)
    assert [tx.bundle for tx in again] == [tx.bundle for tx in first]
    assert [tx.essence for tx in again] == [tx.essence for tx in first]
    assert not {tx.hash for tx in again} & {tx.hash for tx in first}
    assert validate_bundle(again).valid
