"""open_engine: the one entry point the node uses to get an engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyri.storage import LmdbEngine, MemoryEngine, StorageError, open_engine
from pyri.storage.schema import BUCKETS, NODE_META


def test_no_path_gives_a_memory_engine_with_every_bucket() -> None:
    engine = open_engine(None)
    assert isinstance(engine, MemoryEngine)
    assert engine.buckets == BUCKETS
    with pytest.raises(StorageError):
        open_engine(None, readonly=True)


def test_a_path_gives_an_lmdb_engine_that_reopens_read_only(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "db")
    assert isinstance(engine, LmdbEngine)
    assert engine.buckets == BUCKETS
    with engine.write() as batch:
        batch.put(NODE_META, b"k", b"v")
    engine.close()
    reader = open_engine(str(tmp_path / "db"), readonly=True)
    with reader.read() as view:
        assert view.get(NODE_META, b"k") == b"v"
    reader.close()
