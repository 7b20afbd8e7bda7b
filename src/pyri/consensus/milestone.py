"""Milestones: recognising coordinator transactions and judging them as IRI 1.8.6 does (§6.1, §6.2).

``validate_milestone`` is IRI's ``MilestoneServiceImpl.validateMilestone``: a pure function of the
tail, a transaction lookup, the coordinator configuration and the hash already recorded for the
tail's index. It has no side effects; the caller does what §6.2 step 10 and §6.3 say:

* ``verdict.records_index``: store the record ``index → hash``, set the tail's milestone flag,
  raise the latest milestone index, and reset a corrupted milestone if the new index lies below
  the latest snapshot (§6.7);
* ``verdict.bundle``, when present and ``cacheable``: write it into the tail's validity cache.
  IRI's bundle validator flags the tail during milestone validation whatever the milestone
  verdict turns out to be (§5.8, Appendix C item 3), so a VALID bundle of an INVALID milestone is
  cached as valid, and an extra-rule failure of a coordinator-address tail is cached as invalid.

The verdict INCOMPLETE covers every bundle that is not VALID, the invalid ones included: IRI never
marks such a milestone INVALID, it asks for it again on every round (§6.2 step 3, §6.6).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal, TypeAlias, get_args

import numpy as np

from pyri.consensus.coordinator import CoordinatorConfig
from pyri.consensus.view import TangleReader
from pyri.crypto import wots
from pyri.crypto.merkle import root_from_path
from pyri.errors import PyriError
from pyri.model.bundle import (
    BundleStatus,
    BundleVerdict,
    Lookup,
    assemble_bundle,
    validate_from_tail,
)
from pyri.model.transaction import Transaction
from pyri.trinary import HASH_TRITS, trits_to_trytes, trytes_to_trits


class MilestoneStatus(enum.Enum):
    """IRI's ``MilestoneValidity``."""

    VALID = "valid"
    INVALID = "invalid"
    INCOMPLETE = "incomplete"


ReasonCode: TypeAlias = Literal[
    "valid",
    "valid_unverified",
    "already_recorded",
    "index_out_of_range",
    "index_taken",
    "bundle_not_valid",
    "structure",
    "wrong_root",
]
REASONS: Final[tuple[ReasonCode, ...]] = get_args(ReasonCode)

MESSAGES: Final[Mapping[ReasonCode, str]] = MappingProxyType(
    {
        "valid": "valid milestone: the signature and Merkle path lead to the coordinator",
        "valid_unverified": "accepted without checking the signature (--testnet-no-coo-validation)",
        "already_recorded": "this milestone is already recorded for its index",
        "index_out_of_range": "the milestone index lies outside 0 .. 2^keys - 1",
        "index_taken": "another milestone is already recorded for this index",
        "bundle_not_valid": "the milestone bundle is not (yet) valid",
        "structure": "the milestone bundle does not have the coordinator's structure",
        "wrong_root": "the signature and Merkle path do not lead to the coordinator address",
    }
)

_STATUS: Final[Mapping[ReasonCode, MilestoneStatus]] = MappingProxyType(
    {
        "valid": MilestoneStatus.VALID,
        "valid_unverified": MilestoneStatus.VALID,
        "already_recorded": MilestoneStatus.VALID,
        "index_out_of_range": MilestoneStatus.INVALID,
        "index_taken": MilestoneStatus.INVALID,
        "bundle_not_valid": MilestoneStatus.INCOMPLETE,
        "structure": MilestoneStatus.INVALID,
        "wrong_root": MilestoneStatus.INVALID,
    }
)
# Steps 1 and 2 decide before the bundle is looked at; every later verdict carries it.
_BEFORE_BUNDLE: Final = frozenset({"already_recorded", "index_out_of_range", "index_taken"})


class MilestoneVerdictError(PyriError, ValueError):
    """A milestone verdict was built from parts that do not fit together (a programming error)."""


@dataclass(frozen=True, slots=True)
class MilestoneVerdict:
    """The judgement of one milestone candidate (one tail).

    ``bundle`` is the verdict of §6.2 step 3, None when step 1 or 2 decided first; for
    INCOMPLETE it is the non-VALID verdict that caused it. ``detail`` adds the specifics to the
    reason's fixed message.
    """

    status: MilestoneStatus
    reason: ReasonCode
    index: int
    hash: str
    bundle: BundleVerdict | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        if _STATUS.get(self.reason) is not self.status:
            raise MilestoneVerdictError(f"reason {self.reason!r} does not go with {self.status}")
        if (self.bundle is None) != (self.reason in _BEFORE_BUNDLE):
            raise MilestoneVerdictError(f"reason {self.reason!r} and bundle {self.bundle} clash")
        # Only INCOMPLETE comes from a bundle that is not VALID.
        if self.bundle is not None and self.bundle.valid == (self.reason == "bundle_not_valid"):
            raise MilestoneVerdictError(f"reason {self.reason!r} and bundle {self.bundle} clash")

    @property
    def valid(self) -> bool:
        return self.status is MilestoneStatus.VALID

    @property
    def records_index(self) -> bool:
        """Whether the caller must now store ``index → hash`` (§6.2 step 10, §6.3): a VALID
        verdict that did not come from an existing record."""
        return self.reason in ("valid", "valid_unverified")

    @property
    def message(self) -> str:
        text = MESSAGES[self.reason]
        if self.detail:
            text += f": {self.detail}"
        if self.status is MilestoneStatus.INCOMPLETE and self.bundle is not None:
            text += f": {self.bundle.message}"
        return text


def _verdict(
    tail: Transaction,
    reason: ReasonCode,
    bundle: BundleVerdict | None = None,
    detail: str = "",
) -> MilestoneVerdict:
    return MilestoneVerdict(
        _STATUS[reason], reason, tail.milestone_index, tail.hash, bundle, detail
    )


def is_candidate(tx: Transaction, config: CoordinatorConfig) -> bool:
    """Whether ``tx`` is a milestone candidate (§6.1): a tail at the coordinator address. Only
    candidates are passed to ``validate_milestone``; IRI's validation itself never looks at the
    address."""
    return tx.current_index == 0 and tx.address == config.address


def coordinator_root(bundle: Sequence[Transaction], index: int, config: CoordinatorConfig) -> str:
    """The Merkle root that the signature of a structurally sound milestone bundle leads to
    (§6.2 steps 6-9); the milestone is genuine when it equals the coordinator address."""
    security = config.security
    mode = config.signature_mode
    sibling = bundle[security]
    # The coordinator signs the sibling's Curl-P-81 transaction hash, not the bundle hash, so the
    # signature covers what the milestone approves (its trunk and branch) (§6.2 step 6).
    signed = wots.normalize(sibling.hash)
    # Fragment i signs normalized segment i (IRI reads 27·i trytes on); one batched call hashes
    # the chunks of all S fragments.
    signature = trytes_to_trits("".join(tx.signature_message_fragment for tx in bundle[:security]))
    digests = wots.signature_digests(signature, signed, mode, first_fragment=0)
    leaf = wots.address_from_digests(digests, mode)
    # IRI reads the siblings from the start of the whole transaction's trits, not from the
    # fragment field: for D <= 27 that is the same (the configuration allows no more).
    siblings = sibling.trits()[: HASH_TRITS * config.depth]
    root = root_from_path(leaf, index, np.ascontiguousarray(siblings), mode, config.depth)
    return trits_to_trytes(root)


def validate_milestone(
    tail: Transaction,
    lookup: Lookup,
    config: CoordinatorConfig,
    *,
    known_index_hash: str | None,
    cached_bundle: BundleVerdict | None = None,
) -> MilestoneVerdict:
    """IRI's ``validateMilestone(tail, index)`` with index = ``tail.milestone_index`` (§6.2).

    ``known_index_hash`` is the tail hash already recorded for that index, if any (step 2).
    ``cached_bundle`` is the bundle verdict cached on the tail (§5.8), which step 3 honours as
    IRI's validity flag; see the module docstring for what to do with the result.
    """
    index = tail.milestone_index
    # Step 1. The index is read from 15 trits, so it can be negative; the upper bound is 2^D.
    if not 0 <= index < config.max_index:
        return _verdict(tail, "index_out_of_range", detail=f"index {index}, keys {config.depth}")
    # Step 2. The first milestone recorded for an index wins for good, without any further check.
    if known_index_hash is not None:
        if known_index_hash == tail.hash:
            return _verdict(tail, "already_recorded")
        return _verdict(
            tail, "index_taken", detail=f"index {index} is recorded for {known_index_hash}"
        )
    # Step 3. The bundle with the extra rules (§5.6); anything short of VALID, an INVALID bundle
    # or a non-tail included, leaves the milestone INCOMPLETE, never INVALID.
    bundle = validate_from_tail(tail, lookup, enforce_extra_rules=True, cached=cached_bundle)
    if bundle.status is not BundleStatus.VALID:
        return _verdict(tail, "bundle_not_valid", bundle)
    # Step 4. A VALID verdict means the whole chain loads; only a lookup that changed in
    # between (a transaction pruned meanwhile) can miss one now, and then it is missing.
    chain = assemble_bundle(tail, lookup)
    if chain is None:
        missing = BundleVerdict(BundleStatus.INCOMPLETE, "incomplete")
        return _verdict(tail, "bundle_not_valid", missing)
    # Step 5. S signature transactions, then the sibling transaction; every signature
    # transaction's branch is the sibling's trunk. With exactly S + 1 transactions the extra
    # rules of step 3 already demand this, so only a longer bundle can fail here.
    security = config.security
    if len(chain) <= security:
        detail = f"{len(chain)} transactions for security {security}"
        return _verdict(tail, "structure", bundle, detail)
    sibling_trunk = chain[security].trunk_transaction
    for i, tx in enumerate(chain[:security]):
        if tx.branch_transaction != sibling_trunk:
            detail = f"transaction {i}'s branch is not the sibling transaction's trunk"
            return _verdict(tail, "structure", bundle, detail)
    # Step 10's escape hatch: IRI still computes steps 6-9 and then ignores the result; they
    # cannot fail or raise, so skipping them gives the same verdict at none of the cost.
    if config.skip_validation:
        return _verdict(tail, "valid_unverified", bundle)
    # Steps 6-10.
    root = coordinator_root(chain, index, config)
    if root != config.address:
        return _verdict(tail, "wrong_root", bundle, f"root {root}")
    return _verdict(tail, "valid", bundle)


def validate_milestone_in(
    reader: TangleReader,
    tail: Transaction,
    config: CoordinatorConfig,
    *,
    known_index_hash: str | None,
) -> MilestoneVerdict:
    """``validate_milestone`` against a Tangle read view, with the tail's cached bundle
    verdict taken from the view, as IRI reads the tail's validity flag (§5.8)."""
    return validate_milestone(
        tail,
        reader.transaction,
        config,
        known_index_hash=known_index_hash,
        cached_bundle=reader.cached_verdict(tail.hash),
    )
