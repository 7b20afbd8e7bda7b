"""The coordinator's key tree: batched leaves equal the straightforward per-key path, the stored
tree equals ``merkle_levels`` over them, and a stored tree is loaded, resumed or refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pyri.crypto import wots
from pyri.crypto.merkle import merkle_levels, merkle_path, root_from_path
from pyri.crypto.sponge import SpongeMode
from pyri.devnet.errors import KeyTreeError
from pyri.devnet.merkle_tree import (
    TreeSpec,
    build_key_tree,
    leaf_addresses,
    load_key_tree,
    pack_nodes,
    stored_spec,
    subseed_inputs,
    unpack_nodes,
)
from pyri.trinary import int_to_trits, trits_to_int, trits_to_trytes, trytes_to_trits

SEED = "PYRI9TREE9TEST9SEED".ljust(81, "9")


def _subseed_input(seed: np.ndarray, index: int) -> np.ndarray:
    # What wots.subseed hashes, spelled out.
    total = int_to_trits(trits_to_int(seed) + index)[:243]
    expected = np.zeros(243, dtype=np.int8)
    expected[: total.shape[0]] = total
    return expected


@pytest.mark.parametrize("seed", [SEED, "M" * 81, "N" * 81, "9" * 81])
@pytest.mark.parametrize("first", [0, 1, 3**13 - 5, 3**40])
def test_subseed_inputs_add_the_index_with_carries(seed: str, first: int) -> None:
    trits = trytes_to_trits(seed)
    rows = subseed_inputs(trits, first, 70)
    for k in (0, 1, 13, 40, 69):
        assert np.array_equal(rows[k], _subseed_input(trits, first + k)), k


@pytest.mark.parametrize("mode", list(SpongeMode))
@pytest.mark.parametrize("security", [1, 2, 3])
def test_batched_leaves_equal_wots_addresses(mode: SpongeMode, security: int) -> None:
    seed = trytes_to_trits(SEED)
    leaves = leaf_addresses(seed, 5, 3, security, mode)
    for k in range(3):
        assert np.array_equal(leaves[k], wots.address(seed, 5 + k, security, mode))


@pytest.mark.parametrize("mode", list(SpongeMode))
def test_tree_equals_merkle_levels_of_individual_addresses(
    mode: SpongeMode, tmp_path: Path
) -> None:
    depth = 4
    seed = trytes_to_trits(SEED)
    addresses = np.stack([wots.address(seed, k, 1, mode) for k in range(1 << depth)])
    expected = merkle_levels(addresses, mode)
    # Chunks of 4 leaves: subtrees within chunks and the levels above them both get tested.
    tree = build_key_tree(tmp_path, SEED, TreeSpec(depth, 1, mode), chunk_leaves=4, workers=2)
    assert len(tree.levels()) == depth + 1
    for built, wanted in zip(tree.levels(), expected, strict=True):
        assert np.array_equal(built, wanted)
    assert tree.root == trits_to_trytes(expected[-1][0])
    for index in (0, 5, 15):
        assert tree.leaf(index) == trits_to_trytes(addresses[index])
        assert tree.path(index) == trits_to_trytes(merkle_path(expected, index))
        root = root_from_path(addresses[index], index, trytes_to_trits(tree.path(index)), mode)
        assert trits_to_trytes(root) == tree.root


def test_saved_tree_loads_identical(tmp_path: Path) -> None:
    spec = TreeSpec(3, 2, SpongeMode.CURLP27)
    built = build_key_tree(tmp_path, SEED, spec)
    loaded = load_key_tree(tmp_path, SEED)
    assert loaded.spec == spec == stored_spec(tmp_path)
    assert loaded.root == built.root
    assert all(np.array_equal(a, b) for a, b in zip(built.levels(), loaded.levels(), strict=True))
    # Opening it again with build_key_tree loads, and reports every leaf done at once.
    seen: list[int] = []
    again = build_key_tree(tmp_path, SEED, spec, on_progress=seen.append)
    assert again.root == built.root and seen == [8]


def test_interrupted_generation_resumes(tmp_path: Path) -> None:
    spec = TreeSpec(4, 1, SpongeMode.CURLP27)
    whole = build_key_tree(tmp_path / "whole", SEED, spec)
    calls: list[int] = []

    def interrupt(leaves: int) -> None:
        calls.append(leaves)
        if len(calls) == 3:  # the baseline call, then two chunks of 4
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_key_tree(tmp_path / "part", SEED, spec, chunk_leaves=4, on_progress=interrupt)
    with pytest.raises(KeyTreeError, match="no finished key tree"):
        load_key_tree(tmp_path / "part", SEED)
    resumed: list[int] = []
    tree = build_key_tree(tmp_path / "part", SEED, spec, on_progress=resumed.append)
    assert resumed[0] == 8  # two chunks were kept
    assert sum(resumed) == 16
    assert tree.root == whole.root


def test_tree_of_another_seed_or_shape_is_refused(tmp_path: Path) -> None:
    spec = TreeSpec(2, 1, SpongeMode.CURLP27)
    build_key_tree(tmp_path, SEED, spec)
    with pytest.raises(KeyTreeError, match="another seed"):
        load_key_tree(tmp_path, "A" * 81)
    with pytest.raises(KeyTreeError, match="not depth 3"):
        build_key_tree(tmp_path, SEED, TreeSpec(3, 1, SpongeMode.CURLP27))


def test_spec_bounds() -> None:
    with pytest.raises(KeyTreeError):
        TreeSpec(28, 1, SpongeMode.KERL)
    with pytest.raises(KeyTreeError):
        TreeSpec(3, 4, SpongeMode.KERL)


def test_node_packing_round_trips() -> None:
    nodes = np.random.default_rng(1).integers(-1, 2, (9, 243)).astype(np.int8)
    packed = pack_nodes(nodes)
    assert packed.shape == (9, 49)
    assert np.array_equal(unpack_nodes(packed), nodes)
