"""The read interface consensus code needs from the Tangle.

Confirmation, milestone validation and the ledger view through tips are pure functions over
this small interface, so they are tested against an in-memory dictionary and run in production
against a consistent read view of the store (``pyri.consensus.tangle``).
"""

from __future__ import annotations

from typing import Protocol

from pyri.model.bundle import BundleVerdict
from pyri.model.transaction import Transaction
from pyri.storage.schema import TxMeta


class TangleReader(Protocol):
    """What consensus reads. Every method answers from one consistent state of the Tangle."""

    def transaction(self, tx_hash: str) -> Transaction | None:
        """The stored transaction, or None (IRI's PREFILLED slot: referenced but not stored)."""
        ...

    def meta(self, tx_hash: str) -> TxMeta | None:
        """Node-local metadata of a stored transaction (solid, snapshot index, validity)."""
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


class MemoReader:
    """A ``TangleReader`` that remembers every answer of the reader it wraps.

    Confirmation walks read each transaction of a cone several times (the balance walk, the
    tail search, bundle assembly, the confirmed cone); over one read view the answers cannot
    change, so one walk keeps them. Create one per walk: it holds every transaction it saw.
    """

    def __init__(self, reader: TangleReader) -> None:
        self._reader = reader
        self._transactions: dict[str, Transaction | None] = {}
        self._metas: dict[str, TxMeta | None] = {}
        self._verdicts: dict[str, BundleVerdict | None] = {}
        self._entry_points: dict[str, bool] = {}

    def transaction(self, tx_hash: str) -> Transaction | None:
        try:
            return self._transactions[tx_hash]
        except KeyError:
            tx = self._transactions[tx_hash] = self._reader.transaction(tx_hash)
            return tx

    def meta(self, tx_hash: str) -> TxMeta | None:
        try:
            return self._metas[tx_hash]
        except KeyError:
            meta = self._metas[tx_hash] = self._reader.meta(tx_hash)
            return meta

    def is_solid_entry_point(self, tx_hash: str) -> bool:
        try:
            return self._entry_points[tx_hash]
        except KeyError:
            answer = self._entry_points[tx_hash] = self._reader.is_solid_entry_point(tx_hash)
            return answer

    def cached_verdict(self, tail_hash: str) -> BundleVerdict | None:
        try:
            return self._verdicts[tail_hash]
        except KeyError:
            verdict = self._verdicts[tail_hash] = self._reader.cached_verdict(tail_hash)
            return verdict
