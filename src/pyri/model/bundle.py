"""Bundles: loading one from its tail and judging it exactly as IRI 1.8.6 does (reference §5).

``validate_from_tail`` is IRI's ``BundleValidator.validate``: load the chain from the tail
(§5.3), walk it once checking the semantic rules (§5.5), then the bundle hash (§5.2), the extra
rules when asked (§5.6) and the signatures (§5.7). The first broken rule decides, in that order.
``validate_bundle`` runs the same judgement on a list the caller has already ordered.

IRI has one non-verdict, UNKNOWN: the walk needed a transaction that the loader did not load.
pyri splits it by cause, because the cure differs: INCOMPLETE when the transaction is absent
(it may still arrive, or was pruned), UNKNOWN when the chain runs into a stored transaction
that is not part of the bundle (another bundle hash, or currentIndex 0). Neither is INVALID:
callers treat both as "not valid", but milestone validation turns them into INCOMPLETE rather
than INVALID (Appendix B items 7, 8), and neither is cached.

Caching (§5.8). IRI keeps a validity flag on the tail only, and it changes later verdicts:

* persist a verdict when ``verdict.cacheable`` (VALID or INVALID, and IRI would have written the
  flag), keyed by the tail hash, with ``encode()``; never on a non-tail; INCOMPLETE and UNKNOWN
  are never persisted;
* pass the stored verdict back as ``validate_from_tail(..., cached=...)``. A cached INVALID is
  returned at once, whatever ``enforce_extra_rules`` is (shortcut A: a bundle that failed only an
  extra rule is then also refused when a milestone is applied, and that milestone cannot be
  applied; IRI behaves so and pyri must too). A cached VALID still loads and walks the chain but
  skips the bundle hash, extra rules and signatures (shortcut B). ``revalidate_cached`` gives
  the same answer reading only the trunks of the chain (see there why that is enough).

Which callers enforce the extra rules (§5.6, Appendix C item 6): milestone validation,
checkConsistency, the tip-selection walk and getBalances with tips use
``enforce_extra_rules=True``; applying a milestone to the ledger and spent-address detection
use ``False``. All of them share the one cached flag per tail.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal, TypeAlias, get_args

import numpy as np

from pyri.crypto import wots
from pyri.crypto.kerl import kerl_hash
from pyri.errors import PyriError
from pyri.model.transaction import Transaction
from pyri.trinary import (
    HASH_TRITS,
    bytes_to_trits,
    trits_batch_to_trytes,
    trits_to_bytes,
    trits_to_trytes,
    trytes_to_trits,
)

SUPPLY: Final = 2_779_530_283_277_761  # (3^33 - 1) / 2

Lookup: TypeAlias = Callable[[str], Transaction | None]
"""Transaction by hash, or None when it is not stored."""
TrunkLookup: TypeAlias = Callable[[str], str | None]
"""The trunk of the stored transaction with this hash, or None when it is not stored."""


class BundleStatus(enum.Enum):
    """IRI's VALID / INVALID / UNKNOWN, with UNKNOWN split by cause (see the module docstring)."""

    VALID = "valid"
    INVALID = "invalid"
    INCOMPLETE = "incomplete"  # a needed transaction is absent
    UNKNOWN = "unknown"  # the chain reaches a stored transaction outside the bundle


# Enum members as plain names: the walks compare statuses once per tail, and reading a member
# off its class goes through the enum machinery (~0.5 us).
_VALID: Final = BundleStatus.VALID
_INVALID: Final = BundleStatus.INVALID

# The encoded form numbers reasons by their position here: append new codes, never reorder.
ReasonCode: TypeAlias = Literal[
    "valid",
    "not_a_tail",
    "negative_last_index",
    "current_index",
    "last_index",
    "value_range",
    "address_last_trit",
    "value_sum",
    "bundle_hash",
    "tail_approval",
    "transaction_approval",
    "signature",
    "incomplete",
    "foreign_bundle",
    "unexpected_tail",
]
REASONS: Final[tuple[ReasonCode, ...]] = get_args(ReasonCode)

MESSAGES: Final[Mapping[ReasonCode, str]] = MappingProxyType(
    {
        "valid": "valid bundle",
        "not_a_tail": "the transaction is not a tail (currentIndex is not 0)",
        "negative_last_index": "the tail's lastIndex is negative",
        "current_index": "currentIndex differs from the position in the bundle",
        "last_index": "lastIndex differs from the tail's, or lies beyond it",
        "value_range": "the running value sum leaves [-SUPPLY, +SUPPLY]",
        "address_last_trit": "a value transaction's address has a last trit other than 0",
        "value_sum": "the values do not sum to 0",
        "bundle_hash": "the bundle field differs from the Kerl hash of the essences",
        "tail_approval": "the head's trunk or branch is not a tail",
        "transaction_approval": "a non-head transaction's branch is not the head's trunk",
        "signature": "an input's signature does not resolve to its address",
        "incomplete": "a transaction of the bundle is missing",
        "foreign_bundle": "the trunk chain reaches a transaction of another bundle",
        "unexpected_tail": "the trunk chain reaches a transaction with currentIndex 0",
    }
)

_NOT_INVALID: Final[dict[ReasonCode, BundleStatus]] = {
    "valid": BundleStatus.VALID,
    "incomplete": BundleStatus.INCOMPLETE,
    "foreign_bundle": BundleStatus.UNKNOWN,
    "unexpected_tail": BundleStatus.UNKNOWN,
}
_STATUS: Final[Mapping[ReasonCode, BundleStatus]] = MappingProxyType(
    {reason: _NOT_INVALID.get(reason, BundleStatus.INVALID) for reason in REASONS}
)

# IRI returns these INVALID verdicts without touching the flag: a non-tail is refused before
# anything is loaded, and a negative lastIndex makes IRI throw (Appendix C item 1).
_NOT_WRITTEN: Final = frozenset({"not_a_tail", "negative_last_index"})


class BundleVerdictError(PyriError, ValueError):
    """An encoded bundle verdict is malformed, or a verdict was built from inconsistent parts
    (a status that does not match its reason, a value diff on a verdict that is not VALID)."""


@dataclass(frozen=True, slots=True)
class BundleVerdict:
    """The judgement of one bundle (one tail).

    ``index`` is the position in the bundle of the transaction that broke the rule, was missing,
    or whose signature failed; None for rules about the whole bundle. When VALID,
    ``value_diff`` maps each address to the sum of its values in the bundle, with addresses
    that net to 0 left out (they change no balance), and ``spent_addresses`` lists, in bundle
    order, every address with a value < 0 transaction, netted to 0 or not (§9 marks them all).
    """

    status: BundleStatus
    reason: ReasonCode
    index: int | None = None
    value_diff: Mapping[str, int] = field(default_factory=dict, hash=False)
    spent_addresses: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if _STATUS.get(self.reason) is not self.status:
            raise BundleVerdictError(f"reason {self.reason!r} does not go with {self.status}")
        if self.status is not BundleStatus.VALID and (self.value_diff or self.spent_addresses):
            raise BundleVerdictError("only a VALID verdict carries a value diff")
        # A read-only copy: the verdict is shared through caches and must not change.
        object.__setattr__(self, "value_diff", MappingProxyType(dict(self.value_diff)))

    @property
    def valid(self) -> bool:
        return self.status is _VALID

    @property
    def message(self) -> str:
        where = "" if self.index is None else f" (transaction {self.index})"
        return MESSAGES[self.reason] + where

    @property
    def cacheable(self) -> bool:
        """Whether IRI would write this verdict into the tail's validity flag (§5.8)."""
        return self.status in (BundleStatus.VALID, BundleStatus.INVALID) and (
            self.reason not in _NOT_WRITTEN
        )

    @property
    def validity_flag(self) -> int:
        """IRI's tail flag for this verdict: +1 valid, -1 invalid, 0 unknown or not written."""
        if not self.cacheable:
            return 0
        return 1 if self.valid else -1

    def encode(self) -> bytes:
        """Compact bytes: version, reason, index, then (address, i64 value) pairs and the spent
        addresses; addresses packed to 49 bytes, as the store keys them."""
        diff = list(self.value_diff.items())
        packed = _pack_addresses([address for address, _ in diff] + list(self.spent_addresses))
        parts = [_HEADER.pack(_VERSION, REASONS.index(self.reason), _index_out(self.index))]
        parts.append(_COUNT.pack(len(diff)))
        for k, (_, value) in enumerate(diff):
            parts += [packed[k], _VALUE.pack(value)]
        parts.append(_COUNT.pack(len(self.spent_addresses)))
        parts += packed[len(diff) :]
        return b"".join(parts)

    @classmethod
    def decode(cls, data: bytes) -> BundleVerdict:
        """Inverse of ``encode``; BundleVerdictError if ``data`` is not an encoded verdict."""
        return decode_verdicts([data])[0]


_VERSION: Final = 1
_HEADER: Final = struct.Struct(">BBq")  # version, reason, index (-1: none)
_COUNT: Final = struct.Struct(">I")
_VALUE: Final = struct.Struct(">q")
_ADDRESS_BYTES: Final = 49
_PACKED_TRITS: Final = 5 * _ADDRESS_BYTES  # 245: an address and two zero trits


def _index_out(index: int | None) -> int:
    return -1 if index is None else index


def _pack_addresses(addresses: list[str]) -> list[bytes]:
    # One conversion for all addresses: each padded to 245 trits packs to exactly 49 bytes.
    if not addresses:
        return []
    trits = trytes_to_trits("".join(addresses)).reshape(len(addresses), HASH_TRITS)
    padded = np.zeros((len(addresses), _PACKED_TRITS), dtype=np.int8)
    padded[:, :HASH_TRITS] = trits
    data = trits_to_bytes(padded.reshape(-1))
    return [data[k : k + _ADDRESS_BYTES] for k in range(0, len(data), _ADDRESS_BYTES)]


def _unpack_addresses(data: bytes, count: int) -> list[str]:
    if not count:
        return []
    trits = bytes_to_trits(data, count * _PACKED_TRITS).reshape(count, _PACKED_TRITS)
    return trits_batch_to_trytes(np.ascontiguousarray(trits[:, :HASH_TRITS]))


def _parse(data: bytes) -> tuple[int, int, list[int], list[bytes]]:
    """(reason number, index, values, packed addresses: one per value, then the spent ones)."""
    version, reason_number, index = _HEADER.unpack_from(data, 0)
    if version != _VERSION or reason_number >= len(REASONS):
        raise BundleVerdictError(f"unknown verdict version or reason in {data[:2]!r}")
    offset = _HEADER.size
    (diff_count,) = _COUNT.unpack_from(data, offset)
    offset += _COUNT.size
    chunks: list[bytes] = []
    values: list[int] = []
    for _ in range(diff_count):
        chunks.append(data[offset : offset + _ADDRESS_BYTES])
        values.append(_VALUE.unpack_from(data, offset + _ADDRESS_BYTES)[0])
        offset += _ADDRESS_BYTES + _VALUE.size
    (spent_count,) = _COUNT.unpack_from(data, offset)
    offset += _COUNT.size
    end = offset + spent_count * _ADDRESS_BYTES
    if end != len(data):
        raise BundleVerdictError(f"bundle verdict of {len(data)} bytes should be {end}")
    chunks += [data[k : k + _ADDRESS_BYTES] for k in range(offset, end, _ADDRESS_BYTES)]
    return reason_number, index, values, chunks


def decode_verdicts(
    encoded: Sequence[bytes],
    unpack: Callable[[list[bytes]], list[str]] | None = None,
) -> list[BundleVerdict]:
    """``BundleVerdict.decode`` of many encoded verdicts: the addresses of all of them are
    unpacked in one conversion (one at a time it costs ~40 us a verdict with addresses), and
    equal encodings share one verdict (they are immutable; most are the same VALID verdict of
    a zero-value bundle). BundleVerdictError if any of them is malformed.

    ``unpack`` spells packed addresses as trytes. The packed form is the store's hash key, so
    the store passes its compiled converter (``pyri.storage.schema.hashes_from_keys``, several
    times faster than the numpy one used by default); it must raise for a corrupt address."""
    parsed: dict[bytes, tuple[int, int, list[int], list[bytes]]] = {}
    for data in encoded:
        if data not in parsed:
            try:
                parsed[data] = _parse(data)
            except struct.error as error:
                raise BundleVerdictError(f"malformed bundle verdict: {error}") from None
    chunks = [chunk for *_, own in parsed.values() for chunk in own]
    try:
        spelled = (
            _unpack_addresses(b"".join(chunks), len(chunks)) if unpack is None else unpack(chunks)
        )
    except PyriError as error:  # TrinaryError, or the store's StorageError
        raise BundleVerdictError(f"malformed bundle verdict: {error}") from None
    addresses = iter(spelled)
    verdicts: dict[bytes, BundleVerdict] = {}
    for data, (reason_number, index, values, own) in parsed.items():
        reason = REASONS[reason_number]
        mine = [next(addresses) for _ in own]
        diff = dict(zip(mine[: len(values)], values, strict=True))
        spent = tuple(mine[len(values) :])
        verdicts[data] = BundleVerdict(
            _STATUS[reason], reason, None if index < 0 else index, diff, spent
        )
    return [verdicts[data] for data in encoded]


def _verdict(reason: ReasonCode, index: int | None = None) -> BundleVerdict:
    return BundleVerdict(_STATUS[reason], reason, index)


# --- loading (§5.3) ----------------------------------------------------------------------------


def _load(tail: Transaction, lookup: Lookup) -> tuple[list[Transaction], ReasonCode]:
    """The trunk chain from ``tail`` as IRI's loader collects it, and why it stopped early."""
    chain = [tail]
    current = tail
    # At most lastIndex further transactions; IRI stops at one that is absent (an empty slot
    # reads as currentIndex 0, Appendix B item 7), that is a tail, or that has another bundle
    # hash. The walk then misses that entry: UNKNOWN, not INVALID (Appendix B item 8).
    for _ in range(tail.last_index):
        candidate = lookup(current.trunk_transaction)
        if candidate is None:
            return chain, "incomplete"
        if candidate.current_index == 0:
            return chain, "unexpected_tail"
        if candidate.bundle != tail.bundle:
            return chain, "foreign_bundle"
        chain.append(candidate)
        current = candidate
    return chain, "incomplete"  # all lastIndex + 1 loaded: nothing is missing, never read


def assemble_bundle(tail: Transaction, lookup: Lookup) -> list[Transaction] | None:
    """The bundle's transactions in index order, loaded from ``tail`` through trunks (§5.3), or
    None when ``tail`` is not a tail or lastIndex + 1 transactions cannot be loaded (one is
    missing or the chain leaves the bundle; ``validate_from_tail`` says which)."""
    if tail.current_index != 0 or tail.last_index < 0:
        return None
    chain, _ = _load(tail, lookup)
    return chain if len(chain) == tail.last_index + 1 else None


# --- judging (§5.4-§5.7) -------------------------------------------------------------------------


def _semantics(chain: Sequence[Transaction], gap: ReasonCode) -> BundleVerdict | None:
    """§5.5 in IRI's single pass: the first failure, or None when the walk passes."""
    if not chain:
        return _verdict(gap, 0)
    tail = chain[0]
    if tail.current_index != 0:
        return _verdict("not_a_tail", 0)
    last = tail.last_index
    if last < 0:
        return _verdict("negative_last_index", 0)
    total = 0
    for i in range(last + 1):
        # A broken rule before a missing entry gives INVALID; a missing entry before a broken
        # rule gives INCOMPLETE/UNKNOWN (§5.4).
        if i >= len(chain):
            return _verdict(gap, i)
        tx = chain[i]
        if tx.current_index != i:
            return _verdict("current_index", i)
        if tx.last_index != last:
            return _verdict("last_index", i)
        total += tx.value
        if not -SUPPLY <= total <= SUPPLY:
            return _verdict("value_range", i)
        if tx.value != 0 and tx.address_last_trit != 0:
            return _verdict("address_last_trit", i)
    # Only a list handed in directly can be longer; the loader never reads past lastIndex.
    if len(chain) > last + 1:
        return _verdict("last_index", last + 1)
    if total != 0:
        return _verdict("value_sum")
    return None


def _approval(chain: Sequence[Transaction], lookup: Lookup | None) -> BundleVerdict | None:
    """§5.6: the head approves tails, every other transaction's branch is the head's trunk."""
    head = chain[-1]
    for approvee in (head.trunk_transaction, head.branch_transaction):
        found = lookup(approvee) if lookup is not None else None
        # Quirk: an absent approvee reads as an empty transaction with currentIndex 0 and passes.
        if found is not None and found.current_index != 0:
            return _verdict("tail_approval", len(chain) - 1)
    for i, tx in enumerate(chain[:-1]):
        if tx.branch_transaction != head.trunk_transaction:
            return _verdict("transaction_approval", i)
    return None


def _signatures(chain: Sequence[Transaction], bundle_hash: str) -> BundleVerdict | None:
    """§5.7: each input and the zero-value transactions that follow it at its address carry
    its fragments; fragment k signs normalized segment k mod 3. The security level is that count
    and nothing bounds it."""
    normalized = None  # normalized on the first input only: a zero-value bundle has none
    i = 0
    while i < len(chain):
        tx = chain[i]
        if tx.value >= 0:
            i += 1
            continue
        if normalized is None:
            normalized = wots.normalize(bundle_hash)
        end = i + 1
        while end < len(chain) and chain[end].address == tx.address and chain[end].value == 0:
            end += 1
        # All fragments of one input in one batched hash-chain call.
        signature = trytes_to_trits("".join(t.signature_message_fragment for t in chain[i:end]))
        digests = wots.signature_digests(signature, normalized)
        if trits_to_trytes(wots.address_from_digests(digests)) != tx.address:
            return _verdict("signature", i)
        i = end
    return None


def _valid(chain: Sequence[Transaction]) -> BundleVerdict:
    sums: dict[str, int] = {}
    for tx in chain:
        if tx.value:
            sums[tx.address] = sums.get(tx.address, 0) + tx.value
    diff = {address: value for address, value in sums.items() if value}
    spent = tuple(dict.fromkeys(tx.address for tx in chain if tx.value < 0))
    return BundleVerdict(BundleStatus.VALID, "valid", None, diff, spent)


def _judge(
    chain: Sequence[Transaction],
    gap: ReasonCode,
    *,
    enforce_extra_rules: bool,
    lookup: Lookup | None,
    cached_valid: bool,
) -> BundleVerdict:
    failure = _semantics(chain, gap)
    if failure is not None:
        return failure
    if cached_valid:  # §5.8 shortcut B: nothing after the walk is checked again
        return _valid(chain)
    essences = trytes_to_trits("".join(tx.essence for tx in chain))
    bundle_hash = trits_to_trytes(kerl_hash(essences))
    for i, tx in enumerate(chain):
        if tx.bundle != bundle_hash:
            return _verdict("bundle_hash", i)
    if enforce_extra_rules:
        failure = _approval(chain, lookup)
        if failure is not None:
            return failure
    failure = _signatures(chain, bundle_hash)
    return failure if failure is not None else _valid(chain)


def validate_bundle(
    transactions: Sequence[Transaction],
    *,
    enforce_extra_rules: bool = False,
    lookup: Lookup | None = None,
) -> BundleVerdict:
    """Judge ``transactions`` as the bundle in index order, tail first (§5.4-§5.7).

    Entry i must be the transaction at index i; a list shorter than the tail's lastIndex + 1 is
    INCOMPLETE (unless an earlier entry already breaks a rule), a longer one INVALID. Given the
    chain ``assemble_bundle`` loads, the verdict is IRI's. ``lookup`` is only read by the extra
    tail-approval rule, for the head's trunk and branch; without it they count as absent, which
    that rule accepts.
    """
    return _judge(
        transactions,
        "incomplete",
        enforce_extra_rules=enforce_extra_rules,
        lookup=lookup,
        cached_valid=False,
    )


def validate_from_tail(
    tail: Transaction,
    lookup: Lookup,
    *,
    enforce_extra_rules: bool = False,
    cached: BundleVerdict | None = None,
) -> BundleVerdict:
    """IRI's bundle validation of the bundle that starts at ``tail`` (§5.3-§5.8).

    ``cached`` is the verdict stored for this tail, if any; see the module docstring for what
    to store. The caller writes the result back when ``result.cacheable``.
    """
    if tail.current_index != 0:
        return _verdict("not_a_tail", 0)
    if cached is not None and cached.status is BundleStatus.INVALID:
        return cached  # §5.8 shortcut A, in every mode
    chain, gap = _load(tail, lookup)
    return _judge(
        chain,
        gap,
        enforce_extra_rules=enforce_extra_rules,
        lookup=lookup,
        cached_valid=cached is not None and cached.status is BundleStatus.VALID,
    )


def revalidate_cached(
    tail_trunk: str, last_index: int, cached: BundleVerdict, trunk_of: TrunkLookup
) -> BundleVerdict:
    """``validate_from_tail(tail, lookup, cached=cached)`` for a tail (currentIndex 0) with
    trunk ``tail_trunk`` and lastIndex ``last_index``, reading only the trunks of its chain.

    ``cached`` must be a verdict this module judged for this very tail. A cached INVALID is
    returned as it is (shortcut A). For a cached VALID, ``validate_from_tail`` reloads the chain
    and re-runs the semantic walk; that cannot find anything new. VALID means all lastIndex + 1
    transactions were loaded through trunks and passed the walk, and a hash names one immutable
    transaction, so each hash of the chain now either holds that same transaction or is absent
    (pruned). When all are present the walk passes again and sums the same values: the answer
    is ``cached``. When the first absent one is at position i, the walk passes positions below
    i and stops there: INCOMPLETE at i. Checking that the chain's hashes are stored is enough.
    """
    if cached.status is _INVALID:
        return cached
    if cached.status is not _VALID:
        raise ValueError(f"a cached verdict is VALID or INVALID, not {cached.status.name}")
    if last_index < 0:
        return _verdict("negative_last_index", 0)
    current = tail_trunk
    for index in range(1, last_index + 1):
        following = trunk_of(current)
        if following is None:
            return _verdict("incomplete", index)
        current = following
    return cached
