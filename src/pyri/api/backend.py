"""What the API handlers ask of the node: the ``NodeBackend`` protocol, its result types and the
errors it may raise.

The handlers validate every parameter before calling the backend, so a backend receives only
well-formed values: hashes and addresses are 81-tryte strings (checksums already stripped), tags
are 27 trytes, transaction trytes are 2673 trytes, lists are at most ``--max-requests-list``
long. The errors below are the only ones a backend raises on purpose; each is an ``ApiError``
whose message is IRI's, so the handler lets it through unchanged. Any other exception is a fault
of the node and becomes a 500.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pyri.api.errors import BadRequest

# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """Everything IRI 1.8.6's getNodeInfo reports (iri-api-reference §4.1), in its order.

    ``features`` holds the node-level features only (``snapshotPruning``, ``dnsRefresher``,
    ``testnet``, ``zeroMessageQueue``, in that order, each when it applies); the API appends the
    ones that depend on ``--remote-limit-api``. On a node that has applied no milestone yet,
    ``latest_milestone`` and ``latest_solid_subtangle_milestone`` are the snapshot's hash (the
    null hash for a genesis snapshot) and both indexes are the snapshot index.
    """

    app_name: str
    app_version: str
    jre_available_processors: int  # CPUs visible to the process
    jre_free_memory: int  # bytes
    jre_version: str  # pyri reports its Python version here
    jre_max_memory: int  # bytes
    jre_total_memory: int  # bytes
    latest_milestone: str
    latest_milestone_index: int
    latest_solid_subtangle_milestone: str
    latest_solid_subtangle_milestone_index: int
    milestone_start_index: int  # lowest milestone index in the database, -1 if none
    last_snapshotted_milestone_index: int  # index of the snapshot the ledger is based on
    neighbors: int
    packets_queue_size: int
    time: int  # ms since the epoch
    tips: int
    transactions_to_request: int
    features: tuple[str, ...]
    coordinator_address: str
    db_size_in_bytes: int


@dataclass(frozen=True, slots=True)
class Balances:
    """Balances of the requested addresses, in request order (a duplicate address repeats its
    balance), and the milestone whose ledger state they were read from. All three fields come
    from one consistent ledger state."""

    balances: Sequence[int]
    milestone_index: int
    milestone_hash: str


@dataclass(frozen=True, slots=True)
class Consistency:
    """checkConsistency's verdict; ``info`` is "" when ``state`` is true and otherwise IRI's
    reason, e.g. ``tails are not solid (missing a referenced tx): <hash>``."""

    state: bool
    info: str = ""


# --- errors --------------------------------------------------------------------------------------


class TipNotFound(BadRequest):
    """A tip given to getBalances is not a stored transaction (iri-api-reference §3.3, 4a)."""

    def __init__(self, tip: str) -> None:
        super().__init__(f"Tip not found: {tip}")
        self.tip = tip


class TipsNotConsistent(BadRequest):
    """A tip is not solid, its past cone holds an invalid bundle, or the tips together would
    overdraw an address (iri-api-reference §3.3, 4b and 4e)."""

    def __init__(self) -> None:
        super().__init__("Tips are not consistent")


class MilestoneNotAvailable(BadRequest):
    """getBalances' ``milestoneIndex`` is outside the milestones whose ledger state the node can
    rebuild: before its snapshot or after its latest solid milestone (design.md, difference 8)."""

    def __init__(self, requested: int, lowest: int, highest: int) -> None:
        super().__init__(
            f"Invalid milestoneIndex input: milestone {requested} is not available; "
            f"this node can answer {lowest} to {highest}"
        )
        self.requested = requested
        self.lowest = lowest
        self.highest = highest


class TransactionMissing(BadRequest):
    """A tail given to checkConsistency is not in the database (iri-api-reference §4.16)."""

    def __init__(self, tx_hash: str) -> None:
        super().__init__(f"Invalid transaction, missing: {tx_hash}")
        self.tx_hash = tx_hash


class NotATail(BadRequest):
    """A transaction given to checkConsistency as a tail has a current index other than 0."""

    def __init__(self, tx_hash: str) -> None:
        super().__init__(f"Invalid transaction, not a tail: {tx_hash}")
        self.tx_hash = tx_hash


class TransactionRejected(BadRequest):
    """storeTransactions: the transaction at ``index`` failed ingest validation, so nothing was
    stored (iri-consensus-reference §3.4). ``reason`` is IRI's message (``Invalid transaction
    hash``, ``Invalid transaction value``, ``Invalid transaction address``, ``Invalid transaction
    timestamp.``); ``detail`` says which value broke which bound."""

    def __init__(self, index: int, tx_hash: str, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: trytes[{index}] (hash {tx_hash}): {detail}")
        self.index = index
        self.tx_hash = tx_hash
        self.reason = reason
        self.detail = detail


# --- the protocol --------------------------------------------------------------------------------


class NodeBackend(Protocol):
    """The node as the API handlers see it. Every method may be called from several requests at
    once; each answers from one consistent view of the node."""

    def node_info(self) -> NodeInfo: ...

    def is_synchronized(self) -> bool:
        """IRI's sync check (iri-api-reference §4): the latest solid milestone index differs from
        the initial snapshot index and is at least the latest known milestone index - 1."""
        ...

    def balances(self, addresses: Sequence[str]) -> Balances:
        """Confirmed balances at the latest solid milestone (absent address = 0). A node that
        has applied no milestone answers with its snapshot: index = snapshot index, hash = the
        snapshot's milestone hash (the null hash for a genesis snapshot). Never raises
        TipNotFound (design.md, difference 4)."""
        ...

    def balances_through_tips(self, addresses: Sequence[str], tips: Sequence[str]) -> Balances:
        """Confirmed balances plus the effect of every unconfirmed valid bundle in the tips'
        past cones (iri-api-reference §3.3-3.4); ``milestone_index``/``milestone_hash`` are the
        latest solid milestone's. ``tips`` is non-empty and may hold duplicates. Raises
        TipNotFound for the first tip that is not stored, TipsNotConsistent otherwise."""
        ...

    def balances_at(self, addresses: Sequence[str], milestone_index: int) -> Balances:
        """Balances right after milestone ``milestone_index`` was applied, with that milestone's
        index and hash. Raises MilestoneNotAvailable outside the answerable range."""
        ...

    def get_trytes(self, hashes: Sequence[str]) -> list[str | None]:
        """The 2673 trytes of each transaction, None where it is unknown, in request order."""
        ...

    def find_transactions(
        self,
        *,
        addresses: frozenset[str] | None,
        bundles: frozenset[str] | None,
        tags: frozenset[str] | None,
        approvees: frozenset[str] | None,
    ) -> list[str]:
        """Hashes matching every criterion given (None = not given; at least one is given): the
        intersection across criteria of the union within each (iri-api-reference §4.8).
        ``approvees`` matches direct approvers; ``tags`` (27 trytes each) match the tag field,
        and only if no transaction matches any of them, the obsolete-tag field. No duplicates;
        any order."""
        ...

    def inclusion_states(self, hashes: Sequence[str]) -> list[bool]:
        """IRI 1.8.6: true iff the transaction is confirmed by a milestone; unknown = false."""
        ...

    def were_addresses_spent_from(self, addresses: Sequence[str]) -> list[bool]:
        """Per address, in request order (iri-api-reference §4.17)."""
        ...

    def check_consistency(self, tails: Sequence[str]) -> Consistency:
        """iri-api-reference §4.16. Raises TransactionMissing or NotATail for the first tail
        that is missing or not a tail."""
        ...

    def tips(self) -> list[str]:
        """Hashes of the transactions that no stored transaction approves."""
        ...

    def missing_transactions(self) -> list[str]:
        """Hashes in the transaction-request queue, in the order first requested."""
        ...

    def store_transactions(self, trytes: Sequence[str]) -> None:
        """Validate every transaction first; if any fails, raise TransactionRejected for the
        first failure and store none. Otherwise store the new ones (not broadcast)."""
        ...

    def broadcast_transactions(self, trytes: Sequence[str]) -> None:
        """Feed the transactions into the ingest pipeline as if received from a neighbour:
        invalid ones are dropped silently, valid ones stored and gossiped."""
        ...
