"""LmdbEngine specifics: persistence, read-only handles in other processes, map growth, and
whole batches surviving kill -9. The shared contract is in test_engine.py."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import pyri
from pyri.storage import LmdbEngine, StorageError

from .conftest import BUCKETS, SMALL_MAP

SRC = Path(pyri.__file__).resolve().parents[1]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


def put_many(engine: LmdbEngine, bucket: str, count: int, size: int, tag: bytes = b"") -> None:
    with engine.write() as batch:
        for i in range(count):
            batch.put(bucket, tag + i.to_bytes(4, "big"), bytes([i % 251]) * size)


def test_committed_data_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with LmdbEngine(path, BUCKETS) as engine:
        put_many(engine, "alpha", 10, 8)
        engine.sync()
    with LmdbEngine(path, BUCKETS) as engine, engine.read() as view:
        assert view.count("alpha") == 10
        assert view.get("alpha", (3).to_bytes(4, "big")) == bytes([3]) * 8


def test_read_only_handle_reads_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with LmdbEngine(path, BUCKETS) as engine:
        put_many(engine, "beta", 5, 8)
    with LmdbEngine(path, BUCKETS, readonly=True) as reader:
        assert reader.readonly
        with reader.read() as view:
            assert view.count("beta") == 5
        with pytest.raises(StorageError, match="read-only"):
            reader.write()
        reader.sync()  # nothing to flush, and not an error


def test_read_only_open_needs_an_existing_database(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot open"):
        LmdbEngine(tmp_path / "missing", BUCKETS, readonly=True)
    LmdbEngine(tmp_path / "db", ["alpha"]).close()
    with pytest.raises(StorageError, match="buckets"):
        LmdbEngine(tmp_path / "db", ["alpha", "beta"], readonly=True)


def test_map_grows_when_a_batch_does_not_fit(tmp_path: Path) -> None:
    with LmdbEngine(tmp_path / "db", BUCKETS, map_size=SMALL_MAP) as engine:
        put_many(engine, "alpha", 3000, 1000)  # about 3 MB in a 1 MiB map
        assert engine.map_size > SMALL_MAP
        for round_ in range(5):  # and when many small batches add up
            put_many(engine, "beta", 200, 1000, tag=bytes([round_]))
        with engine.read() as view:
            assert view.count("alpha") == 3000
            assert view.count("beta") == 1000
            assert view.get("alpha", (2999).to_bytes(4, "big")) == bytes([2999 % 251]) * 1000


def test_growth_is_refused_while_the_writing_thread_holds_a_view(tmp_path: Path) -> None:
    with LmdbEngine(tmp_path / "db", BUCKETS, map_size=SMALL_MAP) as engine:
        with engine.read(), pytest.raises(StorageError, match="read view"):
            put_many(engine, "alpha", 3000, 1000)
        with engine.read() as view:
            assert view.count("alpha") == 0
        put_many(engine, "alpha", 3000, 1000)


def test_growth_waits_for_views_of_other_threads(tmp_path: Path) -> None:
    with LmdbEngine(tmp_path / "db", BUCKETS, map_size=SMALL_MAP) as engine:
        errors: list[BaseException] = []

        def write() -> None:
            try:
                put_many(engine, "alpha", 3000, 1000)
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        view = engine.read()
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(0.3)
        assert writer.is_alive()  # waiting for the view to close before remapping
        assert view.count("alpha") == 0
        view.close()
        writer.join(10)
        assert not writer.is_alive() and not errors
        with engine.read() as view:
            assert view.count("alpha") == 3000


def test_a_view_dropped_without_close_does_not_block_growth(tmp_path: Path) -> None:
    with LmdbEngine(tmp_path / "db", BUCKETS, map_size=SMALL_MAP, remap_timeout=1) as engine:
        view = engine.read()
        assert view.count("alpha") == 0
        del view
        put_many(engine, "alpha", 3000, 1000)


READER = """
import sys
from pyri.storage import LmdbEngine, StorageError
engine = LmdbEngine(sys.argv[1], ["alpha", "beta"], readonly=True, map_size=int(sys.argv[2]))
try:
    engine.write()
except StorageError:
    print("refused", flush=True)
for line in sys.stdin:
    with engine.read() as view:
        value = view.get("alpha", line.strip().encode())
        print(value.decode() if value else "-", view.count("beta"), flush=True)
"""


def test_read_only_process_sees_commits_and_follows_map_growth(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with LmdbEngine(path, BUCKETS, map_size=SMALL_MAP) as writer:
        with writer.write() as batch:
            batch.put("alpha", b"k", b"v1")
        command = [sys.executable, "-c", READER, str(path), str(SMALL_MAP)]
        with subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=child_env()
        ) as child:
            assert child.stdin is not None and child.stdout is not None

            def ask(key: str) -> list[str]:
                assert child.stdin is not None and child.stdout is not None
                child.stdin.write(key + "\n")
                child.stdin.flush()
                return child.stdout.readline().split()

            assert child.stdout.readline().strip() == "refused"
            assert ask("k") == ["v1", "0"]
            put_many(writer, "beta", 3000, 1000)  # the file outgrows the child's map
            with writer.write() as batch:
                batch.put("alpha", b"k", b"v2")
            assert writer.map_size > SMALL_MAP
            assert ask("k") == ["v2", "3000"]
            assert ask("nothing") == ["-", "3000"]
            child.stdin.close()
            assert child.wait(10) == 0


WRITER = """
import sys
from pyri.storage import LmdbEngine
path, batch_number, per_batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
engine = LmdbEngine(path, ["alpha", "beta"], map_size=1 << 18, log_buckets=["beta"])
while True:
    with engine.write() as batch:
        for item in range(per_batch):
            key = b"%08d:%05d" % (batch_number, item)
            batch.put("alpha", key, bytes(200))
            batch.put("beta", key, key * 40)
    print(batch_number, flush=True)
    batch_number += 1
"""
PER_BATCH = 300


def committed_batches(path: Path) -> list[int]:
    """The batch numbers present, after checking that each is whole."""
    counts: dict[int, int] = {}
    with LmdbEngine(path, BUCKETS, log_buckets=["beta"]) as engine, engine.read() as view:
        # Every value the value log holds for a committed key is whole.
        assert all(value == key * 40 for key, value in view.iterate("beta"))
        assert view.count("beta") == view.count("alpha")
        for key, _ in view.iterate("alpha"):
            number = int(key.split(b":")[0])
            counts[number] = counts.get(number, 0) + 1
    partial = {number: n for number, n in counts.items() if n != PER_BATCH}
    assert not partial, f"batches torn by the kill: {partial}"
    return sorted(counts)


def test_kill_9_leaves_only_whole_batches(tmp_path: Path) -> None:
    path = tmp_path / "db"
    rng = random.Random(7)
    next_batch = 0
    for _ in range(3):
        command = [sys.executable, "-c", WRITER, str(path), str(next_batch), str(PER_BATCH)]
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=child_env()) as child:
            assert child.stdout is not None
            acknowledged = [int(child.stdout.readline()) for _ in range(3)]
            time.sleep(rng.uniform(0, 0.02))  # land the kill at varying points of a batch
            child.send_signal(signal.SIGKILL)
            child.wait(10)
        batches = committed_batches(path)
        assert batches == list(range(len(batches)))  # no gaps: batches commit in order
        assert set(acknowledged) <= set(batches)  # acknowledged means durable
        next_batch = len(batches)
    assert next_batch >= 9
