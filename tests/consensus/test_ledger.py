"""The ledger service end to end on a real Tangle: signed transfers, real signed milestones
(a small Curl-P-27 coordinator tree), atomic commits, history, rollback and recovery."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

import pytest

from pyri.consensus.ledger import (
    HistoryRangeError,
    Ledger,
    LedgerError,
    balances_at,
    initialize,
    ledger_snapshot,
)
from pyri.consensus.snapshot_files import SnapshotState
from pyri.consensus.tangle import IngestStatus, Tangle, TangleConfig
from pyri.crypto.sponge import SpongeMode
from pyri.model.bundle import SUPPLY
from pyri.model.transaction import Transaction
from pyri.storage import open_engine, schema
from pyri.storage.engine import KVEngine
from pyri.trinary import NULL_HASH
from tests.consensus.milestone_builder import CoordinatorKeys, build_milestone
from tests.consensus.tangle_builder import Bundle, TangleBuilder


@cache
def _keys() -> CoordinatorKeys:
    return CoordinatorKeys.generate("PYRI9LEDGER9TEST".ljust(81, "9"), 4, 1, SpongeMode.CURLP27)


class Node:
    """A Tangle and a Ledger on one engine, fed like a node: ingest, note, process."""

    def __init__(self, engine: KVEngine, balances: dict[str, int] | None = None) -> None:
        self.engine = engine
        self.problems: list[str] = []
        self.builder = TangleBuilder()
        self.keys = _keys()
        self.coordinator = self.keys.config()
        self.tangle = Tangle(engine, TangleConfig(mwm=0))
        state = None
        if balances is not None:
            resolved = {self.builder.resolve(owner): value for owner, value in balances.items()}
            state = SnapshotState(
                balances=resolved,
                index=0,
                hash=NULL_HASH,
                timestamp=0,
                solid_entry_points={NULL_HASH: 0},
                seen_milestones={},
            )
        initialize(self.tangle, self.coordinator, state)
        self.ledger = Ledger(self.tangle, self.coordinator, report=self.problems.append)
        self.next_index = 1

    def ingest(self, transactions: Iterable[Transaction]) -> None:
        batch = list(transactions)
        results = self.tangle.ingest([tx.trytes for tx in batch])
        assert all(r.status is not IngestStatus.REJECTED for r in results), results
        self.ledger.note(r.transaction for r in results if r.transaction is not None)

    def store(self, *bundles: Bundle) -> None:
        for bundle in bundles:
            self.ingest(reversed(bundle.transactions))

    def milestone(
        self, trunk: str, branch: str | None = None, index: int | None = None
    ) -> list[Transaction]:
        index = self.next_index if index is None else index
        self.next_index = max(self.next_index, index + 1)
        return build_milestone(self.keys, index, trunk=trunk, branch=branch or trunk)

    def issue(self, trunk: str, branch: str | None = None) -> list[Transaction]:
        milestone = self.milestone(trunk, branch)
        self.ingest(reversed(milestone))
        self.ledger.process()
        return milestone

    def balance(self, owner: str) -> int:
        address = self.builder.resolve(owner)
        with self.engine.read() as view:
            return ledger_snapshot(view, [address]).balances[0]

    def solid_index(self) -> int:
        return self.ledger.status().solid_index


@pytest.fixture(params=["memory", "lmdb"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KVEngine]:
    engine = open_engine(None if request.param == "memory" else tmp_path / "db")
    yield engine
    engine.close()


def test_fresh_node_has_an_empty_ledger_at_the_start_index(engine: KVEngine) -> None:
    node = Node(engine)
    status = node.ledger.status()
    assert (status.snapshot_index, status.solid_index, status.solid_hash) == (0, 0, NULL_HASH)
    assert node.balance("alice") == 0
    assert status.total == 0


def test_simple_transfer_is_confirmed(engine: KVEngine) -> None:
    node = Node(engine, {"alice": SUPPLY})
    pay = node.builder.transfer(
        "alice",
        "bob",
        60,
        remainder_to=node.builder.address("alice", 1),
        input_value=SUPPLY,
        store=False,
    )
    node.store(pay)
    assert node.balance("bob") == 0  # not confirmed yet
    node.issue(pay.tail_hash)
    assert node.solid_index() == 1
    assert node.balance("bob") == 60
    assert node.balance("alice") == 0
    assert node.balance(node.builder.address("alice", 1)) == SUPPLY - 60
    assert node.ledger.verify() == []
    with engine.read() as view:
        meta = view.get(schema.TX_META, schema.hash_key(pay.tail_hash))
        assert meta is not None and schema.TxMeta.decode(meta).snapshot_index == 1
        spent = view.get(schema.SPENT_ADDRESSES, schema.hash_key(node.builder.address("alice")))
        assert spent == b""


def test_nested_cones_and_history(engine: KVEngine) -> None:
    node = Node(engine, {"alice": SUPPLY})
    b = node.builder
    first = b.transfer(
        "alice", "bob", 100, remainder_to=b.address("alice", 1), input_value=SUPPLY, store=False
    )
    second = b.transfer(
        "bob", "carol", 100, trunk=first.tail_hash, branch=first.tail_hash, store=False
    )
    node.store(first, second)
    node.issue(second.tail_hash)  # confirms both: the cone of second holds first
    assert (node.balance("bob"), node.balance("carol")) == (0, 100)
    third = b.transfer(
        "carol", "dave", 40, remainder_to=b.address("carol", 1), input_value=100, store=False
    )
    node.store(third)
    node.issue(third.tail_hash)
    assert node.solid_index() == 2
    addresses = [b.resolve(o) for o in ("bob", "carol", "dave")] + [b.address("carol", 1)]
    with engine.read() as view:
        assert balances_at(view, addresses, 0).balances == (0, 0, 0, 0)
        assert balances_at(view, addresses, 1).balances == (0, 100, 0, 0)
        assert balances_at(view, addresses, 2).balances == (0, 0, 40, 60)
        assert balances_at(view, addresses, 2).hash == node.ledger.status().solid_hash
        with pytest.raises(
            HistoryRangeError, match="outside the range this node can answer: 0 to 2"
        ):
            balances_at(view, addresses, 3)


def test_double_spend_only_first_confirmed_counts(engine: KVEngine) -> None:
    node = Node(engine, {"alice": 100, "zed": SUPPLY - 100})
    b = node.builder
    to_bob = b.transfer("alice", "bob", 100, store=False)
    to_carol = b.transfer("alice", "carol", 100, store=False)
    node.store(to_bob, to_carol)
    node.issue(to_bob.tail_hash)
    assert node.balance("bob") == 100
    # A milestone that would also confirm the conflicting spend cannot be applied.
    node.issue(to_carol.tail_hash)
    assert node.solid_index() == 1
    assert node.balance("carol") == 0
    assert node.ledger.problem is not None and node.ledger.problem.reason == "negative_balance"
    assert (
        node.problems
        and "MILESTONE 2" in node.problems[0]
        and "CANNOT BE APPLIED" in node.problems[0]
    )


def test_both_spends_in_one_cone_fail_the_milestone(engine: KVEngine) -> None:
    node = Node(engine, {"alice": 100, "zed": SUPPLY - 100})
    b = node.builder
    to_bob = b.transfer("alice", "bob", 100, store=False)
    to_carol = b.transfer("alice", "carol", 100, store=False)
    node.store(to_bob, to_carol)
    node.issue(to_bob.tail_hash, to_carol.tail_hash)
    assert node.solid_index() == 0
    assert (node.balance("alice"), node.balance("bob"), node.balance("carol")) == (100, 0, 0)
    assert node.ledger.verify() == []


def test_reattachment_is_debited_once_when_one_attachment_is_confirmed(engine: KVEngine) -> None:
    node = Node(engine, {"alice": 100, "zed": SUPPLY - 100})
    b = node.builder
    pay = b.transfer("alice", "bob", 100, store=False)
    again = b.reattach(pay, store=False)
    node.store(pay, again)
    node.issue(again.tail_hash)
    assert node.balance("bob") == 100
    node.issue(pay.tail_hash)  # the other attachment now double-spends: not applied
    assert node.solid_index() == 1 and node.balance("bob") == 100


def test_invalid_bundle_in_cone_blocks_the_milestone(engine: KVEngine) -> None:
    node = Node(engine, {"alice": 100, "zed": SUPPLY - 100})
    forged = node.builder.invalid_bundle("alice", "bob", 100)
    bundle = Bundle(forged.transactions)
    node.store(bundle)
    node.issue(bundle.tail_hash)
    assert node.solid_index() == 0
    assert node.ledger.problem is not None and node.ledger.problem.reason == "invalid_bundle"
    assert node.balance("bob") == 0


def test_milestones_out_of_order_and_before_their_cone(engine: KVEngine) -> None:
    node = Node(engine, {"alice": SUPPLY})
    b = node.builder
    pay = b.transfer(
        "alice", "bob", 10, remainder_to=b.address("alice", 1), input_value=SUPPLY, store=False
    )
    first = node.milestone(pay.tail_hash, index=1)
    second = node.milestone(first[0].hash, index=2)
    node.ingest(reversed(second))  # milestone 2 first: recorded, not applied
    node.ledger.process()
    assert node.solid_index() == 0
    node.ingest(reversed(first))  # milestone 1 arrives, but its cone (pay) is missing
    node.ledger.process()
    assert node.solid_index() == 0
    node.store(pay)  # the cone completes: both apply, in order
    node.ledger.process()
    assert node.solid_index() == 2
    assert node.balance("bob") == 10


@pytest.mark.parametrize("forgery", ["key", "path", "index"])
def test_forged_milestones_are_not_applied(engine: KVEngine, forgery: str) -> None:
    node = Node(engine, {"alice": SUPPLY})
    b = node.builder
    pay = b.transfer(
        "alice", "bob", 10, remainder_to=b.address("alice", 1), input_value=SUPPLY, store=False
    )
    node.store(pay)
    if forgery == "key":
        forged = build_milestone(
            node.keys, 1, trunk=pay.tail_hash, branch=pay.tail_hash, key_index=3
        )
    elif forgery == "path":
        forged = build_milestone(
            node.keys, 1, trunk=pay.tail_hash, branch=pay.tail_hash, path_index=2
        )
    else:
        # Key and path of milestone 1, claiming index 2: the path leads elsewhere for index 2.
        forged = build_milestone(
            node.keys, 2, trunk=pay.tail_hash, branch=pay.tail_hash, key_index=1, path_index=1
        )
    node.ingest(reversed(forged))
    node.ledger.process()
    assert node.solid_index() == 0 and node.balance("bob") == 0
    node.issue(pay.tail_hash)  # the real one still works
    assert node.solid_index() == 1 and node.balance("bob") == 10


def test_history_equals_replay_at_every_milestone(engine: KVEngine) -> None:
    rng = random.Random(11)
    people = ["p0", "p1", "p2", "p3"]
    node = Node(engine, {"p0": SUPPLY})
    b = node.builder
    holdings = {b.resolve("p0"): SUPPLY}
    key_index = {name: 0 for name in people}
    owner_of = {b.resolve("p0"): ("p0", 0)}
    snapshots: list[dict[str, int]] = [dict(holdings)]
    tip = NULL_HASH
    for _ in range(6):
        source = rng.choice([a for a, v in holdings.items() if v > 0])
        name, index = owner_of[source]
        target = rng.choice(people)
        key_index[name] += 1
        remainder = b.address(name, key_index[name])
        owner_of[remainder] = (name, key_index[name])
        value = rng.randint(1, holdings[source])
        dest = b.address(target, 50 + len(snapshots))
        owner_of[dest] = (target, 50 + len(snapshots))
        pay = b.transfer(
            name,
            dest,
            value,
            index=index,
            remainder_to=remainder,
            input_value=holdings[source],
            trunk=tip,
            branch=tip,
            store=False,
        )
        node.store(pay)
        milestone = node.issue(pay.tail_hash)
        tip = milestone[0].hash
        spent, holdings[source] = holdings[source], 0
        holdings[dest] = holdings.get(dest, 0) + value
        holdings[remainder] = holdings.get(remainder, 0) + spent - value
        snapshots.append({a: v for a, v in holdings.items() if v})
    assert node.solid_index() == 6
    every = sorted({a for s in snapshots for a in s})
    with engine.read() as view:
        for index, expected in enumerate(snapshots):
            got = balances_at(view, every, index).balances
            assert dict(zip(every, got, strict=True)) == {a: expected.get(a, 0) for a in every}
    assert sum(snapshots[-1].values()) == SUPPLY
    assert node.ledger.verify() == []


def test_rollback_then_reapply(engine: KVEngine) -> None:
    node = Node(engine, {"alice": SUPPLY})
    b = node.builder
    pay = b.transfer(
        "alice", "bob", 7, remainder_to=b.address("alice", 1), input_value=SUPPLY, store=False
    )
    node.store(pay)
    node.issue(pay.tail_hash)
    assert node.balance("bob") == 7
    node.ledger.rollback_to(0)
    assert node.solid_index() == 0 and node.balance("bob") == 0
    assert node.balance("alice") == SUPPLY
    assert node.ledger.verify() == []
    node.ledger.process()  # milestone 1 is still recorded and solid: it applies again
    assert node.solid_index() == 1 and node.balance("bob") == 7
    assert node.ledger.verify() == []


def test_a_different_snapshot_is_refused(engine: KVEngine) -> None:
    node = Node(engine)
    other = SnapshotState(
        balances={},
        index=5,
        hash=NULL_HASH,
        timestamp=0,
        solid_entry_points={NULL_HASH: 5},
        seen_milestones={},
    )
    with pytest.raises(LedgerError, match="started from the snapshot at milestone 0, not 5"):
        initialize(node.tangle, node.coordinator, other)


def test_export_round_trips_through_both_snapshot_formats(engine: KVEngine, tmp_path: Path) -> None:
    from pyri.consensus.ledger import current_state
    from pyri.consensus.snapshot_files import (
        read_global_snapshot,
        read_local_snapshot,
        write_global_snapshot,
        write_local_snapshot,
    )

    node = Node(engine, {"alice": SUPPLY})
    b = node.builder
    pay = b.transfer(
        "alice", "bob", 9, remainder_to=b.address("alice", 1), input_value=SUPPLY, store=False
    )
    node.store(pay)
    milestone = node.issue(pay.tail_hash)
    with engine.read() as view:
        state = current_state(view)
    assert (state.index, state.hash) == (1, milestone[0].hash)
    assert dict(state.balances) == {b.resolve("bob"): 9, b.address("alice", 1): SUPPLY - 9}
    write_global_snapshot(state, tmp_path / "export.txt")
    again = read_global_snapshot(tmp_path / "export.txt", index=1, timestamp=state.timestamp)
    assert dict(again.balances) == dict(state.balances)
    write_local_snapshot(state, tmp_path / "local")
    local = read_local_snapshot(tmp_path / "local")
    assert (local.index, local.hash, local.timestamp) == (state.index, state.hash, state.timestamp)
    assert dict(local.balances) == dict(state.balances)
    assert dict(local.solid_entry_points) == dict(state.solid_entry_points)
    # A node started from the exported state answers the same balances.
    fresh = open_engine(None)
    tangle = Tangle(fresh, TangleConfig(mwm=0))
    initialize(tangle, node.coordinator, local)
    with fresh.read() as view:
        snapshot = ledger_snapshot(view, [b.resolve("bob"), b.address("alice", 1)])
    assert snapshot.balances == (9, SUPPLY - 9) and snapshot.index == 1
