"""The Tangle: atomic ingest batches, solidity in any arrival order, tips, missing, indexes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from pyri.consensus.tangle import IngestStatus, Tangle, TangleConfig
from pyri.model.transaction import Transaction, parse_batch
from pyri.storage import open_engine
from pyri.storage.engine import KVEngine
from pyri.trinary import NULL_HASH
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
