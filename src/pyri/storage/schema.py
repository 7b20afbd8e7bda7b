"""Every bucket and every key and value layout pyri stores, in one place.

Hashes, addresses and bundle hashes are keyed in their packed form: 243 trits five to a byte,
49 bytes (``HashKey``). Packed rather than as 81 ASCII trytes because composite index keys hold
two of them (98 bytes instead of 162), which keeps the B-trees of the six index buckets about 40%
smaller and shallower; it is also the form IRI and Hornet stored, so their dumps map one to one.
Packing costs about 0.4 µs a hash in batches (``hash_keys``, ``hashes_from_keys``), which is
how ingest and the API should call it, and ~4 µs for a single ``hash_key``.

Integers in keys are big-endian so that byte order equals numeric order (range reads over
milestone indexes); integers in values are big-endian too, for one convention.

    bucket                key                                    value
    transactions          hash                                   8019 trits packed, 1604 bytes (*)
    tx_meta               hash                                   TxMeta, 14 bytes
    approvers             approvee hash || approver hash         empty
    address_index         address || tx hash                     empty
    bundle_index          bundle hash || tx hash                 empty
    tag_index             tag (81 trits packed, 17 B)            empty
                            || arrival second (u32) || tx hash
    obsolete_tag_index    obsolete tag (17 B) || arrival second  empty
                            (u32) || tx hash
    milestones            milestone index (u32)                  milestone tail hash
    ledger                address                                balance (i64)
    state_diffs           milestone index (u32)                  encode_diff: (address, i64)*
    balance_history       address || milestone index (u32)       balance after that milestone
    spent_addresses       address                                empty
    solid_entry_points    hash                                   milestone index (u32)
    tips                  hash                                   empty
    missing               hash                                   empty
    bundle_verdicts       tail hash                              BundleVerdict.encode()
    node_meta             ASCII name (META_*)                    per name, see below

The arrival second in the tag keys keeps what one batch adds under a tag together, at the end
of that tag's range: a batch whose transactions share a tag (most do) dirties a few pages of
the tag trees, not one page per transaction (random hashes), which is most of what a commit
costs once the trees are large. Version 2 databases hold ``tag || tx hash``; readers take both
forms (``indexed_hash``), so a version 2 database is opened as it is and stamped 3.

(*) kept in the LMDB engine's append-only value log, with an 8-byte pointer in the B-tree
(``LOG_BUCKETS``, ``pyri.storage.value_log``): about 1.6 KB a transaction instead of 2.8 KB.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from typing import Final, NewType, Self, cast

import numpy as np
import numpy.typing as npt
from numba import njit

from pyri.batch_trinary import pack_columns
from pyri.storage.engine import StorageError
from pyri.storage.packing import (
    check_trits_shape,
    pack_trits,
    pack_trytes,
    split_rows,
    unpack_rows,
    unpack_trytes,
)
from pyri.trinary import HASH_TRITS, HASH_TRYTES, Trits

TRANSACTIONS: Final = "transactions"
TX_META: Final = "tx_meta"
APPROVERS: Final = "approvers"
ADDRESS_INDEX: Final = "address_index"
BUNDLE_INDEX: Final = "bundle_index"
TAG_INDEX: Final = "tag_index"
OBSOLETE_TAG_INDEX: Final = "obsolete_tag_index"
MILESTONES: Final = "milestones"
LEDGER: Final = "ledger"
STATE_DIFFS: Final = "state_diffs"
BALANCE_HISTORY: Final = "balance_history"
SPENT_ADDRESSES: Final = "spent_addresses"
# Not in IRI's database (it keeps them in the snapshot object); here so that API worker
# processes answer "is this a solid entry point" with one lookup instead of loading the set.
SOLID_ENTRY_POINTS: Final = "solid_entry_points"
# Stored transactions that nothing approves yet, and hashes referenced as trunk or branch that
# are not stored (and are not solid entry points): kept up to date by every ingest batch, so
# getTips and getMissingTransactions are one range read.
TIPS: Final = "tips"
MISSING: Final = "missing"
# The bundle verdict (and value diff) cached on a tail, §5.8; written only when cacheable.
BUNDLE_VERDICTS: Final = "bundle_verdicts"
NODE_META: Final = "node_meta"
# Buckets of large, write-once values: an engine may keep them outside its B-tree.
LOG_BUCKETS: Final = (TRANSACTIONS,)

BUCKETS: Final = (
    TRANSACTIONS,
    TX_META,
    APPROVERS,
    ADDRESS_INDEX,
    BUNDLE_INDEX,
    TAG_INDEX,
    OBSOLETE_TAG_INDEX,
    MILESTONES,
    LEDGER,
    STATE_DIFFS,
    BALANCE_HISTORY,
    SPENT_ADDRESSES,
    SOLID_ENTRY_POINTS,
    TIPS,
    MISSING,
    BUNDLE_VERDICTS,
    NODE_META,
)

# node_meta names. Values: SCHEMA_VERSION u32; DB_IN_USE b"\x01" while a writer has the
# database open (set at start, deleted on clean shutdown, so a crash is noticed on restart);
# LATEST_SOLID_MILESTONE MilestoneRef; SNAPSHOT SnapshotInfo (the initial snapshot, §7.1).
META_SCHEMA_VERSION: Final = b"schema_version"
META_DB_IN_USE: Final = b"db_in_use"
META_LATEST_SOLID_MILESTONE: Final = b"latest_solid_milestone"
META_SNAPSHOT: Final = b"snapshot"
# 2: transactions moved to the value log (version 1 stored them in the B-tree).
SCHEMA_VERSION: Final = 3
# Older versions this pyri opens as they are (and a writer stamps SCHEMA_VERSION on them).
UPGRADABLE_SCHEMA_VERSIONS: Final = frozenset({2})

TX_TRITS: Final = 8019
TX_BYTES: Final = 1604
TX_TRYTES: Final = 2673
HASH_BYTES: Final = 49
TAG_TRYTES: Final = 27
TAG_TRITS: Final = 81
TAG_BYTES: Final = 17
EMPTY: Final = b""

HashKey = NewType("HashKey", bytes)
"""A hash, address or bundle hash packed to 49 bytes."""
TagKey = NewType("TagKey", bytes)
"""A 27-tryte tag or obsolete tag packed to 17 bytes."""

_U32: Final = struct.Struct(">I")
_I64: Final = struct.Struct(">q")
_MAX_U32: Final = 0xFFFF_FFFF


# --- hashes and tags ---------------------------------------------------------------------------


@lru_cache(maxsize=1 << 16)
def hash_key(trytes: str) -> HashKey:
    """The key of one 81-tryte hash; TrinaryError if it is not one. Convert many at once
    with ``hash_keys``: a call costs ~4 µs, a hash in a batch ~0.4 µs. Memoised (a pure
    function): API queries and walks ask for the same few thousand keys again and again."""
    return HashKey(pack_trytes([trytes], HASH_TRYTES)[0])


def hash_keys(trytes: Sequence[str]) -> list[HashKey]:
    """The keys of many 81-tryte hashes, converted together."""
    return cast(list[HashKey], pack_trytes(trytes, HASH_TRYTES))


def hash_keys_from_trits(trits: npt.ArrayLike) -> list[HashKey]:
    """The keys of the rows of an (n, 243) trit matrix (one 243-trit row is also accepted)."""
    rows = check_trits_shape(trits, HASH_TRITS, "hash trits")
    return cast(list[HashKey], split_rows(pack_trits(rows)))


@lru_cache(maxsize=1 << 16)
def hash_from_key(key: bytes) -> str:
    """The 81 trytes of a hash key; StorageError if ``key`` is not one."""
    return unpack_trytes([_exact(key, HASH_BYTES, "hash key")], HASH_TRITS)[0]


def hashes_from_keys(keys: Sequence[bytes]) -> list[str]:
    """The 81 trytes of many hash keys, converted together."""
    return unpack_trytes(keys, HASH_TRITS)


def tag_key(trytes: str) -> TagKey:
    """The key of a 27-tryte tag or obsolete tag (callers pad shorter tags with ``9``)."""
    return TagKey(pack_trytes([trytes], TAG_TRYTES)[0])


def tag_keys(trytes: Sequence[str]) -> list[TagKey]:
    """The keys of many 27-tryte tags, converted together."""
    return [TagKey(key) for key in pack_trytes(trytes, TAG_TRYTES)]


def tag_keys_from_trits(trits: npt.ArrayLike) -> list[TagKey]:
    """The keys of the rows of an (n, 81) trit matrix of tags."""
    rows = check_trits_shape(trits, TAG_TRITS, "tag trits")
    return cast(list[TagKey], split_rows(pack_trits(rows)))


def tag_from_key(key: bytes) -> str:
    """The 27 trytes of a tag key."""
    return unpack_trytes([_exact(key, TAG_BYTES, "tag key")], TAG_TRITS)[0]


# --- transactions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PackedTransactions:
    """Transactions in stored form together with the keys of the fields ingest indexes;
    entry i of every list belongs to transaction i."""

    records: list[bytes]
    hashes: list[HashKey]
    addresses: list[HashKey]
    bundles: list[HashKey]
    trunks: list[HashKey]
    branches: list[HashKey]
    tags: list[TagKey]
    obsolete_tags: list[TagKey]


# Trit offsets of the indexed fields in a transaction (iri-consensus-reference §2.1).
_ADDRESS_TRIT: Final = 3 * 2187
_OBSOLETE_TAG_TRIT: Final = 3 * 2295
_BUNDLE_TRIT: Final = 3 * 2349
_TRUNK_TRIT: Final = 3 * 2430
_BRANCH_TRIT: Final = 3 * 2511
_TAG_TRIT: Final = 3 * 2592


def pack_transactions(trits: npt.ArrayLike, hash_trits: npt.ArrayLike) -> PackedTransactions:
    """``PackedTransactions`` of the rows of an (n, 8019) trit matrix and their (n, 243)
    hashes: one compiled pass per field, the fast path of ingest."""
    rows = check_trits_shape(trits, TX_TRITS, "transaction trits")
    hashes = check_trits_shape(hash_trits, HASH_TRITS, "hash trits")
    if hashes.shape[0] != rows.shape[0]:
        raise StorageError("pack_transactions needs one hash per transaction")

    def keys(start: int, length: int) -> list[bytes]:
        return split_rows(pack_columns(rows, start, length))

    return PackedTransactions(
        records=split_rows(pack_columns(rows, 0, TX_TRITS)),
        hashes=cast(list[HashKey], split_rows(pack_columns(hashes, 0, HASH_TRITS))),
        addresses=cast(list[HashKey], keys(_ADDRESS_TRIT, HASH_TRITS)),
        bundles=cast(list[HashKey], keys(_BUNDLE_TRIT, HASH_TRITS)),
        trunks=cast(list[HashKey], keys(_TRUNK_TRIT, HASH_TRITS)),
        branches=cast(list[HashKey], keys(_BRANCH_TRIT, HASH_TRITS)),
        tags=cast(list[TagKey], keys(_TAG_TRIT, TAG_TRITS)),
        obsolete_tags=cast(list[TagKey], keys(_OBSOLETE_TAG_TRIT, TAG_TRITS)),
    )


def pack_transaction_trytes(trytes: Sequence[str], hashes: Sequence[str]) -> PackedTransactions:
    """``PackedTransactions`` from trytes, for transactions whose trits are not at hand."""
    if len(trytes) != len(hashes):
        raise StorageError("pack_transaction_trytes needs one hash per transaction")

    def field(start: int, length: int) -> list[bytes]:
        begin, end = start // 3, (start + length) // 3
        return pack_trytes([t[begin:end] for t in trytes], length // 3)

    return PackedTransactions(
        records=encode_transaction_trytes(trytes),
        hashes=hash_keys(hashes),
        addresses=cast(list[HashKey], field(_ADDRESS_TRIT, HASH_TRITS)),
        bundles=cast(list[HashKey], field(_BUNDLE_TRIT, HASH_TRITS)),
        trunks=cast(list[HashKey], field(_TRUNK_TRIT, HASH_TRITS)),
        branches=cast(list[HashKey], field(_BRANCH_TRIT, HASH_TRITS)),
        tags=cast(list[TagKey], field(_TAG_TRIT, TAG_TRITS)),
        obsolete_tags=cast(list[TagKey], field(_OBSOLETE_TAG_TRIT, TAG_TRITS)),
    )


def encode_transactions(trits: npt.ArrayLike) -> list[bytes]:
    """The stored form (1604 bytes each) of the rows of an (n, 8019) trit matrix."""
    rows = check_trits_shape(trits, TX_TRITS, "transaction trits")
    return split_rows(pack_trits(rows))


def encode_transaction_trytes(trytes: Sequence[str]) -> list[bytes]:
    """The stored form of 2673-tryte transactions; TrinaryError for a malformed one."""
    return pack_trytes(trytes, TX_TRYTES)


def decode_transaction(data: bytes) -> Trits:
    """The 8019 trits of a stored transaction; StorageError if ``data`` is not one."""
    return unpack_rows(_exact(data, TX_BYTES, "transaction"), 1, TX_TRITS).reshape(TX_TRITS).copy()


def decode_transaction_trytes(data: bytes) -> str:
    """The 2673 trytes of a stored transaction; StorageError if ``data`` is not one."""
    return unpack_trytes([_exact(data, TX_BYTES, "transaction")], TX_TRITS)[0]


# What a walk through the Tangle reads of a stored transaction (reference §2.1), as trit
# offsets: currentIndex at 6993 and lastIndex at 7020 (27 trits each), trunk at 7290 and
# branch at 7533 (243 each). They lie in stored bytes 1398..1555 (5 trits to a byte, the bundle
# hash between them is not read). The trunk starts on a byte boundary and is its own key but
# for the last byte; the other fields straddle bytes and are re-cut from whole bytes.
_LINKS_BYTES: Final = operator.itemgetter(slice(1398, 1556))
_KEY_ITEM: Final = np.dtype((np.void, HASH_BYTES))


def _byte_parts() -> npt.NDArray[np.int16]:
    """Per unsigned byte: its signed value, the balanced numbers in its lowest one, two and
    three trits and in its top two trits, and 1 in the last column for a byte that packing never
    produces (a value outside -121..121; its other columns are 0)."""
    parts = np.zeros((256, 6), dtype=np.int16)
    for byte in range(256):
        value = byte - 256 if byte > 127 else byte
        if not -121 <= value <= 121:
            parts[byte, 5] = 1
            continue
        trits = []
        rest = value
        for _ in range(5):
            trit = (rest + 1) % 3 - 1
            trits.append(trit)
            rest = (rest - trit) // 3
        low = [sum(t * 3**i for i, t in enumerate(trits[:n])) for n in (1, 2, 3)]
        parts[byte] = [value, *low, trits[3] + 3 * trits[4], 0]
    parts.flags.writeable = False
    return parts


_BYTE_PARTS: Final = _byte_parts()


@njit(cache=True, nogil=True)
def _decode_links(
    data: npt.NDArray[np.uint8],
    parts: npt.NDArray[np.int16],
    trunks: npt.NDArray[np.int8],
    branches: npt.NDArray[np.int8],
    indexes: npt.NDArray[np.int64],
) -> int:
    """For each record's bytes 1398..1555 (158 each, back to back in ``data``): trunk and
    branch as 49-byte hash keys (243 trits, two zero trits), currentIndex and lastIndex.
    ``parts`` is ``_BYTE_PARTS``. Returns the first record holding a byte outside -121..121,
    or -1."""
    width = 158  # the bytes _LINKS_BYTES takes
    value, low1, low2, low3, top2, bad = 0, 1, 2, 3, 4, 5  # the columns of parts
    for r in range(trunks.shape[0]):
        row = data[r * width : (r + 1) * width]
        invalid = 0
        for k in range(width):
            invalid |= parts[row[k], bad]
        if invalid:
            return r
        # currentIndex: the top two trits of byte 1398, then bytes 1399..1403.
        number = 0
        for k in range(5, 0, -1):
            number = 243 * number + parts[row[k], value]
        indexes[r, 0] = 9 * number + parts[row[0], top2]
        # lastIndex: bytes 1404..1408, then the low two trits of byte 1409.
        number = parts[row[11], low2]
        for k in range(10, 5, -1):
            number = 243 * number + parts[row[k], value]
        indexes[r, 1] = number
        # trunk: bytes 1458..1505, then the low three trits of byte 1506.
        for j in range(48):
            trunks[r, j] = row[60 + j]
        trunks[r, 48] = parts[row[108], low3]
        # branch: key byte j holds the top two trits of byte 1506 + j and the low three of
        # byte 1507 + j; the last key byte holds one trit of byte 1555, then padding.
        for j in range(48):
            branches[r, j] = parts[row[108 + j], top2] + 9 * parts[row[109 + j], low3]
        branches[r, 48] = parts[row[156], top2] + 9 * parts[row[157], low1]
    return -1


def decode_links(
    records: Sequence[bytes],
) -> tuple[list[HashKey], list[HashKey], list[int], list[int]]:
    """(trunk keys, branch keys, currentIndexes, lastIndexes) of stored transactions, entry i
    from record i: what a walk through the Tangle reads, decoded in one compiled pass from the
    158 bytes that hold it (about 1 µs a record; the whole trytes cost ~14 µs). StorageError if
    a record is not a stored transaction."""
    if not records:
        return [], [], [], []
    if set(map(len, records)) != {TX_BYTES}:
        raise StorageError(f"stored transactions must be {TX_BYTES} bytes each")
    rows = len(records)
    data = np.frombuffer(b"".join(map(_LINKS_BYTES, records)), dtype=np.uint8)
    trunks = np.empty((rows, HASH_BYTES), dtype=np.int8)
    branches = np.empty((rows, HASH_BYTES), dtype=np.int8)
    indexes = np.empty((rows, 2), dtype=np.int64)
    bad = _decode_links(data, _BYTE_PARTS, trunks, branches, indexes)
    if bad >= 0:
        raise StorageError(f"stored transaction #{bad} holds a byte outside -121..121")
    current, last = indexes.T.tolist()
    # Each row viewed as one 49-byte void item: tolist() makes the keys in C, several times
    # faster than slicing the bytes in Python (and, unlike an "S" view, keeps trailing zeros).
    return (
        cast(list[HashKey], trunks.view(_KEY_ITEM).ravel().tolist()),
        cast(list[HashKey], branches.view(_KEY_ITEM).ravel().tolist()),
        current,
        last,
    )


# --- composite index keys -----------------------------------------------------------------------


def _pair(first: bytes, first_len: int, second: bytes) -> bytes:
    if len(first) != first_len or len(second) != HASH_BYTES:
        raise StorageError(
            f"index key parts must be {first_len} and {HASH_BYTES} bytes, "
            f"got {len(first)} and {len(second)}"
        )
    return first + second


def approver_key(approvee: HashKey, approver: HashKey) -> bytes:
    """``approvee || approver``: all approvers of X are the keys with prefix X."""
    return _pair(approvee, HASH_BYTES, approver)


def split_approver_key(key: bytes) -> tuple[HashKey, HashKey]:
    """(approvee, approver) of an approvers key."""
    _exact(key, 2 * HASH_BYTES, "approver key")
    return HashKey(key[:HASH_BYTES]), HashKey(key[HASH_BYTES:])


def address_index_key(address: HashKey, tx_hash: HashKey) -> bytes:
    return _pair(address, HASH_BYTES, tx_hash)


def bundle_index_key(bundle: HashKey, tx_hash: HashKey) -> bytes:
    return _pair(bundle, HASH_BYTES, tx_hash)


def tag_index_key(tag: TagKey, arrival_ms: int, tx_hash: HashKey) -> bytes:
    """A key of tag_index or obsolete_tag_index, for a transaction stored at ``arrival_ms``."""
    return (
        _exact(tag, TAG_BYTES, "tag key")
        + arrival_second(arrival_ms)
        + _exact(tx_hash, HASH_BYTES, "hash key")
    )


def arrival_second(arrival_ms: int) -> bytes:
    """The 4-byte arrival second of tag index keys (clamped to the range of a u32)."""
    return _U32.pack(min(max(arrival_ms // 1000, 0), _MAX_U32))


def tag_index_entries(
    tags: Sequence[bytes], arrival_ms: int, hashes: Sequence[HashKey]
) -> list[tuple[bytes, bytes]]:
    """``index_entries`` for the tag and obsolete-tag indexes of one batch stored at
    ``arrival_ms``."""
    second = arrival_second(arrival_ms)
    return index_entries([tag + second for tag in tags], hashes, prefix_bytes=TAG_BYTES + 4)


def index_entries(
    prefixes: Sequence[bytes], hashes: Sequence[HashKey], *, prefix_bytes: int = HASH_BYTES
) -> list[tuple[bytes, bytes]]:
    """(``prefix || hash``, empty) for many index keys at once (approvers, address, bundle,
    and through ``tag_index_entries`` the tag indexes): the lengths are checked once for the
    whole batch, since ingest writes five such keys per transaction."""
    if len(prefixes) != len(hashes):
        raise StorageError("index_entries needs one hash per prefix")
    if prefixes and (
        {len(p) for p in prefixes} != {prefix_bytes} or {len(h) for h in hashes} != {HASH_BYTES}
    ):
        raise StorageError(
            f"index key parts must be {prefix_bytes}-byte prefixes and 49-byte hashes"
        )
    return [(prefix + tx_hash, EMPTY) for prefix, tx_hash in zip(prefixes, hashes, strict=True)]


def indexed_hash(key: bytes) -> HashKey:
    """The transaction hash at the end of any composite index key (approvers included)."""
    # Tag keys of version 2 databases have no arrival second.
    if len(key) not in (2 * HASH_BYTES, TAG_BYTES + 4 + HASH_BYTES, TAG_BYTES + HASH_BYTES):
        raise StorageError(f"{len(key)} bytes is not the length of an index key")
    return HashKey(key[-HASH_BYTES:])


# --- milestones, ledger, diffs, history ---------------------------------------------------------


def encode_index(index: int) -> bytes:
    """A milestone index as 4 big-endian bytes (key of milestones and state_diffs)."""
    if not 0 <= index <= _MAX_U32:
        raise StorageError(f"milestone index {index} is outside 0..{_MAX_U32}")
    return _U32.pack(index)


def decode_index(data: bytes) -> int:
    """Inverse of ``encode_index``."""
    return int(_U32.unpack(_exact(data, _U32.size, "milestone index"))[0])


def encode_balance(balance: int) -> bytes:
    """A balance or balance change as a signed 8-byte big-endian integer."""
    try:
        return _I64.pack(balance)
    except struct.error:
        raise StorageError(f"balance {balance} does not fit in 64 bits") from None


def decode_balance(data: bytes) -> int:
    """Inverse of ``encode_balance``."""
    return int(_I64.unpack(_exact(data, _I64.size, "balance"))[0])


def history_key(address: HashKey, index: int) -> bytes:
    """``address || index``. The balance at milestone m is the value of the last key <= this
    key with the address as prefix: one reverse range read."""
    return _exact(address, HASH_BYTES, "address") + encode_index(index)


def split_history_key(key: bytes) -> tuple[HashKey, int]:
    """(address, milestone index) of a balance_history key."""
    _exact(key, HASH_BYTES + _U32.size, "balance history key")
    return HashKey(key[:HASH_BYTES]), decode_index(key[HASH_BYTES:])


_DIFF_ENTRY: Final = struct.Struct(">49sq")


def encode_diff(entries: Iterable[tuple[HashKey, int]]) -> bytes:
    """A state diff as back-to-back (49-byte address, i64 change) records, in the given order."""
    pack = _DIFF_ENTRY.pack
    try:
        return b"".join(
            [pack(_exact(address, HASH_BYTES, "address"), change) for address, change in entries]
        )
    except struct.error as error:
        raise StorageError(f"state diff change does not fit in 64 bits: {error}") from None


def decode_diff(data: bytes) -> list[tuple[HashKey, int]]:
    """Inverse of ``encode_diff``; StorageError for a truncated record."""
    if len(data) % _DIFF_ENTRY.size:
        raise StorageError(f"{len(data)} bytes is not a whole number of state diff entries")
    return [(HashKey(address), change) for address, change in _DIFF_ENTRY.iter_unpack(data)]


# --- per-transaction metadata -------------------------------------------------------------------


class Validity(IntEnum):
    """The cached bundle verdict of a tail (§5.8); non-tails keep UNKNOWN."""

    INVALID = -1
    UNKNOWN = 0
    VALID = 1


# flags (u8: bit 0 solid, bit 1 milestone), validity (i8), snapshot index (i32), arrival ms (i64)
_META: Final = struct.Struct(">Bbiq")
_SOLID: Final = 0x01
_MILESTONE: Final = 0x02


@dataclass(frozen=True, slots=True)
class TxMeta:
    """Node-local state of a stored transaction (§2.4). An absent record means "not stored";
    IRI's PREFILLED slots are simply keys that are missing from ``transactions``."""

    solid: bool = False
    validity: Validity = Validity.UNKNOWN
    snapshot_index: int = 0
    """Index of the milestone that confirmed the transaction; 0 = unconfirmed (§7.5)."""
    arrival_ms: int = 0
    """When this node stored it, Unix milliseconds (not consensus relevant)."""
    milestone: bool = False
    """Set on the tail of a validated milestone (§6.3)."""

    def encode(self) -> bytes:
        flags = (_SOLID if self.solid else 0) | (_MILESTONE if self.milestone else 0)
        try:
            return _META.pack(flags, self.validity, self.snapshot_index, self.arrival_ms)
        except struct.error as error:
            raise StorageError(f"transaction metadata out of range: {self}: {error}") from None

    @staticmethod
    def solid_in(data: bytes) -> bool:
        """The solid flag of an encoded record, without decoding the rest (a hot path of
        ingest's solidity checks)."""
        return bool(data[0] & _SOLID)

    @classmethod
    def decode(cls, data: bytes) -> Self:
        flags, validity, snapshot_index, arrival_ms = _META.unpack(
            _exact(data, _META.size, "transaction metadata")
        )
        if flags & ~(_SOLID | _MILESTONE) or validity not in (-1, 0, 1):
            raise StorageError(f"corrupted transaction metadata {data.hex()}")
        return cls(
            solid=bool(flags & _SOLID),
            validity=Validity(validity),
            snapshot_index=snapshot_index,
            arrival_ms=arrival_ms,
            milestone=bool(flags & _MILESTONE),
        )


_META_SNAPSHOT_INDEX: Final = struct.Struct(">i")  # after the flags and validity bytes
_VALIDITY_BYTES: Final = frozenset({0, 1, 255})  # validity -1, 0, 1 as an unsigned byte


def meta_snapshot_index(data: bytes) -> int:
    """``TxMeta.decode(data).snapshot_index`` without building the TxMeta (~0.3 µs instead of
    ~2.5): the confirmation walks read only this, for every tail they meet. StorageError for a
    record that is not transaction metadata."""
    _exact(data, _META.size, "transaction metadata")
    if data[0] & ~(_SOLID | _MILESTONE) or data[1] not in _VALIDITY_BYTES:
        raise StorageError(f"corrupted transaction metadata {data.hex()}")
    return int(_META_SNAPSHOT_INDEX.unpack_from(data, 2)[0])


def meta_snapshot_indexes(records: Sequence[bytes | None]) -> list[int]:
    """``meta_snapshot_index`` of many records (0 for None: not stored), unpacked together."""
    stored = [data for data in records if data is not None]
    joined = b"".join(stored)
    if len(joined) != _META.size * len(stored):
        raise StorageError(f"transaction metadata must be {_META.size} bytes each")
    indexes: list[int] = []
    for flags, validity, index, _ in _META.iter_unpack(joined):
        if flags & ~(_SOLID | _MILESTONE) or validity not in (-1, 0, 1):
            raise StorageError(f"corrupted transaction metadata (flags {flags}, {validity})")
        indexes.append(index)
    found = iter(indexes)
    return [0 if data is None else next(found) for data in records]


# --- node metadata ------------------------------------------------------------------------------

_MILESTONE_REF: Final = struct.Struct(">I49s")
_SNAPSHOT: Final = struct.Struct(">I49sq")


@dataclass(frozen=True, slots=True)
class MilestoneRef:
    """A milestone by index and tail hash (value of META_LATEST_SOLID_MILESTONE)."""

    index: int
    hash: HashKey

    def encode(self) -> bytes:
        return encode_index(self.index) + _exact(self.hash, HASH_BYTES, "milestone hash")

    @classmethod
    def decode(cls, data: bytes) -> Self:
        index, hash_ = _MILESTONE_REF.unpack(_exact(data, _MILESTONE_REF.size, "milestone ref"))
        return cls(index, HashKey(hash_))


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """The milestone a snapshot's state reflects (value of META_SNAPSHOT); ``timestamp`` in
    seconds, as in IRI's snapshot metadata."""

    index: int
    hash: HashKey
    timestamp: int

    def encode(self) -> bytes:
        ref = MilestoneRef(self.index, self.hash).encode()
        try:
            return ref + _I64.pack(self.timestamp)
        except struct.error:
            raise StorageError(f"snapshot timestamp {self.timestamp} out of range") from None

    @classmethod
    def decode(cls, data: bytes) -> Self:
        index, hash_, timestamp = _SNAPSHOT.unpack(_exact(data, _SNAPSHOT.size, "snapshot info"))
        return cls(index, HashKey(hash_), timestamp)


def _exact(data: bytes, size: int, what: str) -> bytes:
    if len(data) != size:
        raise StorageError(f"{what} must be {size} bytes, got {len(data)}")
    return data
