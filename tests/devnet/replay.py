"""An independent recomputation of the confirmed ledger from what a node serves: its milestones
and transactions, read over the HTTP API, replayed with IRI 1.8.6's rules (§7.3, §7.4) in a
walk written here rather than taken from ``pyri.consensus``. Bundles are judged with
``pyri.model.bundle.validate_bundle`` (without the extra rules, as milestone application does).

Used by the end-to-end test: every balance the node reports must be what this replay says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pyri.devnet.client import NodeClient
from pyri.model.bundle import validate_bundle
from pyri.model.transaction import Transaction
from pyri.trinary import NULL_HASH


@dataclass
class Replay:
    client: NodeClient
    balances: dict[str, int]
    transactions: dict[str, Transaction | None] = field(default_factory=dict)
    confirmed: dict[str, int] = field(default_factory=dict)
    """Tail hash -> the milestone whose balance walk counted it."""
    history: dict[int, dict[str, int]] = field(default_factory=dict)

    def prefetch(self, addresses: Iterable[str]) -> None:
        hashes = self.client.find_transactions(addresses=sorted(set(addresses)))
        self.fetch(hashes)

    def fetch(self, hashes: Iterable[str]) -> None:
        wanted = [h for h in dict.fromkeys(hashes) if h not in self.transactions and h != NULL_HASH]
        for tx_hash, trytes in zip(wanted, self.client.get_trytes(wanted), strict=True):
            tx = None if trytes.strip("9") == "" else Transaction.from_trytes(trytes)
            assert tx is None or tx.hash == tx_hash
            self.transactions[tx_hash] = tx

    def get(self, tx_hash: str) -> Transaction | None:
        if tx_hash == NULL_HASH:
            return None
        if tx_hash not in self.transactions:
            self.fetch([tx_hash])
        return self.transactions[tx_hash]

    def _tails_from(self, tx: Transaction) -> set[str]:
        """§7.4: the tails reached through trunk and branch, passing through non-tails."""
        tails: set[str] = set()
        seen: set[str] = set()
        frontier = [tx.trunk_transaction, tx.branch_transaction]
        while frontier:
            self.fetch(frontier)  # one call per level instead of one per transaction
            upper: list[str] = []
            for tx_hash in frontier:
                if tx_hash in seen:
                    continue
                seen.add(tx_hash)
                found = self.get(tx_hash)
                if found is None:
                    continue
                if found.current_index == 0:
                    tails.add(tx_hash)
                else:
                    upper += [found.branch_transaction, found.trunk_transaction]
            frontier = upper
        return tails

    def _bundle(self, tail: Transaction) -> list[Transaction]:
        chain = [tail]
        while len(chain) <= tail.last_index:
            following = self.get(chain[-1].trunk_transaction)
            assert following is not None, f"bundle of {tail.hash} is incomplete"
            chain.append(following)
        return chain

    def apply(self, index: int, milestone: str) -> dict[str, int]:
        """Confirm milestone ``index``: count every unconfirmed tail in its cone once."""
        diff: dict[str, int] = {}
        visited: set[str] = set()
        queue = [milestone]
        while queue:
            tail_hash = queue.pop()
            if tail_hash in visited or tail_hash in self.confirmed or tail_hash == NULL_HASH:
                continue
            visited.add(tail_hash)
            tail = self.get(tail_hash)
            assert tail is not None, f"milestone {index} reaches a missing tail {tail_hash}"
            verdict = validate_bundle(self._bundle(tail))
            assert verdict.valid, f"milestone {index} confirms an invalid bundle: {verdict.message}"
            for address, value in verdict.value_diff.items():
                diff[address] = diff.get(address, 0) + value
            queue += sorted(self._tails_from(tail))
        for tail_hash in visited:
            self.confirmed[tail_hash] = index
        for address, value in diff.items():
            balance = self.balances.get(address, 0) + value
            assert balance >= 0, f"milestone {index} overdraws {address}: {balance}"
            self.balances[address] = balance
        self.history[index] = {a: b for a, b in self.balances.items() if b}
        return diff

    def bundles_confirmed(self) -> Mapping[str, int]:
        """Bundle hash -> how many of its tails (attachments) were counted."""
        counts: dict[str, int] = {}
        for tail_hash in self.confirmed:
            tx = self.transactions[tail_hash]
            assert tx is not None
            counts[tx.bundle] = counts.get(tx.bundle, 0) + 1
        return counts
