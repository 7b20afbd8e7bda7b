"""An in-memory NodeBackend for tests: small, deterministic, no disk, no crypto.

It keeps a ledger state per milestone and a dictionary of transactions, and follows the
protocol's contracts closely enough for the API tests: balances through tips walk the
unconfirmed past cone and refuse overdrafts, storeTransactions is all or nothing, and so on.
It does not assemble or validate bundles (a transaction carries a ``valid`` flag instead), and
a transaction's hash is whatever the test says (or, for stored trytes, a digest of them that is
not Curl).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyri.api.backend import (
    Balances,
    Consistency,
    MilestoneNotAvailable,
    NodeBackend,
    NodeInfo,
    NotATail,
    TipNotFound,
    TipsNotConsistent,
    TransactionMissing,
    TransactionRejected,
)
from pyri.trinary import ALPHABET, NULL_HASH, int_to_trytes, trytes_to_int

TRANSACTION_TRYTES = 2673
COORDINATOR = "COORDINATOR9ADDRESS" + "9" * 62


def fake_hash(text: str) -> str:
    """A deterministic 81-tryte digest (not Curl: the fake needs no crypto)."""
    return "".join(ALPHABET[b % 27] for b in hashlib.shake_256(text.encode()).digest(81))


@dataclass(frozen=True, slots=True)
class FakeTransaction:
    """The fields of a transaction the fake looks at. ``confirmed_by`` is the index of the
    milestone that confirmed it (0 = unconfirmed); ``valid`` stands for its bundle's validity."""

    hash: str
    address: str = NULL_HASH
    value: int = 0
    bundle: str = NULL_HASH
    tag: str = "9" * 27
    obsolete_tag: str = "9" * 27
    trunk: str = NULL_HASH
    branch: str = NULL_HASH
    current_index: int = 0
    solid: bool = True
    valid: bool = True
    confirmed_by: int = 0

    @property
    def trytes(self) -> str:
        """The 2673 trytes the fake answers getTrytes with (its layout, signature left blank)."""
        return "".join(
            (
                "9" * 2187,
                self.address,
                int_to_trytes(self.value, 27),
                self.obsolete_tag,
                "9" * 9,  # timestamp
                int_to_trytes(self.current_index, 9),
                "9" * 9,  # last index
                self.bundle,
                self.trunk,
                self.branch,
                self.tag,
                "9" * 54,  # attachment timestamps and nonce
            )
        )

    @classmethod
    def from_trytes(cls, trytes: str) -> FakeTransaction:
        return cls(
            hash=fake_hash(trytes),
            address=trytes[2187:2268],
            value=trytes_to_int(trytes[2268:2295]),
            obsolete_tag=trytes[2295:2322],
            current_index=trytes_to_int(trytes[2331:2340]),
            bundle=trytes[2349:2430],
            trunk=trytes[2430:2511],
            branch=trytes[2511:2592],
            tag=trytes[2592:2619],
        )


@dataclass
class FakeBackend:
    """Starts at a snapshot (index, hash, balances); ``apply_milestone`` adds ledger states."""

    snapshot_index: int = 0
    snapshot_hash: str = NULL_HASH
    snapshot_balances: Mapping[str, int] = field(default_factory=dict)
    synchronized: bool = True
    transactions: dict[str, FakeTransaction] = field(default_factory=dict)
    spent: set[str] = field(default_factory=set)
    missing: list[str] = field(default_factory=list)
    broadcast: list[str] = field(default_factory=list)
    # milestone index -> (milestone hash, balances after it)
    states: dict[int, tuple[str, dict[str, int]]] = field(init=False)
    latest: int = field(init=False)

    def __post_init__(self) -> None:
        self.states = {self.snapshot_index: (self.snapshot_hash, dict(self.snapshot_balances))}
        self.latest = self.snapshot_index

    # --- test helpers -----------------------------------------------------------------------

    def apply_milestone(self, milestone_hash: str, changes: Mapping[str, int]) -> int:
        """Add the next milestone, moving ``changes`` (address -> delta); returns its index."""
        balances = dict(self.states[self.latest][1])
        for address, delta in changes.items():
            balances[address] = balances.get(address, 0) + delta
        self.latest += 1
        self.states[self.latest] = (milestone_hash, balances)
        return self.latest

    def add(self, *transactions: FakeTransaction) -> None:
        for tx in transactions:
            self.transactions[tx.hash] = tx

    # --- NodeBackend --------------------------------------------------------------------------

    def node_info(self) -> NodeInfo:
        latest_hash = self.states[self.latest][0]
        return NodeInfo(
            app_name="pyri",
            app_version="0.1.0",
            jre_available_processors=4,
            jre_free_memory=1 << 30,
            jre_version="3.11",
            jre_max_memory=4 << 30,
            jre_total_memory=2 << 30,
            latest_milestone=latest_hash,
            latest_milestone_index=self.latest,
            latest_solid_subtangle_milestone=latest_hash,
            latest_solid_subtangle_milestone_index=self.latest,
            milestone_start_index=self.snapshot_index + 1
            if self.latest > self.snapshot_index
            else -1,
            last_snapshotted_milestone_index=self.snapshot_index,
            neighbors=0,
            packets_queue_size=0,
            time=1_700_000_000_000,
            tips=len(self.tips()),
            transactions_to_request=len(self.missing),
            features=("dnsRefresher",),
            coordinator_address=COORDINATOR,
            db_size_in_bytes=0,
        )

    def is_synchronized(self) -> bool:
        return self.synchronized

    def balances(self, addresses: Sequence[str]) -> Balances:
        return self.balances_at(addresses, self.latest)

    def balances_at(self, addresses: Sequence[str], milestone_index: int) -> Balances:
        if not self.snapshot_index <= milestone_index <= self.latest:
            raise MilestoneNotAvailable(milestone_index, self.snapshot_index, self.latest)
        milestone_hash, state = self.states[milestone_index]
        return Balances([state.get(a, 0) for a in addresses], milestone_index, milestone_hash)

    def balances_through_tips(self, addresses: Sequence[str], tips: Sequence[str]) -> Balances:
        diff = self._tips_diff(tips)
        milestone_hash, state = self.states[self.latest]
        return Balances(
            [state.get(a, 0) + diff.get(a, 0) for a in addresses], self.latest, milestone_hash
        )

    def _tips_diff(self, tips: Iterable[str]) -> dict[str, int]:
        state = self.states[self.latest][1]
        visited: set[str] = set()
        diff: dict[str, int] = {}
        for tip in tips:
            tx = self.transactions.get(tip)
            if tx is None:
                raise TipNotFound(tip)
            if not tx.solid:
                raise TipsNotConsistent()
            stack = [tip]
            while stack:
                current = self.transactions.get(stack.pop())
                if current is None or current.hash in visited:
                    continue  # outside the stored tangle (a solid entry point) or seen
                if current.confirmed_by and current.confirmed_by <= self.latest:
                    continue  # already in the ledger state
                if not current.valid:
                    raise TipsNotConsistent()
                visited.add(current.hash)
                if current.value:
                    diff[current.address] = diff.get(current.address, 0) + current.value
                stack += (current.trunk, current.branch)
            if any(state.get(a, 0) + delta < 0 for a, delta in diff.items()):
                raise TipsNotConsistent()
        return diff

    def get_trytes(self, hashes: Sequence[str]) -> list[str | None]:
        found = (self.transactions.get(h) for h in hashes)
        return [None if tx is None else tx.trytes for tx in found]

    def find_transactions(
        self,
        *,
        addresses: frozenset[str] | None,
        bundles: frozenset[str] | None,
        tags: frozenset[str] | None,
        approvees: frozenset[str] | None,
    ) -> list[str]:
        txs = list(self.transactions.values())
        matches: list[set[str]] = []
        if bundles is not None:
            matches.append({t.hash for t in txs if t.bundle in bundles})
        if addresses is not None:
            matches.append({t.hash for t in txs if t.address in addresses})
        if tags is not None:
            by_tag = {t.hash for t in txs if t.tag in tags}
            # Only when no tag matches are the same tags looked up as obsolete tags (§4.8).
            matches.append(by_tag or {t.hash for t in txs if t.obsolete_tag in tags})
        if approvees is not None:
            matches.append({t.hash for t in txs if t.trunk in approvees or t.branch in approvees})
        return sorted(set.intersection(*matches))

    def inclusion_states(self, hashes: Sequence[str]) -> list[bool]:
        found = (self.transactions.get(h) for h in hashes)
        return [tx is not None and 0 < tx.confirmed_by <= self.latest for tx in found]

    def were_addresses_spent_from(self, addresses: Sequence[str]) -> list[bool]:
        spenders = {
            t.address
            for t in self.transactions.values()
            if t.value < 0 and (t.valid or t.confirmed_by)
        }
        return [a in self.spent or a in spenders for a in addresses]

    def check_consistency(self, tails: Sequence[str]) -> Consistency:
        for tail in tails:
            tx = self.transactions.get(tail)
            if tx is None:
                raise TransactionMissing(tail)
            if tx.current_index != 0:
                raise NotATail(tail)
            if not tx.solid:
                return Consistency(False, f"tails are not solid (missing a referenced tx): {tail}")
            if not tx.valid:
                return Consistency(False, f"tails are not consistent (bundle is invalid): {tail}")
        try:
            self._tips_diff(tails)
        except TipsNotConsistent:
            return Consistency(
                False,
                "tails are not consistent (would lead to inconsistent ledger state or below "
                "max depth)",
            )
        return Consistency(True)

    def tips(self) -> list[str]:
        approved = {h for t in self.transactions.values() for h in (t.trunk, t.branch)}
        return sorted(h for h in self.transactions if h not in approved)

    def missing_transactions(self) -> list[str]:
        return list(self.missing)

    def store_transactions(self, trytes: Sequence[str]) -> None:
        parsed = [FakeTransaction.from_trytes(t) for t in trytes]
        for index, (text, tx) in enumerate(zip(trytes, parsed, strict=True)):
            problem = _problem(text)
            if problem is not None:
                raise TransactionRejected(index, tx.hash, *problem)
        self.add(*parsed)

    def broadcast_transactions(self, trytes: Sequence[str]) -> None:
        for text in trytes:
            if _problem(text) is None:
                tx = FakeTransaction.from_trytes(text)
                self.add(tx)
                self.broadcast.append(tx.hash)


def _problem(trytes: str) -> tuple[str, str] | None:
    """The fake's only ingest rule, IRI's value rule: value trits 33..80 (value trytes 11..26)
    must be zero."""
    if trytes[2268 + 11 : 2295].strip("9"):
        return (
            "Invalid transaction value",
            "value field trits 33..80 are not all zero (a value must fit in 33 trits)",
        )
    return None


if TYPE_CHECKING:
    # mypy proves here that the fake implements the whole protocol.
    _conforms: NodeBackend = FakeBackend()
