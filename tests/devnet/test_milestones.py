"""Milestones built by the devnet coordinator validate as IRI 1.8.6 validates them (§6.2)."""

from __future__ import annotations

import itertools

import pytest

from pyri.consensus.milestone import MilestoneStatus, validate_milestone
from pyri.crypto.sponge import SpongeMode
from pyri.devnet.errors import CoordinatorError
from pyri.devnet.milestones import build_milestone, index_tag
from pyri.model.bundle import validate_bundle
from pyri.trinary import NULL_HASH, int_to_trytes
from tests.devnet.conftest import KeysFactory, node_config

MWM = 4


@pytest.mark.parametrize("mode", [SpongeMode.CURLP27, SpongeMode.KERL])
@pytest.mark.parametrize("security", [1, 2, 3])
def test_milestone_validates(
    coordinator_keys: KeysFactory, mode: SpongeMode, security: int
) -> None:
    keys = coordinator_keys(3, security, mode)
    bundle = build_milestone(keys, 6, NULL_HASH, NULL_HASH, MWM)
    lookup = {tx.hash: tx for tx in bundle}
    verdict = validate_milestone(bundle[0], lookup.get, node_config(keys), known_index_hash=None)
    assert verdict.status is MilestoneStatus.VALID, verdict.message
    assert verdict.reason == "valid"
    assert len(bundle) == security + 1
    assert all(tx.weight_magnitude >= MWM for tx in bundle)
    assert bundle[0].milestone_index == 6
    assert all(tx.address == keys.address for tx in bundle[:security])
    assert bundle[-1].address == NULL_HASH


def test_milestone_layout_and_approvees(coordinator_keys: KeysFactory) -> None:
    keys = coordinator_keys(3, 2, SpongeMode.CURLP27)
    first = build_milestone(keys, 1, NULL_HASH, NULL_HASH, MWM)
    second = build_milestone(keys, 2, NULL_HASH, NULL_HASH, MWM)
    approvees = [*first, *second]
    trunk, branch = first[0].hash, second[0].hash  # tails, as §5.6 a wants
    bundle = build_milestone(keys, 3, trunk, branch, MWM)
    head = bundle[-1]
    assert (head.trunk_transaction, head.branch_transaction) == (trunk, branch)
    for lower, upper in itertools.pairwise(bundle):
        assert lower.trunk_transaction == upper.hash
        assert lower.branch_transaction == trunk  # §5.6 b and §6.2 step 5
    assert bundle[0].obsolete_tag == index_tag(3) == bundle[0].tag
    assert bundle[0].obsolete_tag.startswith(int_to_trytes(3, 5))
    assert all(tx.value == 0 for tx in bundle)
    lookup = {tx.hash: tx for tx in [*approvees, *bundle]}
    assert validate_bundle(bundle, enforce_extra_rules=True, lookup=lookup.get).valid
    config = node_config(keys)
    assert validate_milestone(bundle[0], lookup.get, config, known_index_hash=None).valid
    # A node trusting another coordinator refuses it.
    stranger = node_config(coordinator_keys(4, 2, SpongeMode.CURLP27))
    verdict = validate_milestone(bundle[0], lookup.get, stranger, known_index_hash=None)
    assert verdict.reason == "wrong_root"


def test_index_must_have_a_key(coordinator_keys: KeysFactory) -> None:
    keys = coordinator_keys(3, 1, SpongeMode.CURLP27)
    with pytest.raises(CoordinatorError, match="8 keys"):
        build_milestone(keys, 8, NULL_HASH, NULL_HASH, MWM)
