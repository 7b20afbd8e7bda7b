"""A dict-backed ``TangleReader``: the Tangle consensus code reads, without any storage.

``TangleBuilder`` fills it; tests then set what the node would have recorded (snapshot indexes,
solidity, cached verdicts) and commit the results of the pure confirmation functions with
``apply_cone`` and ``cache_verdicts``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from pyri.consensus.view import TxLinks, links_of
from pyri.model.bundle import BundleVerdict
from pyri.model.transaction import Transaction
from pyri.storage import schema
from pyri.storage.engine import KVEngine
from pyri.storage.schema import TxMeta, Validity
from pyri.trinary import NULL_HASH


class MemoryReader:
    """Transactions, their metadata, the solid entry points (hash -> index) and cached verdicts,
    each in a dict. NULL_HASH is a solid entry point unless ``solid_entry_points`` says
    otherwise."""

    def __init__(self, solid_entry_points: Mapping[str, int] | None = None) -> None:
        self.transactions: dict[str, Transaction] = {}
        self.metas: dict[str, TxMeta] = {}
        self.solid_entry_points: dict[str, int] = dict(
            {NULL_HASH: 0} if solid_entry_points is None else solid_entry_points
        )
        self.verdicts: dict[str, BundleVerdict] = {}

    # --- TangleReader ---------------------------------------------------------------------------

    def transaction(self, tx_hash: str) -> Transaction | None:
        return self.transactions.get(tx_hash)

    def links(self, tx_hash: str) -> TxLinks | None:
        tx = self.transactions.get(tx_hash)
        return None if tx is None else links_of(tx)

    def meta(self, tx_hash: str) -> TxMeta | None:
        return self.metas.get(tx_hash)

    def snapshot_index(self, tx_hash: str) -> int:
        meta = self.metas.get(tx_hash)
        return 0 if meta is None else meta.snapshot_index

    def is_solid_entry_point(self, tx_hash: str) -> bool:
        return tx_hash in self.solid_entry_points

    def cached_verdict(self, tail_hash: str) -> BundleVerdict | None:
        return self.verdicts.get(tail_hash)

    # --- filling and changing it ----------------------------------------------------------------

    def add(self, tx: Transaction, *, solid: bool | None = None) -> None:
        """Store ``tx``. Unless told, it is solid when both approvees are solid entry points or
        stored solid transactions, so adding a tangle in approval order marks it as a node
        would."""
        if solid is None:
            solid = self.is_solid(tx.trunk_transaction) and self.is_solid(tx.branch_transaction)
        self.transactions[tx.hash] = tx
        self.metas[tx.hash] = TxMeta(solid=solid)

    def is_solid(self, tx_hash: str) -> bool:
        meta = self.metas.get(tx_hash)
        return self.is_solid_entry_point(tx_hash) or (meta is not None and meta.solid)

    def remove(self, tx_hash: str) -> None:
        """Forget a transaction, as if it had never arrived (or was pruned)."""
        del self.transactions[tx_hash]
        del self.metas[tx_hash]

    def set_solid(self, tx_hash: str, solid: bool = True) -> None:
        self.metas[tx_hash] = dataclasses.replace(self.metas[tx_hash], solid=solid)

    def set_milestone(self, tx_hash: str) -> None:
        self.metas[tx_hash] = dataclasses.replace(self.metas[tx_hash], milestone=True)

    def set_snapshot_index(self, hashes: Iterable[str], index: int) -> None:
        """Mark transactions as confirmed by milestone ``index`` (0: unconfirmed)."""
        for tx_hash in hashes:
            self.metas[tx_hash] = dataclasses.replace(self.metas[tx_hash], snapshot_index=index)

    def cache_verdicts(self, verdicts: Mapping[str, BundleVerdict]) -> None:
        """Write verdicts as the node does (§5.8): the verdict and the tail's validity flag."""
        for tail_hash, verdict in verdicts.items():
            self.verdicts[tail_hash] = verdict
            validity = Validity(verdict.validity_flag)
            self.metas[tail_hash] = dataclasses.replace(self.metas[tail_hash], validity=validity)

    def add_solid_entry_points(self, entry_points: Mapping[str, int]) -> None:
        self.solid_entry_points.update(entry_points)

    # --- the same Tangle in a store ---------------------------------------------------------

    def write_to(self, engine: KVEngine) -> None:
        """Write what this reader holds into ``engine`` in the node's layout (transactions,
        metadata, cached verdicts, solid entry points), so the same walks run over a
        ``StoreReader``."""
        txs = list(self.transactions.values())
        records = schema.encode_transaction_trytes([tx.trytes for tx in txs])
        with engine.write() as batch:
            keys = schema.hash_keys([tx.hash for tx in txs])
            batch.put_many(schema.TRANSACTIONS, list(zip(keys, records, strict=True)))
            for tx_hash, meta in self.metas.items():
                batch.put(schema.TX_META, schema.hash_key(tx_hash), meta.encode())
            for tail_hash, verdict in self.verdicts.items():
                batch.put(schema.BUNDLE_VERDICTS, schema.hash_key(tail_hash), verdict.encode())
            for entry_point, index in self.solid_entry_points.items():
                key = schema.hash_key(entry_point)
                batch.put(schema.SOLID_ENTRY_POINTS, key, schema.encode_index(index))
