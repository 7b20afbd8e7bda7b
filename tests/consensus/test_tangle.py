"""The Tangle: atomic ingest batches, solidity in any arrival order, tips, missing, indexes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from pyri.consensus.ledger_view import TipsNotConsistent, tails_consistent, tips_diff
from pyri.consensus.tangle import IngestStatus, StoreReader, Tangle, TangleConfig, TransactionCache
from pyri.consensus.view import MemoReader, TangleReader
from pyri.model.transaction import Transaction, parse_batch
from pyri.storage import open_engine, schema
from pyri.storage.engine import KVEngine
from pyri.trinary import NULL_HASH
from tests.consensus.tangle_builder import TangleBuilder, address_of
from tests.consensus.txgen import TIMESTAMP, transaction_trytes


@pytest.fixture(params=["memory", "lmdb"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KVEngine]:
    engine = open_engine(None if request.param == "memory" else tmp_path / "db")
    yield engine
    engine.close()


def _dag(count: int, seed: int) -> list[Transaction]:
    """``count`` transactions, each approving two random earlier ones (or the null hash)."""
    rng = random.Random(seed)
    made: list[Transaction] = []
    for _ in range(count):
        trunk = rng.choice(made).hash if made and rng.random() < 0.9 else NULL_HASH
        branch = rng.choice(made).hash if made and rng.random() < 0.9 else NULL_HASH
        (tx,) = parse_batch([transaction_trytes(trunk, branch, rng=rng)])
        assert isinstance(tx, Transaction)
        made.append(tx)
    return made


def _expected(stored: dict[str, Transaction]) -> tuple[set[str], set[str], set[str]]:
    """(solid, tips, missing) recomputed from scratch."""

    @cache
    def solid(tx_hash: str) -> bool:
        if tx_hash == NULL_HASH:
            return True
        tx = stored.get(tx_hash)
        return tx is not None and solid(tx.trunk_transaction) and solid(tx.branch_transaction)

    approved = {h for tx in stored.values() for h in (tx.trunk_transaction, tx.branch_transaction)}
    tips = {h for h in stored if h not in approved}
    missing = {h for h in approved if h != NULL_HASH and h not in stored}
    return {h for h in stored if solid(h)}, tips, missing


def _check(tangle: Tangle, stored: dict[str, Transaction]) -> None:
    solid, tips, missing = _expected(stored)
    with tangle.read() as reader:
        assert {h for h in stored if reader.is_solid(h)} == solid
        assert set(reader.tips()) == tips
        assert set(reader.missing()) == missing
        assert reader.count_transactions() == len(stored)


@pytest.mark.parametrize("order", ["in order", "reverse", "random"])
def test_solidity_in_any_arrival_order(engine: KVEngine, order: str) -> None:
    transactions = _dag(120, seed=1)
    if order == "reverse":
        transactions.reverse()
    elif order == "random":
        random.Random(2).shuffle(transactions)
    tangle = Tangle(engine, TangleConfig(mwm=0))
    stored: dict[str, Transaction] = {}
    for start in range(0, len(transactions), 17):  # uneven batches, checked after each
        batch = transactions[start : start + 17]
        results = tangle.ingest([tx.trytes for tx in batch])
        assert [r.status for r in results] == [IngestStatus.ACCEPTED] * len(batch)
        stored.update((tx.hash, tx) for tx in batch)
        _check(tangle, stored)
    with tangle.read() as reader:
        assert all(reader.is_solid(tx.hash) for tx in transactions)
        assert reader.missing() == []


@pytest.mark.parametrize("order", ["in order", "reverse", "random"])
def test_each_tail_is_reported_once_in_the_batch_that_makes_it_solid(
    engine: KVEngine, order: str
) -> None:
    rng = random.Random(12)
    made: list[Transaction] = []
    for k in range(80):  # every third one a tail, the others not (solidity ignores bundles)
        trunk = rng.choice(made).hash if made and rng.random() < 0.9 else NULL_HASH
        branch = rng.choice(made).hash if made and rng.random() < 0.9 else NULL_HASH
        trytes = transaction_trytes(trunk, branch, rng=rng, current_index=0 if k % 3 == 0 else 1)
        (tx,) = parse_batch([trytes])
        assert isinstance(tx, Transaction)
        made.append(tx)
    if order == "reverse":
        made.reverse()
    elif order == "random":
        rng.shuffle(made)
    tangle = Tangle(engine, TangleConfig(mwm=0))
    stored: dict[str, Transaction] = {}
    reported: list[str] = []
    for start in range(0, len(made), 13):
        batch = made[start : start + 13]
        tangle.ingest([tx.trytes for tx in batch], on_solid_tails=reported.extend)
        stored.update((tx.hash, tx) for tx in batch)
        solid, _, _ = _expected(stored)
        tails = {h for h in solid if stored[h].current_index == 0}
        # Exactly the tails solid now, each once, in the batch that made it so.
        assert sorted(reported) == sorted(tails)
    assert len(reported) == 27  # every tail: the whole DAG is solid in the end


def test_one_transaction_at_a_time_in_reverse(engine: KVEngine) -> None:
    transactions = _dag(30, seed=3)
    tangle = Tangle(engine, TangleConfig(mwm=0))
    stored: dict[str, Transaction] = {}
    for tx in reversed(transactions):
        tangle.ingest([tx.trytes])
        stored[tx.hash] = tx
        _check(tangle, stored)


def test_known_and_duplicate_transactions(engine: KVEngine) -> None:
    first, second = _dag(2, seed=4)
    tangle = Tangle(engine, TangleConfig(mwm=0))
    results = tangle.ingest([first.trytes, first.trytes, second.trytes])
    assert [r.status for r in results] == [
        IngestStatus.ACCEPTED,
        IngestStatus.KNOWN,
        IngestStatus.ACCEPTED,
    ]
    again = tangle.ingest([second.trytes])
    assert again[0].status is IngestStatus.KNOWN and again[0].hash == second.hash
    with tangle.read() as reader:
        assert reader.count_transactions() == 2


def test_rejections_carry_reasons(engine: KVEngine) -> None:
    rng = random.Random(5)
    tangle = Tangle(engine, TangleConfig(mwm=1, snapshot_timestamp_s=TIMESTAMP), clock=lambda: 2e9)
    old = transaction_trytes(rng=rng, timestamp=TIMESTAMP - 1)
    high_value = transaction_trytes(rng=rng)
    high_value = high_value[:2280] + "A" + high_value[2281:]  # a value trit above trit 33
    bad = ["", "A" * 2673 + "B", 42, "a" * 2673, old, high_value]
    results = tangle.ingest(bad)
    codes = [r.code for r in results]
    assert codes[:4] == ["invalid_trytes"] * 4
    assert results[0].message == "trytes[0] must be 2673 trytes long, got 0: ''"
    assert results[2].message == "trytes[2] must be a string of trytes, not int"
    assert codes[4] == "invalid_timestamp"
    assert results[4].message == "Invalid transaction timestamp."
    # Either the value rule or, without proof of work, the weight rule rejects it first.
    assert codes[5] in ("invalid_value", "insufficient_weight")
    assert all(r.status is IngestStatus.REJECTED for r in results)
    with tangle.read() as reader:
        assert reader.count_transactions() == 0


def test_value_transaction_needs_address_trit_242_zero(engine: KVEngine) -> None:
    rng = random.Random(6)
    # "M" ends in trit +1, so this address's trit 242 is 1.
    tx = transaction_trytes(rng=rng, address="A" * 80 + "M", value=5)
    (result,) = Tangle(engine, TangleConfig(mwm=0)).ingest([tx])
    assert (result.status, result.code) == (IngestStatus.REJECTED, "invalid_address")
    assert result.message == "Invalid transaction address"


def test_weight_magnitude_is_enforced(engine: KVEngine) -> None:
    transactions = _dag(40, seed=7)
    tangle = Tangle(engine, TangleConfig(mwm=2))
    results = tangle.ingest([tx.trytes for tx in transactions])
    for tx, result in zip(transactions, results, strict=True):
        if tx.weight_magnitude >= 2:
            assert result.status is IngestStatus.ACCEPTED
        else:
            assert (result.status, result.code) == (IngestStatus.REJECTED, "insufficient_weight")


def test_tag_entries_of_a_version_2_database_are_still_found(engine: KVEngine) -> None:
    rng = random.Random(9)
    tag = "OLD" + "9" * 24
    trytes = [transaction_trytes(rng=rng, tag=tag) for _ in range(3)]
    hashes = [tx.hash for tx in parse_batch(trytes) if isinstance(tx, Transaction)]
    tangle = Tangle(engine, TangleConfig(mwm=0), clock=lambda: 1_700_000_000.5)
    tangle.ingest(trytes[:2])
    # Rewrite the first two as a version 2 database held them: tag || tx hash.
    tag_key = schema.tag_key(tag)
    with engine.write() as batch:
        for tx_hash in hashes[:2]:
            key = schema.hash_key(tx_hash)
            batch.delete(schema.TAG_INDEX, schema.tag_index_key(tag_key, 1_700_000_000_500, key))
            batch.put(schema.TAG_INDEX, tag_key + key, b"")
    tangle.ingest(trytes[2:])  # stored with the arrival second, next to the old ones
    with tangle.read() as reader:
        assert sorted(reader.find_by_tag(tag)) == sorted(hashes)
    with engine.read() as view:
        lengths = sorted(len(key) for key, _ in view.iterate(schema.TAG_INDEX, prefix=tag_key))
    assert lengths == [66, 66, 70]


def test_indexes(engine: KVEngine) -> None:
    rng = random.Random(8)
    address = "PYRI" * 20 + "9"
    bundle = "B" * 81
    tag = "FOO" + "9" * 24
    trytes = [
        transaction_trytes(rng=rng, address=address, bundle=bundle, tag=tag),
        transaction_trytes(rng=rng, address=address),
    ]
    parsed = [tx for tx in parse_batch(trytes) if isinstance(tx, Transaction)]
    tangle = Tangle(engine, TangleConfig(mwm=0))
    tangle.ingest(trytes)
    with tangle.read() as reader:
        assert set(reader.find_by_address(address)) == {tx.hash for tx in parsed}
        assert reader.find_by_bundle(bundle) == [parsed[0].hash]
        assert reader.find_by_tag(tag) == [parsed[0].hash]
        assert set(reader.find_by_obsolete_tag("9" * 27)) == {tx.hash for tx in parsed}
        assert set(reader.approvers(NULL_HASH)) == {tx.hash for tx in parsed}
        assert reader.trytes([parsed[1].hash, "9" * 80 + "A"]) == [trytes[1], None]
        stored = reader.transaction(parsed[0].hash)
        assert stored == parsed[0] and stored is not None
        assert stored.hash == parsed[0].hash and stored.value == parsed[0].value


def test_a_failed_write_leaves_nothing(engine: KVEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    transactions = _dag(10, seed=9)
    tangle = Tangle(engine, TangleConfig(mwm=0))
    tangle.ingest([tx.trytes for tx in transactions[:5]])
    real_write = engine.write

    class Boom(Exception):
        pass

    def failing_write():  # type: ignore[no-untyped-def]
        batch = real_write()

        class Failing:
            def __enter__(self):  # type: ignore[no-untyped-def]
                inner = batch.__enter__()
                calls = {"n": 0}
                original = inner.put_many

                def put_many(bucket, items):  # type: ignore[no-untyped-def]
                    calls["n"] += 1
                    original(bucket, items)
                    if calls["n"] == 3:
                        raise Boom

                inner.put_many = put_many
                return inner

            def __exit__(self, *args):  # type: ignore[no-untyped-def]
                return batch.__exit__(*args)

        return Failing()

    monkeypatch.setattr(engine, "write", failing_write)
    with pytest.raises(Boom):
        tangle.ingest([tx.trytes for tx in transactions[5:]])
    monkeypatch.setattr(engine, "write", real_write)
    _check(tangle, {tx.hash: tx for tx in transactions[:5]})
    tangle.ingest([tx.trytes for tx in transactions[5:]])
    _check(tangle, {tx.hash: tx for tx in transactions})


# --- the store as a TangleReader: links, snapshot indexes, the cone read ahead --------------------

ABSENT = "ABSENT" + "9" * 75
BOB, DAVE = address_of("bob"), address_of("dave")


def _transfers() -> tuple[TangleBuilder, list[list[str]]]:
    """Value bundles on top of each other, a second tail sharing a bundle's other transactions,
    a transaction approving one that is not stored (marked solid, so that walks go past it)."""
    tangle = TangleBuilder()
    tangle.genesis({"alice": 100, "carol": 50})
    pay = tangle.transfer("alice", BOB, 60, remainder_to=address_of("alice", 1))
    spend = tangle.transfer("bob", DAVE, 60, trunk=pay.tail_hash)
    again = tangle.reattach_tail(pay)
    dangling = tangle.message("DANGLING", trunk=ABSENT, branch=again.tail_hash)
    tangle.reader.set_solid(dangling.tail_hash)
    top = tangle.message("TOP", trunk=dangling.tail_hash, branch=spend.tail_hash)
    return tangle, [
        [spend.tail_hash],
        [spend.tail_hash, pay.tail_hash, dangling.tail_hash],
        [top.tail_hash],  # counts pay twice: negative
        [pay.head.hash],  # not a tail
        [spend.tail_hash, ABSENT],
        [NULL_HASH],
    ]


def _confirmed() -> tuple[TangleBuilder, list[list[str]]]:
    """A cone reaching confirmed tails, and an unconfirmed tail whose bundle's other
    transactions are confirmed (the walk passes through them)."""
    tangle = TangleBuilder()
    tangle.genesis({"alice": 100, "carol": 50})
    pay = tangle.transfer("alice", BOB, 60, remainder_to=address_of("alice", 1))
    tangle.issue_milestone([pay.tail_hash])
    milestone = tangle.milestones[tangle.latest_index]
    later = tangle.transfer("carol", DAVE, 50, trunk=milestone.tail_hash, branch=pay.tail_hash)
    top = tangle.message("TOP", trunk=later.tail_hash, branch=milestone.tail_hash)
    again = tangle.reattach_tail(pay)
    return tangle, [
        [top.tail_hash],
        [later.tail_hash, pay.tail_hash, milestone.tail_hash],
        [again.tail_hash],  # pay counted again: negative
    ]


def _inconsistent() -> tuple[TangleBuilder, list[list[str]]]:
    """A double spend across tips, an overdraft, an invalid bundle, an unsolid tip."""
    tangle = TangleBuilder()
    tangle.genesis({"alice": 100, "carol": 50})
    to_bob = tangle.transfer("alice", BOB, 100)
    to_dave = tangle.transfer("alice", DAVE, 100)
    greedy = tangle.transfer("carol", BOB, 80)
    bad = tangle.invalid_bundle("carol", DAVE, 10, trunk=to_bob.tail_hash)
    over_bad = tangle.message("TIP", trunk=bad.tail_hash)
    unsolid = tangle.message("UNSOLID", trunk=ABSENT)
    return tangle, [
        [to_bob.tail_hash, to_dave.tail_hash],
        [greedy.tail_hash],
        [over_bad.tail_hash],
        [unsolid.tail_hash],
    ]


def _entry_points(count: int) -> tuple[TangleBuilder, list[list[str]]]:
    """A cone with a stored solid entry point in it (the walk neither counts nor passes it),
    among ``count`` stored entry points: few are read into a set, many are looked up."""
    tangle = TangleBuilder()
    tangle.genesis({"alice": 100, "carol": 50})
    old = tangle.transfer("alice", BOB, 60, remainder_to=address_of("alice", 1))
    pay = tangle.transfer("carol", DAVE, 50, trunk=old.tail_hash)
    top = tangle.message("TOP", trunk=pay.tail_hash, branch=old.tail_hash)
    others = {
        f"{n:09d}".translate(str.maketrans("0123456789", "ABCDEFGHIJ")).ljust(81, "9"): 1
        for n in range(count)
    }
    tangle.reader.add_solid_entry_points({old.tail_hash: 1, **others})
    return tangle, [[top.tail_hash], [old.tail_hash, pay.tail_hash]]


SCENARIOS = {
    "transfers": _transfers,
    "confirmed": _confirmed,
    "inconsistent": _inconsistent,
    "few entry points": lambda: _entry_points(3),
    "many entry points": lambda: _entry_points(300),
}


def _walks(reader: TangleReader, tangle: TangleBuilder, tips: list[str]) -> tuple[object, ...]:
    latest, balances = tangle.latest_index, tangle.balances
    return (
        tips_diff(reader, tips, latest_index=latest, balances=balances),
        tails_consistent(reader, tips, latest_index=latest, balances=balances),
    )


def _check_store_walks(tangle: TangleBuilder, tip_sets: list[list[str]]) -> None:
    """Every walk over the store, plain and with the cone read ahead (whole, or cut short so
    the walk reads the rest itself), answers as over the dictionaries."""
    engine = open_engine(None)
    tangle.reader.write_to(engine)
    with engine.read() as view:
        for tips in tip_sets:
            expected = _walks(tangle.reader, tangle, tips)
            assert _walks(MemoReader(StoreReader(view, TangleConfig())), tangle, tips) == expected
            for limit in (1, 3, 100_000):
                store = StoreReader(view, TangleConfig())
                reader = MemoReader(store)
                reader.preload(store.read_cone(tips, tangle.latest_index, limit=limit))
                assert _walks(reader, tangle, tips) == expected, (tips, limit)


@pytest.mark.parametrize("name", SCENARIOS)
def test_walks_over_the_store_answer_as_over_dictionaries(name: str) -> None:
    tangle, tip_sets = SCENARIOS[name]()
    _check_store_walks(tangle, tip_sets)


def test_walks_over_cached_verdicts_and_a_pruned_bundle() -> None:
    tangle, tip_sets = _transfers()
    for tips in tip_sets:
        walk = tips_diff(tangle.reader, tips, latest_index=0, balances=tangle.balances)
        tangle.reader.cache_verdicts(walk.verdicts_to_cache)
    assert tangle.reader.verdicts
    _check_store_walks(tangle, tip_sets)
    # A transaction of a bundle with a cached VALID verdict is gone: INCOMPLETE either way.
    stored = tangle.reader.transactions
    tail = next(h for h, v in tangle.reader.verdicts.items() if v.valid and stored[h].last_index)
    tangle.reader.remove(stored[tail].trunk_transaction)
    walk = tips_diff(tangle.reader, tip_sets[1], latest_index=0, balances=tangle.balances)
    assert isinstance(walk, TipsNotConsistent) and walk.failure is not None
    assert walk.failure.verdict is not None and walk.failure.verdict.reason == "incomplete"
    _check_store_walks(tangle, tip_sets)


def test_links_and_snapshot_indexes_agree_on_every_reader() -> None:
    tangle, _ = _confirmed()
    hashes = [*tangle.reader.transactions, ABSENT, NULL_HASH]
    engine = open_engine(None)
    tangle.reader.write_to(engine)
    cache = TransactionCache()
    with engine.read() as view:
        plain = StoreReader(view, TangleConfig())
        cached = StoreReader(view, TangleConfig(), cache)
        for tx_hash in tangle.reader.transactions:
            cached.transaction(tx_hash)  # fills the cache: links come from the parsed ones
        memo = MemoReader(plain)
        read_first = MemoReader(plain)
        for tx_hash in hashes:
            read_first.transaction(tx_hash)
        for reader in (plain, cached, memo, read_first):
            for tx_hash in hashes:
                assert reader.links(tx_hash) == tangle.reader.links(tx_hash), tx_hash
                index = tangle.reader.snapshot_index(tx_hash)
                assert reader.snapshot_index(tx_hash) == index, tx_hash
        assert {tangle.reader.snapshot_index(h) for h in tangle.reader.transactions} == {0, 1}


@pytest.mark.parametrize("count", [0, 3, 300])
def test_solid_entry_points_one_by_one_and_together(count: int) -> None:
    tangle, _ = _entry_points(count)
    engine = open_engine(None)
    tangle.reader.write_to(engine)
    hashes = [*tangle.reader.transactions, *list(tangle.reader.solid_entry_points)[:5], ABSENT]
    expected = {h: tangle.reader.is_solid_entry_point(h) for h in hashes}
    assert sum(expected.values()) >= 2  # the null hash and the stored tail at least
    with engine.read() as view:
        reader = StoreReader(view, TangleConfig())
        assert {h: reader.is_solid_entry_point(h) for h in hashes} == expected
        assert StoreReader(view, TangleConfig()).solid_entry_points_among(hashes) == expected
