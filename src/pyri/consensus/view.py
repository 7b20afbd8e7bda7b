"""The read interface consensus code needs from the Tangle.

Confirmation, milestone validation and the ledger view through tips are pure functions over
this small interface, so they are tested against an in-memory dictionary and run in production
against a consistent read view of the store (``pyri.consensus.tangle``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeAlias, TypeVar

from pyri.model.bundle import BundleVerdict
from pyri.model.transaction import Transaction
from pyri.storage.schema import TxMeta

_T = TypeVar("_T")

TxLinks: TypeAlias = tuple[str, str, int, int]
"""What a walk reads of a transaction to move through the Tangle: (trunk, branch, currentIndex,
lastIndex), its approvees and its place in its bundle. A store reads these from a few bytes of
the stored record instead of parsing all of it (``pyri.storage.schema.decode_links``). A plain
tuple, unpacked where read: a read-ahead builds one per transaction of a cone, and a NamedTuple
costs three times as much to build."""


def links_of(tx: Transaction) -> TxLinks:
    return (tx.trunk_transaction, tx.branch_transaction, tx.current_index, tx.last_index)


class TangleReader(Protocol):
    """What consensus reads. Every method answers from one consistent state of the Tangle."""

    def transaction(self, tx_hash: str) -> Transaction | None:
        """The stored transaction, or None (IRI's PREFILLED slot: referenced but not stored)."""
        ...

    def links(self, tx_hash: str) -> TxLinks | None:
        """``links_of`` the stored transaction, or None when it is not stored; walks that only
        move through the Tangle read this instead of ``transaction``."""
        ...

    def meta(self, tx_hash: str) -> TxMeta | None:
        """Node-local metadata of a stored transaction (solid, snapshot index, validity)."""
        ...

    def snapshot_index(self, tx_hash: str) -> int:
        """``meta(tx_hash).snapshot_index``, 0 when not stored: the index of the milestone that
        confirmed the transaction (0: unconfirmed). Walks read only this of the metadata."""
        ...

    def is_solid_entry_point(self, tx_hash: str) -> bool:
        """Whether the hash is a solid entry point of the initial snapshot (NULL_HASH always)."""
        ...

    def cached_verdict(self, tail_hash: str) -> BundleVerdict | None:
        """The bundle verdict cached on a tail (§5.8), if any."""
        ...


def is_solid(reader: TangleReader, tx_hash: str) -> bool:
    """IRI's solidity (§3.6) as the store records it: a solid entry point, or a stored
    transaction flagged solid."""
    if reader.is_solid_entry_point(tx_hash):
        return True
    meta = reader.meta(tx_hash)
    return meta is not None and meta.solid


@dataclass(frozen=True, slots=True)
class Prefetched:
    """Answers of a reader read ahead of a walk, in bulk, from the same consistent state the
    walk reads (``StoreReader.read_cone``); ``MemoReader.preload`` takes them. A hash that is
    not a key was not read ahead; a key mapped to None was read and is absent."""

    links: Mapping[str, TxLinks | None] = field(default_factory=dict)
    snapshot_indexes: Mapping[str, int] = field(default_factory=dict)
    verdicts: Mapping[str, BundleVerdict | None] = field(default_factory=dict)
    entry_points: Mapping[str, bool] = field(default_factory=dict)


class _Memo(dict[str, _T]):
    """Answers by hash: those held, and the source's for the rest, which are then kept. A hit
    is a dictionary lookup in C, ``__missing__`` runs only on a miss."""

    def __init__(self, source: Callable[[str], _T]) -> None:
        super().__init__()
        self._source = source

    def __missing__(self, tx_hash: str) -> _T:
        answer = self[tx_hash] = self._source(tx_hash)
        return answer


class MemoReader:
    """A ``TangleReader`` that remembers every answer of the reader it wraps.

    Confirmation walks read each transaction of a cone several times (the balance walk, the
    tail search, bundle assembly, the confirmed cone); over one read view the answers cannot
    change, so one walk keeps them. Create one per walk: it holds every transaction it saw.

    The answers are bound ``__getitem__`` of memo dictionaries rather than methods: a walk over
    a cone read ahead asks tens of thousands of questions, nearly all hits, and a Python-level
    method call costs several times the lookup itself.
    """

    def __init__(self, reader: TangleReader) -> None:
        self._reader = reader
        self._transactions = _Memo(reader.transaction)
        self._links = _Memo(self._read_links)
        self._metas = _Memo(reader.meta)
        self._snapshot_indexes = _Memo(self._read_snapshot_index)
        self._verdicts = _Memo(reader.cached_verdict)
        self._entry_points = _Memo(reader.is_solid_entry_point)
        self.transaction: Callable[[str], Transaction | None] = self._transactions.__getitem__
        self.links: Callable[[str], TxLinks | None] = self._links.__getitem__
        self.meta: Callable[[str], TxMeta | None] = self._metas.__getitem__
        self.snapshot_index: Callable[[str], int] = self._snapshot_indexes.__getitem__
        self.cached_verdict: Callable[[str], BundleVerdict | None] = self._verdicts.__getitem__
        self.is_solid_entry_point: Callable[[str], bool] = self._entry_points.__getitem__

    def preload(self, answers: Prefetched) -> None:
        """Take answers read ahead from the wrapped reader's state, as if asked already."""
        self._links.update(answers.links)
        self._snapshot_indexes.update(answers.snapshot_indexes)
        self._verdicts.update(answers.verdicts)
        self._entry_points.update(answers.entry_points)

    def _read_links(self, tx_hash: str) -> TxLinks | None:
        tx = self._transactions.get(tx_hash)  # a transaction held already has them
        return links_of(tx) if tx is not None else self._reader.links(tx_hash)

    def _read_snapshot_index(self, tx_hash: str) -> int:
        if tx_hash in self._metas:  # metadata held already has it
            meta = self._metas[tx_hash]
            return meta.snapshot_index if meta is not None else 0
        return self._reader.snapshot_index(tx_hash)
