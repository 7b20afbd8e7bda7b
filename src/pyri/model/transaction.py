"""Transactions: 2673 trytes parsed into their fields, hashed with Curl-P-81.

A ``Transaction`` is an immutable value that keeps its own trytes, so it always serialises
back to exactly what was received. The integer fields, the hash and the weight magnitude are
worked out once, when the transaction is parsed; the tryte fields (address, bundle, ...) are
slices of the trytes, taken on access, so that a transaction costs little more memory than its
2673 characters. The trits are not kept either: they are 8019 bytes per transaction, which the
node would hold for every cached transaction while hardly ever reading them.

Ingest parses in batches (``parse_batch``): one numpy conversion of all trytes, one bit-sliced
Curl-P-81 call for all hashes, and a few matrix products for all integer fields. Only building
the Python objects is done per transaction.

Layout, hash and weight magnitude follow the IRI 1.8.6 reference, sections 2.1 to 2.3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, cast

import numpy as np

from pyri.batch_trinary import tryte_codes_to_trits
from pyri.crypto.curl import curl_hash_batch
from pyri.crypto.pow import weight_magnitudes
from pyri.errors import TrinaryError
from pyri.trinary import (
    ALPHABET,
    TRYTE_TRITS,
    Trits,
    trits_batch_to_trytes,
    trytes_to_trits,
    validate_trytes,
)

TRANSACTION_TRYTES: Final = 2673
TRANSACTION_TRITS: Final = 3 * TRANSACTION_TRYTES


@dataclass(frozen=True, slots=True)
class Field:
    """One field of the transaction layout: its IRI (JSON) name and its place in trytes."""

    name: str
    offset: int
    length: int

    @property
    def trytes(self) -> slice:
        """Where the field lies in the 2673 trytes."""
        return slice(self.offset, self.offset + self.length)

    @property
    def trits(self) -> slice:
        """Where the field lies in the 8019 trits."""
        return slice(3 * self.offset, 3 * (self.offset + self.length))


SIGNATURE_MESSAGE_FRAGMENT: Final = Field("signatureMessageFragment", 0, 2187)
ADDRESS: Final = Field("address", 2187, 81)
VALUE: Final = Field("value", 2268, 27)
OBSOLETE_TAG: Final = Field("obsoleteTag", 2295, 27)
TIMESTAMP: Final = Field("timestamp", 2322, 9)
CURRENT_INDEX: Final = Field("currentIndex", 2331, 9)
LAST_INDEX: Final = Field("lastIndex", 2340, 9)
BUNDLE: Final = Field("bundle", 2349, 81)
TRUNK_TRANSACTION: Final = Field("trunkTransaction", 2430, 81)
BRANCH_TRANSACTION: Final = Field("branchTransaction", 2511, 81)
TAG: Final = Field("tag", 2592, 27)
ATTACHMENT_TIMESTAMP: Final = Field("attachmentTimestamp", 2619, 9)
ATTACHMENT_TIMESTAMP_LOWER_BOUND: Final = Field("attachmentTimestampLowerBound", 2628, 9)
ATTACHMENT_TIMESTAMP_UPPER_BOUND: Final = Field("attachmentTimestampUpperBound", 2637, 9)
NONCE: Final = Field("nonce", 2646, 27)

LAYOUT: Final = (
    SIGNATURE_MESSAGE_FRAGMENT,
    ADDRESS,
    VALUE,
    OBSOLETE_TAG,
    TIMESTAMP,
    CURRENT_INDEX,
    LAST_INDEX,
    BUNDLE,
    TRUNK_TRANSACTION,
    BRANCH_TRANSACTION,
    TAG,
    ATTACHMENT_TIMESTAMP,
    ATTACHMENT_TIMESTAMP_LOWER_BOUND,
    ATTACHMENT_TIMESTAMP_UPPER_BOUND,
    NONCE,
)

# The bundle essence: address, value, obsoleteTag, timestamp, currentIndex, lastIndex.
ESSENCE: Final = Field("essence", ADDRESS.offset, BUNDLE.offset - ADDRESS.offset)

# The fields' tryte slices, made once: the properties below are read millions of times by
# ingest and the walks, and building the slice on each access doubled their cost.
_SIGNATURE: Final = SIGNATURE_MESSAGE_FRAGMENT.trytes
_ADDRESS: Final = ADDRESS.trytes
_OBSOLETE_TAG: Final = OBSOLETE_TAG.trytes
_BUNDLE: Final = BUNDLE.trytes
_TRUNK: Final = TRUNK_TRANSACTION.trytes
_BRANCH: Final = BRANCH_TRANSACTION.trytes
_TAG: Final = TAG.trytes
_NONCE: Final = NONCE.trytes
_ESSENCE: Final = ESSENCE.trytes

# IRI reads only the first 33 trits of the value field; the other 48 must be zero (§2.1).
VALUE_USABLE_TRITS: Final = 33
VALUE_HIGH_TRITS: Final = slice(VALUE.trits.start + VALUE_USABLE_TRITS, VALUE.trits.stop)
# The address's trit 242, which must be 0 on a value transaction.
ADDRESS_LAST_TRIT: Final = ADDRESS.trits.stop - 1
# The coordinator writes the milestone index into the first 15 trits of the obsoleteTag.
MILESTONE_INDEX_TRITS: Final = slice(OBSOLETE_TAG.trits.start, OBSOLETE_TAG.trits.start + 15)

# The 27-trit integer fields, in the order _parse_valid hands them to Transaction.
_INT27_FIELDS: Final = (
    TIMESTAMP,
    CURRENT_INDEX,
    LAST_INDEX,
    ATTACHMENT_TIMESTAMP,
    ATTACHMENT_TIMESTAMP_LOWER_BOUND,
    ATTACHMENT_TIMESTAMP_UPPER_BOUND,
)


_TRYTE_BYTES: Final = ALPHABET.encode("ascii")
_POWERS_OF_3: Final = 3 ** np.arange(VALUE_USABLE_TRITS, dtype=np.int64)
_POWERS_OF_3.setflags(write=False)
# Trit columns of all 27-trit integer fields, gathered in one indexing operation per batch.
_INT27_COLUMNS: Final = np.concatenate(
    [np.arange(3 * f.offset, 3 * f.offset + 27) for f in _INT27_FIELDS]
)
_INT27_COLUMNS.setflags(write=False)


def _read_only_trits(trytes: str) -> Trits:
    trits = trytes_to_trits(trytes)
    trits.setflags(write=False)
    return trits


@dataclass(frozen=True, slots=True, repr=False)
class Transaction:
    """One transaction: its 2673 trytes and everything derived from them.

    Build one with ``Transaction.from_trytes`` or ``parse_batch``; the constructor trusts its
    arguments. Two transactions are equal when their trytes are equal.
    """

    trytes: str
    hash: str = field(compare=False)
    # Trailing zero trits of the hash (§2.3), compared with the minimum weight magnitude.
    weight_magnitude: int = field(compare=False)
    # Read from the 33 usable value trits, as IRI does; see value_high_trits_zero.
    value: int = field(compare=False)
    timestamp: int = field(compare=False)
    current_index: int = field(compare=False)
    last_index: int = field(compare=False)
    attachment_timestamp: int = field(compare=False)
    attachment_timestamp_lower_bound: int = field(compare=False)
    attachment_timestamp_upper_bound: int = field(compare=False)
    # Balanced integer in the first 15 trits of the obsoleteTag; meaningful on milestones only.
    milestone_index: int = field(compare=False)
    # Whether value-field trits 33..80 are all zero; ingest rejects the transaction otherwise.
    value_high_trits_zero: bool = field(compare=False)
    # The address's trit 242; ingest rejects a value transaction where it is not zero.
    address_last_trit: int = field(compare=False)

    @classmethod
    def from_trytes(cls, trytes: str) -> Transaction:
        """Parse and hash one transaction. Raises TrinaryError unless ``trytes`` is a string of
        exactly 2673 characters of ``9A-Z``; the message names the problem."""
        return _parse_valid([validate_trytes(trytes, TRANSACTION_TRYTES, "transaction trytes")])[0]

    @property
    def signature_message_fragment(self) -> str:
        return self.trytes[_SIGNATURE]

    @property
    def address(self) -> str:
        return self.trytes[_ADDRESS]

    @property
    def obsolete_tag(self) -> str:
        return self.trytes[_OBSOLETE_TAG]

    @property
    def bundle(self) -> str:
        return self.trytes[_BUNDLE]

    @property
    def trunk_transaction(self) -> str:
        return self.trytes[_TRUNK]

    @property
    def branch_transaction(self) -> str:
        return self.trytes[_BRANCH]

    @property
    def tag(self) -> str:
        return self.trytes[_TAG]

    @property
    def nonce(self) -> str:
        return self.trytes[_NONCE]

    @property
    def essence(self) -> str:
        """The 162 trytes (486 trits, tx trits 6561..7046) the bundle hash absorbs."""
        return self.trytes[_ESSENCE]

    def essence_trits(self) -> Trits:
        """The essence as 486 trits (a new read-only array)."""
        return _read_only_trits(self.essence)

    def trits(self) -> Trits:
        """All 8019 trits (a new read-only array; computed on each call, not cached)."""
        return _read_only_trits(self.trytes)

    def __repr__(self) -> str:
        return (
            f"Transaction(hash={self.hash!r}, address={self.address!r}, value={self.value}, "
            f"current_index={self.current_index}, last_index={self.last_index})"
        )


def _screen(items: Sequence[object], name: str) -> tuple[list[str], dict[int, TrinaryError]]:
    """Split ``items`` into the well-formed tryte strings and errors keyed by position."""
    if all(type(item) is str and len(item) == TRANSACTION_TRYTES for item in items):
        strings = cast(list[str], list(items))
        joined = "".join(strings)
        # bytes.translate with a delete set is a C loop: an empty result means every character
        # is in the alphabet. It takes about 2 ms for 1000 transactions.
        if joined.isascii() and not joined.encode("ascii").translate(None, _TRYTE_BYTES):
            return strings, {}
    good: list[str] = []
    errors: dict[int, TrinaryError] = {}
    for position, item in enumerate(items):
        try:
            good.append(validate_trytes(item, TRANSACTION_TRYTES, f"{name}[{position}]"))
        except TrinaryError as error:
            errors[position] = error
    return good, errors


@dataclass(frozen=True, slots=True)
class ParsedBatch:
    """``parse_batch``'s results with the trit matrices they were computed from, for callers
    that go on to pack the transactions' fields (ingest): deriving them again from the trytes
    would cost more than all the rest of a batch's bookkeeping.

    Row r of ``trits`` (8019 trits) and ``hash_trits`` (243) belongs to the r-th
    ``Transaction`` among ``items``.
    """

    items: list[Transaction | TrinaryError]
    trits: Trits
    hash_trits: Trits
    _rows: dict[int, int] = field(default_factory=dict, repr=False)

    def rows_of(self, transactions: Sequence[Transaction]) -> list[int] | None:
        """The matrix rows of ``transactions``, or None when one of them is not an object of
        this batch."""
        rows = self._rows
        if not rows and self.trits.shape[0]:
            parsed = (item for item in self.items if isinstance(item, Transaction))
            rows.update((id(tx), row) for row, tx in enumerate(parsed))
        found = [rows.get(id(tx), -1) for tx in transactions]
        return None if -1 in found else found


def _parse_valid(trytes: list[str]) -> list[Transaction]:
    """Parse well-formed transaction trytes, all at once."""
    return _parse_matrices(trytes)[0]


def _parse_matrices(trytes: list[str]) -> tuple[list[Transaction], Trits, Trits]:
    """Parse well-formed transaction trytes, all at once; also their trits and hash trits."""
    count = len(trytes)
    # Every string passed _screen or validate_trytes: all ASCII tryte characters.
    trits = tryte_codes_to_trits("".join(trytes).encode("ascii"), count)

    hashes = curl_hash_batch(trits)
    hash_trytes = trits_batch_to_trytes(hashes)
    weights = weight_magnitudes(hashes).tolist()

    values = (trits[:, VALUE.trits.start : VALUE_HIGH_TRITS.start] @ _POWERS_OF_3).tolist()
    int27 = trits[:, _INT27_COLUMNS].reshape(count, len(_INT27_FIELDS), 27) @ _POWERS_OF_3[:27]
    milestone_indexes = (trits[:, MILESTONE_INDEX_TRITS] @ _POWERS_OF_3[:15]).tolist()
    high_zero = np.logical_not(np.any(trits[:, VALUE_HIGH_TRITS], axis=1)).tolist()
    address_last = trits[:, ADDRESS_LAST_TRIT].tolist()

    parsed: list[Transaction] = []
    for row, (timestamp, current, last, attached, lower, upper) in enumerate(int27.tolist()):
        parsed.append(
            Transaction(
                trytes[row],
                hash_trytes[row],
                weights[row],
                values[row],
                timestamp,
                current,
                last,
                attached,
                lower,
                upper,
                milestone_indexes[row],
                high_zero[row],
                address_last[row],
            )
        )
    return parsed, trits, hashes


def parse_batch(items: Sequence[object], name: str = "trytes") -> list[Transaction | TrinaryError]:
    """Parse and hash many transactions at once; result ``i`` belongs to ``items[i]``.

    A malformed item (not a string, not 2673 characters, a character outside ``9A-Z``) gives a
    TrinaryError in its place, naming it as ``name[i]``; the others are parsed regardless, so
    that one bad transaction does not cost the batch.
    """
    return parse_batch_matrices(items, name).items


def parse_batch_matrices(items: Sequence[object], name: str = "trytes") -> ParsedBatch:
    """``parse_batch``, keeping the trit matrices of the well-formed items."""
    good, errors = _screen(items, name)
    if good:
        parsed, trits, hashes = _parse_matrices(good)
    else:
        parsed = []
        trits = np.empty((0, TRANSACTION_TRITS), dtype=np.int8)
        hashes = np.empty((0, 243), dtype=np.int8)
    if not errors:
        return ParsedBatch(list(parsed), trits, hashes)
    results: list[Transaction | TrinaryError] = []
    remaining = iter(parsed)
    for position in range(len(items)):
        error = errors.get(position)
        results.append(error if error is not None else next(remaining))
    return ParsedBatch(results, trits, hashes)


def _build_tryte_values() -> dict[str, int]:
    return {char: (i if i <= 13 else i - 27) for i, char in enumerate(ALPHABET)}


_TRYTE_VALUE: Final = _build_tryte_values()
# Trailing zero trits of a single tryte, and its last (most significant) trit.
_TRAILING_ZERO_TRITS: Final = {
    char: next((3 - 1 - k for k in (2, 1, 0) if TRYTE_TRITS[i][k] != 0), 3)
    for i, char in enumerate(ALPHABET)
}
_LAST_TRIT: Final = {char: int(TRYTE_TRITS[i][2]) for i, char in enumerate(ALPHABET)}


def _field_int(trytes: str, start: int, stop: int) -> int:
    value = 0
    tryte_value = _TRYTE_VALUE
    for position in range(stop - 1, start - 1, -1):
        value = value * 27 + tryte_value[trytes[position]]
    return value


def _stored(trytes: str, tx_hash: str) -> Transaction:
    # Pure Python on purpose: for one transaction, numpy's per-call overhead (dozens of small
    # array operations) costs five times more than these few string lookups. Confirmation
    # walks read transactions one at a time.
    stripped = tx_hash.rstrip("9")
    weight = 243 if not stripped else 3 * (81 - len(stripped)) + _TRAILING_ZERO_TRITS[stripped[-1]]
    value_start = VALUE.offset
    return Transaction(
        trytes,
        tx_hash,
        weight,
        _field_int(trytes, value_start, value_start + VALUE_USABLE_TRITS // 3),
        _field_int(trytes, TIMESTAMP.offset, TIMESTAMP.offset + 9),
        _field_int(trytes, CURRENT_INDEX.offset, CURRENT_INDEX.offset + 9),
        _field_int(trytes, LAST_INDEX.offset, LAST_INDEX.offset + 9),
        _field_int(trytes, ATTACHMENT_TIMESTAMP.offset, ATTACHMENT_TIMESTAMP.offset + 9),
        _field_int(
            trytes,
            ATTACHMENT_TIMESTAMP_LOWER_BOUND.offset,
            ATTACHMENT_TIMESTAMP_LOWER_BOUND.offset + 9,
        ),
        _field_int(
            trytes,
            ATTACHMENT_TIMESTAMP_UPPER_BOUND.offset,
            ATTACHMENT_TIMESTAMP_UPPER_BOUND.offset + 9,
        ),
        _field_int(trytes, OBSOLETE_TAG.offset, OBSOLETE_TAG.offset + 5),
        trytes[value_start + VALUE_USABLE_TRITS // 3 : VALUE.offset + VALUE.length].strip("9")
        == "",
        _LAST_TRIT[trytes[ADDRESS.offset + ADDRESS.length - 1]],
    )


def parse_stored(trytes: Sequence[str], hashes: Sequence[str]) -> list[Transaction]:
    """Transactions read back from the store: their trytes were validated and their hashes
    computed when they were ingested, so neither is done again."""
    if len(trytes) != len(hashes):
        raise ValueError("parse_stored needs one hash per transaction")
    return [_stored(t, h) for t, h in zip(trytes, hashes, strict=True)]
