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
