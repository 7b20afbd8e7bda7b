"""Merkle trees over WOTS addresses: the coordinator's key tree (iri-consensus-reference §4.5).

A parent is H(left || right) with a fresh sponge of the tree's mode. A leaf's path is its
siblings from the bottom up; bit i of the leaf index says whether the node at level i is a left
(0) or right (1) child.
"""

from __future__ import annotations

import numpy as np

from pyri.crypto.sponge import SpongeMode, hash_rows, hash_trits
from pyri.errors import CryptoError
from pyri.trinary import HASH_TRITS, Trits


def merkle_levels(leaves: Trits, mode: SpongeMode) -> list[Trits]:
    """Every level of the tree, leaves first, the root (one row) last. The number of leaves must
    be a power of two. Each level is hashed in one batched call."""
    level = np.ascontiguousarray(leaves, dtype=np.int8).reshape(-1, HASH_TRITS)
    count = level.shape[0]
    if count == 0 or count & (count - 1):
        raise CryptoError(f"a Merkle tree needs a power-of-two number of leaves, got {count}")
    levels = [level]
    while level.shape[0] > 1:
        level = hash_rows(mode, level.reshape(-1, 2 * HASH_TRITS))
        levels.append(level)
    return levels


def merkle_root(leaves: Trits, mode: SpongeMode) -> Trits:
    root: Trits = merkle_levels(leaves, mode)[-1][0].copy()
    return root


def merkle_path(levels: list[Trits], index: int) -> Trits:
    """The siblings of leaf ``index`` from the bottom level up (243 trits each)."""
    if not 0 <= index < levels[0].shape[0]:
        raise CryptoError(f"leaf index {index} outside the tree of {levels[0].shape[0]} leaves")
    siblings = []
    for level in levels[:-1]:
        siblings.append(level[index ^ 1])
        index >>= 1
    if not siblings:
        return np.zeros(0, dtype=np.int8)
    return np.concatenate(siblings)


def root_from_path(
    leaf: Trits, index: int, path: Trits, mode: SpongeMode, depth: int | None = None
) -> Trits:
    """The root a leaf and its sibling path imply. As in IRI, an index that needs more than
    ``depth`` bits gives the null hash, which never equals a real root."""
    siblings = np.asarray(path, dtype=np.int8).reshape(-1, HASH_TRITS)
    levels = siblings.shape[0] if depth is None else depth
    if levels > siblings.shape[0]:
        raise CryptoError(f"a path of {siblings.shape[0]} siblings cannot reach depth {levels}")
    node = np.asarray(leaf, dtype=np.int8)
    for level in range(levels):
        pair = (node, siblings[level]) if index & 1 == 0 else (siblings[level], node)
        node = hash_trits(mode, np.concatenate(pair))
        index >>= 1
    if index != 0:
        return np.zeros(HASH_TRITS, dtype=np.int8)
    return node
