"""The writer's spare-time bundle validation: the tails its ingest makes solid are queued and
judged a bounded chunk at a time, each chunk one counted write, the lock free in between."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import cache

import pytest

from pyri.consensus.ledger import Ledger, confirmed_balances, initialize
from pyri.consensus.snapshot_files import global_snapshot_state
from pyri.consensus.tangle import Tangle, TangleConfig
from pyri.crypto.sponge import SpongeMode
from pyri.model.bundle import SUPPLY, BundleStatus, BundleVerdict
from pyri.node.write_counter import WriteCounter
from pyri.node.writer import Writer
from pyri.storage import open_engine
from tests.consensus.milestone_builder import CoordinatorKeys, build_milestone
from tests.consensus.tangle_builder import Bundle, TangleBuilder, address_of
from tests.node.counting_engine import CountingEngine

SENDERS = [f"sender{k}" for k in range(5)]
ZERO_VALUE_VALID = BundleVerdict(BundleStatus.VALID, "valid")  # no value diff, nothing spent


@cache
def _keys() -> CoordinatorKeys:
    return CoordinatorKeys.generate("PYRI9WRITER9TEST".ljust(81, "9"), 2, 1, SpongeMode.CURLP27)


class Node:
    def __init__(self, chunk_tails: int) -> None:
        self.engine = CountingEngine(open_engine(None))
        self.keys = _keys()
        coordinator = self.keys.config()
        self.tangle = Tangle(self.engine, TangleConfig(mwm=0))
        balances = {address_of(name): 100 for name in SENDERS}
        balances[address_of("zed")] = SUPPLY - 100 * len(SENDERS)
        state = global_snapshot_state(balances, index=0, timestamp=0)
        initialize(self.tangle, coordinator, state)
        self.counter = WriteCounter.in_memory()
        self.ledger = Ledger(self.tangle, coordinator)
        self.writer = Writer(
            self.tangle,
            self.ledger,
            counter=self.counter,
            chunk_tails=chunk_tails,
            chunk_seconds=float("inf"),  # only the count bounds a chunk here
        )
        self.builder = TangleBuilder()

    def store(self, *bundles: Bundle) -> None:
        for bundle in bundles:
            assert self.writer.store([tx.trytes for tx in reversed(bundle.transactions)]) is None

    def transfers(self) -> list[Bundle]:
        return [
            self.builder.transfer(name, "bob", 10 + k, store=False)
            for k, name in enumerate(SENDERS)
        ]

    def verdicts(self, tails: list[str]) -> list[BundleVerdict | None]:
        with self.tangle.read() as reader:
            return [reader.cached_verdict(tail) for tail in tails]


@pytest.fixture
def node() -> Iterator[Node]:
    made = Node(chunk_tails=2)
    yield made
    made.writer.stop()


def test_solid_value_tails_are_judged_a_chunk_at_a_time(node: Node) -> None:
    bundles = node.transfers()
    node.store(*bundles)
    tails = [b.tail_hash for b in bundles]
    assert node.writer.prevalidation_backlog == 5
    assert node.verdicts(tails) == [None] * 5
    steps: list[tuple[int, int, int]] = []
    while node.writer.prevalidation_backlog:
        count, writes = node.counter.value, node.engine.writes
        chunk = node.writer.prevalidate()
        steps.append((chunk.taken, node.counter.value - count, node.engine.writes - writes))
    # Two tails a chunk, each chunk one atomic write and one counted write step (count +2).
    assert steps == [(2, 2, 1), (2, 2, 1), (1, 2, 1)]
    verdicts = node.verdicts(tails)
    assert [v.status if v else None for v in verdicts] == [BundleStatus.VALID] * 5
    assert [dict(v.value_diff) if v else None for v in verdicts] == [
        {address_of(name): -(10 + k), address_of("bob"): 10 + k} for k, name in enumerate(SENDERS)
    ]


def test_zero_value_tails_are_judged_as_well(node: Node) -> None:
    notes = [node.builder.message("NOTE" + "ABC"[k], store=False) for k in range(3)]
    node.store(*notes)
    assert node.writer.prevalidation_backlog == 3
    count, writes = node.counter.value, node.engine.writes
    assert [len(node.writer.prevalidate().written) for _ in range(2)] == [2, 1]
    assert (node.counter.value - count, node.engine.writes - writes) == (4, 2)
    assert node.verdicts([n.tail_hash for n in notes]) == [ZERO_VALUE_VALID] * 3


def test_a_chunk_that_writes_nothing_is_no_write_step(node: Node) -> None:
    notes = [node.builder.message("NOTE" + "AB"[k], store=False) for k in range(2)]
    node.store(*notes)
    # A milestone confirming both: applying it caches their verdicts and its own, so the three
    # queued tails have theirs already (never overwritten).
    milestone = build_milestone(node.keys, 1, trunk=notes[0].tail_hash, branch=notes[1].tail_hash)
    node.store(Bundle(tuple(milestone)))
    assert node.ledger.status().solid_index == 1
    tails = [notes[0].tail_hash, notes[1].tail_hash, milestone[0].hash]
    assert node.verdicts(tails) == [ZERO_VALUE_VALID] * 3
    assert node.writer.prevalidation_backlog == 3
    count, writes = node.counter.value, node.engine.writes
    chunks = [node.writer.prevalidate() for _ in range(2)]
    assert [(c.taken, dict(c.written)) for c in chunks] == [(2, {}), (1, {})]
    assert (node.counter.value, node.engine.writes) == (count, writes)


def test_a_milestone_between_chunks_is_applied_and_the_rest_follows(node: Node) -> None:
    bundles = node.transfers()
    node.store(*bundles)
    assert node.writer.prevalidate().taken == 2  # bundles 0 and 1 judged, the lock released
    # The writer is free for a caller: a milestone confirming bundles 0 and 2 is applied now,
    # with bundle 2 judged during application as before.
    milestone = build_milestone(
        node.keys, 1, trunk=bundles[0].tail_hash, branch=bundles[2].tail_hash
    )
    node.store(Bundle(tuple(milestone)))
    assert node.ledger.status().solid_index == 1
    with node.tangle.read() as reader:
        balances = confirmed_balances(reader.view, [address_of("bob")])
    assert balances == {address_of("bob"): 10 + 12}
    # The rest of the queue (bundles 2, 3, 4 and the milestone's tail) follows in chunks.
    assert [node.writer.prevalidate().taken for _ in range(2)] == [2, 2]
    assert node.writer.prevalidation_backlog == 0
    verdicts = node.verdicts([b.tail_hash for b in bundles])
    assert [v.status if v else None for v in verdicts] == [BundleStatus.VALID] * 5


def test_broadcast_queues_as_store_does(node: Node) -> None:
    pay = node.builder.transfer("sender0", "bob", 10, store=False)
    node.writer.broadcast([tx.trytes for tx in reversed(pay.transactions)])
    assert node.writer.prevalidation_backlog == 1
    assert dict(node.writer.prevalidate().written) == {
        pay.tail_hash: BundleVerdict(
            BundleStatus.VALID,
            "valid",
            value_diff={address_of("sender0"): -10, address_of("bob"): 10},
            spent_addresses=(address_of("sender0"),),
        )
    }


def test_the_background_loop_works_the_queue_off(node: Node) -> None:
    bundles = node.transfers()
    node.writer.start()
    node.store(*bundles)
    deadline = time.monotonic() + 60  # a safety net, not a measurement
    while node.writer.prevalidation_backlog and time.monotonic() < deadline:
        time.sleep(0.01)
    node.writer.stop()
    assert node.writer.prevalidation_backlog == 0
    verdicts = node.verdicts([b.tail_hash for b in bundles])
    assert [v.status if v else None for v in verdicts] == [BundleStatus.VALID] * 5
