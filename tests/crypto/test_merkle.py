"""Merkle trees: IRI's coordinator milestones (milestones.json) and generated trees."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyri.crypto import merkle, wots
from pyri.crypto.curl import curl_hash
from pyri.crypto.sponge import SpongeMode
from pyri.errors import CryptoError
from pyri.trinary import trits_to_trytes, trytes_to_trits
from tests.vectors import cases, load_vectors


def _coordinator_root(case: dict[str, Any], mode: SpongeMode, depth: int, index: int) -> str:
    """The Merkle root a milestone bundle's signature and siblings imply."""
    trytes = case["trytes"]
    security = int(case["security"])
    head = trytes_to_trits(trytes[security])
    signed_hash = curl_hash(head)
    normalized = wots.normalize(signed_hash)
    signature = np.concatenate([trytes_to_trits(t[:2187]) for t in trytes[:security]])
    leaf = wots.address_from_digests(wots.signature_digests(signature, normalized, mode), mode)
    siblings = trytes_to_trits(trytes[security][: 81 * depth]) if depth else np.zeros(0, np.int8)
    return trits_to_trytes(merkle.root_from_path(leaf, index, siblings, mode, depth))


@pytest.mark.parametrize("case", cases("milestones", "milestone"))
def test_real_milestones_reach_their_coordinator(case: dict[str, Any]) -> None:
    mode = SpongeMode.parse(case["signature_mode"])
    depth = int(case["merkle_depth"])
    index = int(case["milestone_index"])
    assert (
        trits_to_trytes(curl_hash(trytes_to_trits(case["trytes"][int(case["security"])])))
        == (case["signed_hash"])
    )
    security = int(case["security"])
    signature = np.concatenate([trytes_to_trits(t[:2187]) for t in case["trytes"][:security]])
    normalized = wots.normalize(case["signed_hash"])
    leaf = wots.address_from_digests(wots.signature_digests(signature, normalized, mode), mode)
    assert trits_to_trytes(leaf) == case["leaf_address"]
    path = trytes_to_trits("".join(case["siblings"]))
    assert (
        trits_to_trytes(merkle.root_from_path(leaf, index, path, mode, depth))
        == (case["coordinator_address"])
    )
    assert _coordinator_root(case, mode, depth, index) == case["coordinator_address"]


@pytest.mark.parametrize("case", cases("milestones", "milestone_negative"))
def test_forged_milestones_miss_the_coordinator(case: dict[str, Any]) -> None:
    originals = {c["id"]: c for c in load_vectors("milestones")["cases"] if "merkle_depth" in c}
    base = originals[case["based_on"]]
    coordinator = case.get("coordinator_address", base["coordinator_address"])
    mode = SpongeMode.parse(base["signature_mode"])
    depth = int(base["merkle_depth"])
    index = int(base["milestone_index"])
    trytes = case.get("trytes", base["trytes"])
    change = case["change"]
    if "signature_mode KERL" in change:
        mode = SpongeMode.KERL
    if "merkle_depth 8" in change:
        depth = 8
    if "milestone index 4 -> 5" in change:
        index = 5
    root = _coordinator_root({**base, "trytes": trytes}, mode, depth, index)
    assert root != coordinator, case["reason"]


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 4), st.sampled_from(list(SpongeMode)), st.integers(0, 2**32 - 1))
def test_every_leaf_path_leads_to_the_root(depth: int, mode: SpongeMode, seed: int) -> None:
    leaves = np.random.default_rng(seed).integers(-1, 2, (2**depth, 243)).astype(np.int8)
    levels = merkle.merkle_levels(leaves, mode)
    root = merkle.merkle_root(leaves, mode)
    for index in range(2**depth):
        path = merkle.merkle_path(levels, index)
        assert np.array_equal(merkle.root_from_path(leaves[index], index, path, mode, depth), root)
        if depth:
            # Any other index takes the wrong branches and misses the root.
            other = (index + 1) % 2**depth
            assert not np.array_equal(
                merkle.root_from_path(leaves[index], other, path, mode, depth), root
            )


def test_index_beyond_depth_gives_null_hash() -> None:
    leaves = np.random.default_rng(5).integers(-1, 2, (4, 243)).astype(np.int8)
    levels = merkle.merkle_levels(leaves, SpongeMode.CURLP27)
    path = merkle.merkle_path(levels, 1)
    root = merkle.root_from_path(leaves[1], 1 + 4, path, SpongeMode.CURLP27, 2)
    assert not root.any()


def test_parent_is_hash_of_left_then_right() -> None:
    leaves = np.random.default_rng(6).integers(-1, 2, (2, 243)).astype(np.int8)
    root = merkle.merkle_root(leaves, SpongeMode.KERL)
    from pyri.crypto.kerl import kerl_hash

    assert np.array_equal(root, kerl_hash(np.concatenate([leaves[0], leaves[1]])))


def test_bad_trees() -> None:
    with pytest.raises(CryptoError, match="power-of-two"):
        merkle.merkle_levels(np.zeros((3, 243), np.int8), SpongeMode.KERL)
    levels = merkle.merkle_levels(np.zeros((2, 243), np.int8), SpongeMode.KERL)
    with pytest.raises(CryptoError, match="outside the tree"):
        merkle.merkle_path(levels, 2)
