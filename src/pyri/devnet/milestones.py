"""Milestone bundles as IRI 1.8.6 validates them (iri-consensus-reference §6.2, worked layout).

For security S and milestone index i, the bundle has S + 1 transactions, all of value 0:

* 0 .. S-1 at the coordinator address (the Merkle root), with i in the first 15 trits of the
  obsoleteTag (and, as attachToTangle would copy it, in the tag); transaction k carries fragment
  k of the WOTS signature of key i;
* S, the sibling transaction and head, at the null address, carries the Merkle siblings of
  key i (leaf level first) in its signatureMessageFragment.

The signature is over normalize(Curl-P-81 hash of the sibling transaction) (§6.2 step 6), which
covers the sibling's trunk and branch: what the milestone confirms. That hash exists only once
the sibling has its proof of work, so the head is attached first, then signed, then the
signature transactions are attached below it (each one's trunk the transaction above, its
branch the head's trunk, §5.6, §6.2 step 5).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from pyri.crypto import wots
from pyri.devnet.bundle_builder import FRAGMENT_TRYTES, Clock, Draft, attach, seal
from pyri.devnet.errors import CoordinatorError
from pyri.devnet.merkle_tree import KeyTree, TreeSpec, build_key_tree, load_key_tree
from pyri.model.transaction import Transaction
from pyri.trinary import NULL_HASH, int_to_trytes, trits_to_trytes, trytes_to_trits

INDEX_TRYTES = 5  # 15 trits (§6.1)


def index_tag(index: int) -> str:
    """The obsoleteTag of a milestone: its index in the first 15 trits, then 9s."""
    return int_to_trytes(index, INDEX_TRYTES).ljust(27, "9")


@dataclass(frozen=True)
class CoordinatorKeys:
    """A coordinator's seed with its key tree: everything needed to sign milestone i."""

    seed: str
    tree: KeyTree

    @classmethod
    def open(cls, directory: Path, seed: str) -> CoordinatorKeys:
        return cls(seed, load_key_tree(directory, seed))

    @classmethod
    def build(
        cls, directory: Path, seed: str, spec: TreeSpec, *, workers: int = 1, progress: bool = True
    ) -> CoordinatorKeys:
        """Load the tree in ``directory``, finish it, or generate it (with a progress bar)."""
        from pyri.devnet.merkle_tree import TreeProgress

        with TreeProgress(spec) as bar:
            tree = build_key_tree(
                directory, seed, spec, workers=workers, on_progress=bar if progress else None
            )
        return cls(seed, tree)

    @property
    def address(self) -> str:
        """The coordinator address: the root of the key tree."""
        return self.tree.root

    @property
    def spec(self) -> TreeSpec:
        return self.tree.spec

    def sign(self, index: int, signed_hash: str) -> list[str]:
        """The S signature fragments of key ``index`` over ``signed_hash``. Each key must sign
        one hash only (WOTS): the coordinator records a milestone before it sends it."""
        spec = self.tree.spec
        subseed = wots.subseed(trytes_to_trits(self.seed), index, spec.mode)
        key = wots.private_key(subseed, spec.security, spec.mode)
        signature = trits_to_trytes(wots.sign(key, signed_hash, spec.mode))
        return [
            signature[k * FRAGMENT_TRYTES : (k + 1) * FRAGMENT_TRYTES] for k in range(spec.security)
        ]


def build_milestone(
    keys: CoordinatorKeys,
    index: int,
    trunk: str,
    branch: str,
    mwm: int,
    clock: Clock = time.time,
) -> list[Transaction]:
    """The milestone bundle for ``index`` approving ``trunk`` and ``branch`` (both tails, or the
    null hash), attached with proof of work at ``mwm``; tail first."""
    spec = keys.spec
    if not 0 <= index < spec.leaves:
        raise CoordinatorError(
            f"milestone {index} needs key {index}, but the key tree has {spec.leaves} keys "
            f"(depth {spec.depth}); start a new network with a deeper tree"
        )
    now = int(clock())
    tag = index_tag(index)
    signers = [
        Draft(address=keys.address, obsolete_tag=tag, tag=tag, timestamp=now)
        for _ in range(spec.security)
    ]
    sibling = Draft(address=NULL_HASH, fragment=keys.tree.path(index), timestamp=now)
    sealed = seal([*signers, sibling])
    head = attach(sealed[-1], trunk, branch, mwm, int(clock() * 1000))
    fragments = keys.sign(index, head.hash)
    attached = [head]
    for k in reversed(range(spec.security)):
        # The fragment is not part of the essence: filling it in keeps the bundle hash.
        signed = replace(sealed[k], fragment=fragments[k])
        attached.append(attach(signed, attached[-1].hash, trunk, mwm, int(clock() * 1000)))
    attached.reverse()
    return attached
