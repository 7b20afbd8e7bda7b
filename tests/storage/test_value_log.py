"""The value log behind LMDB's log buckets: what a crash leaves past the committed length is
cut off on the next open, a log shorter than the database says is refused, values written by
a batch are readable inside it before commit and by read-only processes after, and the schema
version stamp refuses databases of another layout. The engine contract with a log bucket runs
in test_engine.py (the ``lmdb-value-log`` engines)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyri.storage import LmdbEngine, StorageError, open_engine
from pyri.storage.schema import BUCKETS as ALL_BUCKETS
from pyri.storage.schema import META_SCHEMA_VERSION, NODE_META, TRANSACTIONS, encode_index
from pyri.storage.value_log import FILE_NAME, MAX_VALUE_BYTES, POINTER_BYTES

from .conftest import BUCKETS
from .test_lmdb_engine import child_env


def log_engine(path: Path, readonly: bool = False) -> LmdbEngine:
    return LmdbEngine(path, BUCKETS, readonly=readonly, log_buckets=["beta"])


def test_values_live_in_the_log_and_the_tree_holds_pointers(tmp_path: Path) -> None:
    with log_engine(tmp_path / "db") as engine:
        with engine.write() as batch:
            batch.put("beta", b"k1", b"x" * 1604)
            batch.put_many("beta", [(b"k2", b"y" * 10), (b"k3", b"")])
            # Readable inside the batch before anything is committed.
            assert batch.get("beta", b"k1") == b"x" * 1604
            assert batch.get("beta", b"k3") == b""
        assert (tmp_path / "db" / FILE_NAME).stat().st_size == 1604 + 10
        with engine.read() as view:
            assert view.get("beta", b"k2") == b"y" * 10
        assert engine.get_many([("beta", b"k1"), ("beta", b"nope")]) == [b"x" * 1604, None]
    # The B-tree itself holds only pointers.
    with LmdbEngine(tmp_path / "db", BUCKETS) as plain, plain.read() as view:
        assert {len(v) for _, v in view.iterate("beta")} == {POINTER_BYTES}


def test_bytes_past_the_committed_length_are_cut_off_on_open(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with log_engine(path) as engine, engine.write() as batch:
        batch.put("beta", b"k", b"committed")
    # What a crash between writing the log and committing the pointers leaves behind.
    with open(path / FILE_NAME, "ab") as log:
        log.write(b"torn batch")
    with log_engine(path) as engine:
        assert (path / FILE_NAME).stat().st_size == len(b"committed")
        with engine.write() as batch:
            batch.put("beta", b"k2", b"next")
        with engine.read() as view:
            assert dict(view.iterate("beta")) == {b"k": b"committed", b"k2": b"next"}


def test_a_failed_batch_leaves_its_values_unreferenced_and_overwritten(tmp_path: Path) -> None:
    with log_engine(tmp_path / "db") as engine:
        with pytest.raises(RuntimeError), engine.write() as batch:
            batch.put("beta", b"lost", b"L" * 100)
            raise RuntimeError("abandon the batch")
        with engine.write() as batch:
            batch.put("beta", b"kept", b"K" * 5)
        with engine.read() as view:
            assert dict(view.iterate("beta")) == {b"kept": b"K" * 5}
    assert (tmp_path / "db" / FILE_NAME).stat().st_size == 5


def test_a_log_shorter_than_the_database_says_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with log_engine(path) as engine, engine.write() as batch:
        batch.put("beta", b"k", b"0123456789")
    os.truncate(path / FILE_NAME, 4)
    with pytest.raises(StorageError, match="values were lost"):
        log_engine(path)


def test_values_too_long_for_a_pointer_are_refused(tmp_path: Path) -> None:
    with log_engine(tmp_path / "db") as engine:
        with pytest.raises(StorageError, match="at most"), engine.write() as batch:
            batch.put("beta", b"k", bytes(MAX_VALUE_BYTES + 1))
        with engine.read() as view:
            assert view.count("beta") == 0


READER = """
import sys
from pyri.storage import LmdbEngine
engine = LmdbEngine(sys.argv[1], ["alpha", "beta"], readonly=True, log_buckets=["beta"])
with engine.read() as view:
    print(sorted((k.decode(), v.decode()) for k, v in view.iterate("beta")))
"""


def test_a_read_only_process_reads_the_log(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with log_engine(path) as engine:
        for n in range(3):
            with engine.write() as batch:
                batch.put("beta", b"k%d" % n, b"v%d" % n * (n + 1))
        output = subprocess.run(
            [sys.executable, "-c", READER, str(path)],
            capture_output=True,
            text=True,
            env=child_env(),
            check=True,
        ).stdout
    assert output.strip() == "[('k0', 'v0'), ('k1', 'v1v1'), ('k2', 'v2v2v2')]"


def test_open_engine_keeps_transactions_in_the_log(tmp_path: Path) -> None:
    with open_engine(tmp_path / "db") as engine, engine.write() as batch:
        batch.put(TRANSACTIONS, b"h" * 49, b"t" * 1604)
    assert (tmp_path / "db" / FILE_NAME).stat().st_size == 1604


def test_a_database_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with open_engine(path) as engine, engine.write() as batch:
        batch.put(NODE_META, META_SCHEMA_VERSION, encode_index(1))
    for readonly in (False, True):
        with pytest.raises(StorageError, match="schema version 1, and this pyri reads version 3"):
            open_engine(path, readonly=readonly)


def test_an_unstamped_database_with_transactions_is_version_1(tmp_path: Path) -> None:
    path = tmp_path / "db"
    # The layout of pyri before the value log: transactions in the B-tree, no stamp.
    with LmdbEngine(path, ALL_BUCKETS) as old, old.write() as batch:
        batch.put(TRANSACTIONS, b"h" * 49, b"t" * 1604)
    with pytest.raises(StorageError, match="schema version 1"):
        open_engine(path)


def test_a_new_database_is_stamped_with_the_current_version(tmp_path: Path) -> None:
    with open_engine(tmp_path / "db") as engine, engine.read() as view:
        assert view.get(NODE_META, META_SCHEMA_VERSION) == encode_index(3)


def test_a_version_2_database_is_read_as_it_is_and_stamped_3_by_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with open_engine(path) as engine, engine.write() as batch:
        batch.put(NODE_META, META_SCHEMA_VERSION, encode_index(2))
    with open_engine(path, readonly=True) as reader, reader.read() as view:
        assert view.get(NODE_META, META_SCHEMA_VERSION) == encode_index(2)
    with open_engine(path) as writer, writer.read() as view:
        assert view.get(NODE_META, META_SCHEMA_VERSION) == encode_index(3)
