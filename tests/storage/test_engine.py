"""The KVEngine contract, checked against the memory and the LMDB engine alike."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyri.storage import KVEngine, MemoryEngine, StorageError
from pyri.storage.engine import prefix_successor

from .conftest import EngineFactory


def fill(engine: KVEngine, bucket: str, items: dict[bytes, bytes]) -> None:
    with engine.write() as batch:
        for key, value in items.items():
            batch.put(bucket, key, value)


def test_committed_batch_is_visible_to_later_views(engine: KVEngine) -> None:
    fill(engine, "alpha", {b"k1": b"v1", b"k2": b"v2"})
    with engine.read() as view:
        assert view.get("alpha", b"k1") == b"v1"
        assert view.get("alpha", b"k2") == b"v2"
        assert view.get("alpha", b"k3") is None
        assert view.get("beta", b"k1") is None  # buckets are separate key spaces
        assert view.count("alpha") == 2
        assert view.count("beta") == 0


def test_put_overwrites_and_delete_removes(engine: KVEngine) -> None:
    fill(engine, "alpha", {b"k": b"old", b"gone": b"x"})
    with engine.write() as batch:
        batch.put("alpha", b"k", b"new")
        batch.delete("alpha", b"gone")
        batch.delete("alpha", b"never-there")
    with engine.read() as view:
        assert view.get("alpha", b"k") == b"new"
        assert view.get("alpha", b"gone") is None
        assert list(view.iterate("alpha")) == [(b"k", b"new")]


def test_exception_inside_batch_leaves_nothing(engine: KVEngine) -> None:
    fill(engine, "alpha", {b"kept": b"1"})
    with pytest.raises(RuntimeError), engine.write() as batch:
        batch.put("alpha", b"a", b"1")
        batch.put("beta", b"b", b"2")
        batch.delete("alpha", b"kept")
        raise RuntimeError("abandon the batch")
    with engine.read() as view:
        assert dict(view.iterate("alpha")) == {b"kept": b"1"}
        assert view.count("beta") == 0
    fill(engine, "alpha", {b"after": b"2"})  # the engine stays usable
    with engine.read() as view:
        assert view.get("alpha", b"after") == b"2"


def test_storage_error_inside_batch_discards_earlier_puts(engine: KVEngine) -> None:
    with pytest.raises(StorageError), engine.write() as batch:
        batch.put("alpha", b"a", b"1")
        batch.put("alpha", b"", b"empty keys are refused")
    with engine.read() as view:
        assert view.get("alpha", b"a") is None


def test_batch_get_sees_its_own_writes(engine: KVEngine) -> None:
    fill(engine, "alpha", {b"a": b"1", b"b": b"2"})
    with engine.write() as batch:
        batch.put("alpha", b"a", b"10")
        batch.delete("alpha", b"b")
        batch.put("alpha", b"c", b"3")
        assert batch.get("alpha", b"a") == b"10"
        assert batch.get("alpha", b"b") is None
        assert batch.get("alpha", b"c") == b"3"
        with engine.read() as view:  # readers see none of it before the commit
            assert view.get("alpha", b"a") == b"1"
            assert view.get("alpha", b"c") is None


def test_view_opened_before_a_commit_does_not_see_it(engine: KVEngine) -> None:
    fill(engine, "alpha", {b"a": b"1", b"b": b"2"})
    early = engine.read()
    with engine.write() as batch:
        batch.put("alpha", b"a", b"changed")
        batch.delete("alpha", b"b")
        batch.put("alpha", b"c", b"3")
        batch.put("beta", b"x", b"y")
    late = engine.read()
    try:
        assert early.get("alpha", b"a") == b"1"
        assert early.get("alpha", b"b") == b"2"
        assert list(early.iterate("alpha")) == [(b"a", b"1"), (b"b", b"2")]
        assert early.count("beta") == 0
        assert list(late.iterate("alpha")) == [(b"a", b"changed"), (b"c", b"3")]
        assert late.count("beta") == 1
    finally:
        early.close()
        late.close()


def test_iteration_continues_over_its_snapshot_across_commits(engine: KVEngine) -> None:
    fill(engine, "alpha", {bytes([i]): bytes([i]) for i in range(1, 11)})
    with engine.read() as view:
        walk = view.iterate("alpha")
        first = [next(walk) for _ in range(3)]
        with engine.write() as batch:
            for i in range(1, 11):
                batch.delete("alpha", bytes([i]))
            batch.put("alpha", b"\x05\x00", b"inserted")
        rest = list(walk)
    assert [key for key, _ in first + rest] == [bytes([i]) for i in range(1, 11)]


def test_iterate_yields_the_prefix_range_in_key_order(engine: KVEngine) -> None:
    keys = [b"a", b"ab", b"ab\x00", b"ab\xff", b"abc", b"ac", b"b", b"\xff", b"\xff\xff\x01"]
    fill(engine, "alpha", {key: key.upper() for key in reversed(keys)})
    with engine.read() as view:
        assert [k for k, _ in view.iterate("alpha")] == sorted(keys)
        assert [k for k, _ in view.iterate("alpha", prefix=b"ab")] == [
            b"ab",
            b"ab\x00",
            b"abc",
            b"ab\xff",
        ]
        assert [k for k, _ in view.iterate("alpha", prefix=b"ab", reverse=True)] == [
            b"ab\xff",
            b"abc",
            b"ab\x00",
            b"ab",
        ]
        assert [k for k, _ in view.iterate("alpha", prefix=b"\xff")] == [b"\xff", b"\xff\xff\x01"]
        assert [k for k, _ in view.iterate("alpha", prefix=b"\xff", reverse=True)] == [
            b"\xff\xff\x01",
            b"\xff",
        ]
        assert list(view.iterate("alpha", prefix=b"zz")) == []
        assert dict(view.iterate("alpha", prefix=b"ac")) == {b"ac": b"AC"}


def test_start_bounds_the_walk_inclusively(engine: KVEngine) -> None:
    fill(engine, "alpha", {key: b"" for key in (b"p1", b"p3", b"p5", b"q1")})
    with engine.read() as view:

        def keys(**kwargs: object) -> list[bytes]:
            return [k for k, _ in view.iterate("alpha", **kwargs)]  # type: ignore[arg-type]

        assert keys(prefix=b"p", start=b"p3") == [b"p3", b"p5"]
        assert keys(prefix=b"p", start=b"p4") == [b"p5"]
        assert keys(prefix=b"p", start=b"a") == [b"p1", b"p3", b"p5"]
        assert keys(prefix=b"p", start=b"z") == []
        assert keys(prefix=b"p", start=b"p3", reverse=True) == [b"p3", b"p1"]
        assert keys(prefix=b"p", start=b"p4", reverse=True) == [b"p3", b"p1"]
        assert keys(prefix=b"p", start=b"z", reverse=True) == [b"p5", b"p3", b"p1"]
        assert keys(prefix=b"p", start=b"a", reverse=True) == []
        assert keys(prefix=b"p", start=b"p0", reverse=True) == []
        assert keys(start=b"p4") == [b"p5", b"q1"]
        assert keys(start=b"p4", reverse=True) == [b"p3", b"p1"]


def test_last_key_at_or_below_a_bound(engine: KVEngine) -> None:
    """The balance-history read: the last entry <= (address, m) among the address's keys."""
    history = {b"A" + bytes([m]): bytes([m * 10]) for m in (3, 7, 9)}
    history[b"B" + bytes([1])] = b"other address"
    fill(engine, "alpha", history)
    with engine.read() as view:

        def at(address: bytes, milestone: int) -> bytes | None:
            bound = address + bytes([milestone])
            found = next(view.iterate("alpha", prefix=address, start=bound, reverse=True), None)
            return None if found is None else found[1]

        assert at(b"A", 2) is None
        assert at(b"A", 3) == bytes([30])
        assert at(b"A", 6) == bytes([30])
        assert at(b"A", 7) == bytes([70])
        assert at(b"A", 200) == bytes([90])
        assert at(b"B", 0) is None
        assert at(b"C", 5) is None


small_keys = st.binary(min_size=1, max_size=4).map(
    lambda raw: bytes(b"\x00\x01\x7f\xff"[byte % 4] for byte in raw)
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    keys=st.sets(small_keys, max_size=30),
    prefix=st.binary(max_size=2).map(lambda raw: bytes(b"\x00\x01\x7f\xff"[b % 4] for b in raw)),
    start=st.none() | small_keys,
    reverse=st.booleans(),
)
def test_iterate_matches_a_sorted_model(
    make_engine: EngineFactory,
    keys: set[bytes],
    prefix: bytes,
    start: bytes | None,
    reverse: bool,
) -> None:
    engine = make_engine()
    fill(engine, "alpha", {key: key[::-1] for key in keys})
    expected = sorted(key for key in keys if key.startswith(prefix))
    if reverse:
        expected = [k for k in reversed(expected) if start is None or k <= start]
    else:
        expected = [k for k in expected if start is None or k >= start]
    with engine.read() as view:
        got = list(view.iterate("alpha", prefix=prefix, start=start, reverse=reverse))
    assert got == [(key, key[::-1]) for key in expected]
    engine.close()


def test_misuse_raises_storage_error(engine: KVEngine) -> None:
    with engine.read() as view:
        with pytest.raises(StorageError, match="unknown bucket"):
            view.get("gamma", b"k")
        with pytest.raises(StorageError):
            view.get("alpha", b"")
        assert view.get("alpha", b"k" * 512) is None  # too long to exist
    with pytest.raises(StorageError):
        view.get("alpha", b"k")
    with pytest.raises(StorageError):
        view.iterate("alpha")
    with engine.write() as batch:
        with pytest.raises(StorageError, match="unknown bucket"):
            batch.put("gamma", b"k", b"v")
        with pytest.raises(StorageError):
            batch.put("alpha", b"k" * 512, b"v")
        with pytest.raises(StorageError):
            batch.put("alpha", b"k", bytearray(b"v"))  # type: ignore[arg-type]
        batch.put("alpha", b"ok", b"v")  # refused puts do not break the batch
    with pytest.raises(StorageError):
        batch.put("alpha", b"k", b"v")
    with engine.read() as view:
        assert list(view.iterate("alpha")) == [(b"ok", b"v")]


def test_iterator_outliving_its_view_raises(engine: KVEngine) -> None:
    fill(engine, "alpha", {b"a": b"1", b"b": b"2"})
    view = engine.read()
    walk = view.iterate("alpha")
    assert next(walk) == (b"a", b"1")
    view.close()
    view.close()  # idempotent
    with pytest.raises(StorageError):
        next(walk)


def test_nested_batch_in_one_thread_is_refused(engine: KVEngine) -> None:
    with engine.write() as batch:
        batch.put("alpha", b"outer", b"1")
        with pytest.raises(StorageError, match="nest"), engine.write():
            pass
    with engine.read() as view:
        assert view.get("alpha", b"outer") == b"1"
    with pytest.raises(StorageError):
        batch.__enter__()  # a batch is entered once


def test_batches_of_two_threads_are_serialised(engine: KVEngine) -> None:
    order: list[str] = []

    def other() -> None:
        with engine.write() as batch:
            order.append("other")
            batch.put("alpha", b"k", b"other")

    with engine.write() as batch:
        worker = threading.Thread(target=other)
        worker.start()
        time.sleep(0.05)  # the other thread is now waiting for this batch
        order.append("main")
        batch.put("alpha", b"k", b"main")
    worker.join(5)
    assert order == ["main", "other"]
    with engine.read() as view:
        assert view.get("alpha", b"k") == b"other"


def test_closed_engine_refuses_work(engine: KVEngine) -> None:
    engine.close()
    engine.close()
    with pytest.raises(StorageError):
        engine.read()
    with pytest.raises(StorageError), engine.write():
        pass


def test_views_of_a_closed_engine_raise(engine: KVEngine) -> None:
    fill(engine, "alpha", {b"a": b"1"})
    view = engine.read()
    engine.close()
    with pytest.raises(StorageError):
        view.get("alpha", b"a")
    with pytest.raises(StorageError):
        view.count("alpha")
    with pytest.raises(StorageError):
        list(view.iterate("alpha"))
    view.close()


def test_bucket_names_are_checked(make_engine: EngineFactory) -> None:
    assert make_engine().buckets == ("alpha", "beta")
    for bad in (("a", "a"), ("",), ("ü",)):
        with pytest.raises(StorageError):
            MemoryEngine(bad)


def test_readers_in_threads_see_consistent_pairs(engine: KVEngine) -> None:
    """Two keys always written together must never be seen apart."""
    fill(engine, "alpha", {b"x": b"0", b"y": b"0"})
    stop = time.monotonic() + 0.3
    torn: list[tuple[bytes | None, bytes | None]] = []

    def reader() -> None:
        while time.monotonic() < stop:
            with engine.read() as view:
                pair = (view.get("alpha", b"x"), view.get("alpha", b"y"))
            if pair[0] != pair[1]:
                torn.append(pair)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    counter = 0
    while time.monotonic() < stop:
        counter += 1
        value = str(counter).encode()
        with engine.write() as batch:
            batch.put("alpha", b"x", value)
            batch.put("alpha", b"y", value)
    for thread in threads:
        thread.join(5)
    assert not torn
    assert counter > 1


@pytest.mark.parametrize(
    ("prefix", "successor"),
    [(b"", None), (b"a", b"b"), (b"a\xff", b"b"), (b"\xff\xff", None), (b"a\x00", b"a\x01")],
)
def test_prefix_successor(prefix: bytes, successor: bytes | None) -> None:
    assert prefix_successor(prefix) == successor


def test_get_all_answers_each_key_in_order(engine: KVEngine) -> None:
    with engine.write() as batch:
        batch.put("beta", b"b", b"2")
        batch.put("beta", b"a", b"1")
    with engine.read() as view:
        assert view.get_all("beta", [b"b", b"zz", b"a", b"b"]) == [b"2", None, b"1", b"2"]
        assert view.get_all("beta", []) == []
