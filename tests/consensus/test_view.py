"""pyri.consensus.view: the TangleReader protocol's helpers and MemoReader."""

from __future__ import annotations

from collections import Counter

from pyri.consensus.view import MemoReader, Prefetched, TxLinks, links_of
from pyri.model.bundle import BundleStatus, BundleVerdict
from pyri.model.transaction import Transaction
from pyri.storage.schema import TxMeta
from tests.consensus.memory_reader import MemoryReader
from tests.consensus.tangle_builder import TangleBuilder, address_of

ABSENT = "ABSENT" + "9" * 75


class CountingReader:
    """A MemoryReader that counts what it is asked."""

    def __init__(self, reader: MemoryReader) -> None:
        self._reader = reader
        self.asked: Counter[str] = Counter()

    def transaction(self, tx_hash: str) -> Transaction | None:
        self.asked["transaction"] += 1
        return self._reader.transaction(tx_hash)

    def links(self, tx_hash: str) -> TxLinks | None:
        self.asked["links"] += 1
        return self._reader.links(tx_hash)

    def meta(self, tx_hash: str) -> TxMeta | None:
        self.asked["meta"] += 1
        return self._reader.meta(tx_hash)

    def snapshot_index(self, tx_hash: str) -> int:
        self.asked["snapshot_index"] += 1
        return self._reader.snapshot_index(tx_hash)

    def is_solid_entry_point(self, tx_hash: str) -> bool:
        self.asked["is_solid_entry_point"] += 1
        return self._reader.is_solid_entry_point(tx_hash)

    def cached_verdict(self, tail_hash: str) -> BundleVerdict | None:
        self.asked["cached_verdict"] += 1
        return self._reader.cached_verdict(tail_hash)


def built() -> tuple[TangleBuilder, list[str]]:
    tangle = TangleBuilder()
    tangle.genesis({"alice": 100})
    pay = tangle.transfer("alice", address_of("bob"), 60, remainder_to=address_of("alice", 1))
    tangle.issue_milestone([pay.tail_hash])
    return tangle, [*pay.hashes, ABSENT]


def test_links_are_the_transactions_approvees_and_place_in_its_bundle() -> None:
    tangle, hashes = built()
    for tx_hash in hashes[:-1]:
        tx = tangle.reader.transactions[tx_hash]
        assert links_of(tx) == (tx.trunk_transaction, tx.branch_transaction, tx.current_index, 3)
        assert tangle.reader.links(tx_hash) == links_of(tx)
    assert tangle.reader.links(ABSENT) is None


def test_the_memo_asks_once_and_answers_from_what_it_read() -> None:
    tangle, hashes = built()
    counting = CountingReader(tangle.reader)
    memo = MemoReader(counting)
    for _ in range(2):
        for tx_hash in hashes:
            assert memo.links(tx_hash) == tangle.reader.links(tx_hash)
            assert memo.snapshot_index(tx_hash) == tangle.reader.snapshot_index(tx_hash)
    assert counting.asked == {"links": len(hashes), "snapshot_index": len(hashes)}

    # A transaction or metadata it holds already answers for links and snapshot index.
    counting.asked.clear()
    memo = MemoReader(counting)
    for tx_hash in hashes:
        memo.transaction(tx_hash)
        memo.meta(tx_hash)
    for tx_hash in hashes:
        assert memo.links(tx_hash) == tangle.reader.links(tx_hash)
        assert memo.snapshot_index(tx_hash) == tangle.reader.snapshot_index(tx_hash)
    assert counting.asked["snapshot_index"] == 0
    assert counting.asked["links"] == 1  # the absent one: no transaction to take links from
    assert {memo.snapshot_index(h) for h in hashes} == {0, 1}


def test_preloaded_answers_are_used_and_the_rest_is_asked() -> None:
    tangle, hashes = built()
    counting = CountingReader(tangle.reader)
    memo = MemoReader(counting)
    tail = hashes[0]
    verdict = BundleVerdict(BundleStatus.VALID, "valid")
    memo.preload(
        Prefetched(
            links={h: tangle.reader.links(h) for h in hashes[:2]},
            snapshot_indexes={tail: 1},
            verdicts={tail: verdict, ABSENT: None},
            entry_points={tail: False},
        )
    )
    assert memo.is_solid_entry_point(tail) is False
    assert memo.links(tail) == tangle.reader.links(tail)
    assert memo.snapshot_index(tail) == 1
    assert memo.cached_verdict(tail) is verdict and memo.cached_verdict(ABSENT) is None
    assert not counting.asked
    assert memo.links(hashes[2]) == tangle.reader.links(hashes[2])
    assert counting.asked == {"links": 1}
