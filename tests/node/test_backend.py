"""StoreBackend's getBalances answers (no tips) on a real Tangle, Ledger and Writer: a cached
answer is given without reading the database only while the writer's count of writes shows
that nothing was written since it was checked."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from functools import cache

import pytest

from pyri.consensus.ledger import Ledger, initialize
from pyri.consensus.snapshot_files import global_snapshot_state
from pyri.consensus.tangle import Tangle, TangleConfig
from pyri.crypto.sponge import SpongeMode
from pyri.model.bundle import SUPPLY
from pyri.node.backend import StoreBackend
from pyri.node.write_counter import WriteCounter
from pyri.node.writer import Rejection, Writer
from pyri.storage import open_engine, schema
from pyri.trinary import NULL_HASH
from tests.consensus.milestone_builder import CoordinatorKeys, build_milestone
from tests.node.counting_engine import CountingEngine

RICH = "RICH" + "9" * 77
POOR = "POOR" + "9" * 77


@cache
def _keys() -> CoordinatorKeys:
    return CoordinatorKeys.generate("PYRI9BACKEND9TEST".ljust(81, "9"), 2, 1, SpongeMode.CURLP27)


class _NoSubmitter:
    def store(self, trytes: Sequence[str]) -> Rejection | None:
        raise AssertionError("not used")

    def broadcast(self, trytes: Sequence[str]) -> object:
        raise AssertionError("not used")


class Node:
    """A writer and an API backend over one engine, sharing a count of writes as a node's
    writer process and API workers do."""

    def __init__(self, counted: bool = True) -> None:
        self.engine = CountingEngine(open_engine(None))
        keys = _keys()
        self.keys = keys
        coordinator = keys.config()
        tangle = Tangle(self.engine, TangleConfig(mwm=0))
        state = global_snapshot_state({RICH: SUPPLY - 7, POOR: 7}, index=0, timestamp=0)
        initialize(tangle, coordinator, state)
        self.counter = WriteCounter.in_memory()
        self.writer = Writer(tangle, Ledger(tangle, coordinator), counter=self.counter)
        self.backend = StoreBackend(
            self.engine,
            TangleConfig(mwm=0),
            coordinator,
            _NoSubmitter(),
            testnet=True,
            writes=self.counter if counted else None,
        )
        self.previous = NULL_HASH

    def issue_milestone(self, index: int) -> None:
        milestone = build_milestone(self.keys, index, trunk=self.previous, branch=self.previous)
        assert self.writer.store([tx.trytes for tx in reversed(milestone)]) is None
        self.previous = milestone[0].hash

    def index(self, addresses: Sequence[str]) -> int:
        return self.backend.balances(addresses).milestone_index


@pytest.fixture
def node() -> Node:
    return Node()


def test_a_cached_answer_needs_no_read_while_nothing_was_written(node: Node) -> None:
    first = node.backend.balances([RICH, POOR])
    assert (list(first.balances), first.milestone_index) == ([SUPPLY - 7, 7], 0)
    reads = node.engine.reads
    for _ in range(3):
        assert node.backend.balances([RICH, POOR]) is first
    assert node.engine.reads == reads


def test_an_applied_milestone_is_seen_by_the_next_answer(node: Node) -> None:
    assert node.index([RICH]) == 0
    node.issue_milestone(1)
    assert node.index([RICH]) == 1
    node.issue_milestone(2)
    assert node.index([RICH]) == 2


def test_a_write_without_a_ledger_change_costs_one_check(node: Node) -> None:
    answer = node.backend.balances([POOR])
    node.writer.process()  # nothing to apply, but the count moved
    reads = node.engine.reads
    assert node.backend.balances([POOR]) is answer
    assert node.backend.balances([POOR]) is answer
    assert node.engine.reads == reads + 1


def test_during_a_write_every_answer_is_checked(node: Node) -> None:
    answer = node.backend.balances([POOR])
    with node.counter.writing():
        reads = node.engine.reads
        assert node.backend.balances([POOR]) is answer
        assert node.backend.balances([POOR]) is answer
        assert node.engine.reads == reads + 2


def test_without_a_count_every_answer_is_checked() -> None:
    node = Node(counted=False)
    answer = node.backend.balances([POOR])
    reads = node.engine.reads
    assert node.backend.balances([POOR]) is answer
    assert node.engine.reads == reads + 1
    node.issue_milestone(1)
    assert node.index([POOR]) == 1


def test_a_new_question_reads_only_balances_while_nothing_was_written(node: Node) -> None:
    assert list(node.backend.balances([RICH]).balances) == [SUPPLY - 7]
    assert node.engine.buckets_read[-1] == {schema.NODE_META, schema.LEDGER}
    answer = node.backend.balances([POOR, RICH])
    assert (list(answer.balances), answer.milestone_index) == ([7, SUPPLY - 7], 0)
    assert node.engine.buckets_read[-1] == {schema.LEDGER}


def test_after_a_write_a_new_question_reads_the_milestone_again(node: Node) -> None:
    node.backend.balances([RICH])
    node.issue_milestone(1)
    answer = node.backend.balances([POOR])
    assert (list(answer.balances), answer.milestone_index) == ([7], 1)
    assert node.engine.buckets_read[-1] == {schema.NODE_META, schema.LEDGER}


def test_a_write_that_begins_during_the_read_sends_it_back_for_both(node: Node) -> None:
    node.backend.balances([RICH])
    with contextlib.ExitStack() as step:
        # The writer starts a step just after the balances were read.
        node.engine.on_read = lambda: step.enter_context(node.counter.writing())
        answer = node.backend.balances([POOR])
        assert (list(answer.balances), answer.milestone_index) == ([7], 0)
        assert node.engine.buckets_read[-2:] == [
            {schema.LEDGER},
            {schema.NODE_META, schema.LEDGER},
        ]
        # While the step runs (odd count) every question reads both together.
        node.backend.balances([RICH, POOR, RICH])
        assert node.engine.buckets_read[-1] == {schema.NODE_META, schema.LEDGER}
