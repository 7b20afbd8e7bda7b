"""Storage: a key-value engine interface, its LMDB and in-memory engines, and the schema
(``pyri.storage.schema``) that fixes every bucket and key layout stored through them."""

from __future__ import annotations

import os

from pyri.storage.engine import KVEngine, ReadView, StorageError, WriteBatch
from pyri.storage.lmdb_engine import DEFAULT_MAP_SIZE, LmdbEngine
from pyri.storage.memory import MemoryEngine
from pyri.storage.schema import BUCKETS

__all__ = [
    "DEFAULT_MAP_SIZE",
    "KVEngine",
    "LmdbEngine",
    "MemoryEngine",
    "ReadView",
    "StorageError",
    "WriteBatch",
    "open_engine",
]


def open_engine(
    path: str | os.PathLike[str] | None,
    readonly: bool = False,
    *,
    map_size: int = DEFAULT_MAP_SIZE,
    sync: bool = True,
) -> KVEngine:
    """An engine with every bucket of the schema: LMDB in directory ``path`` (created unless
    ``readonly``), or a fresh in-memory engine when ``path`` is None."""
    if path is None:
        if readonly:
            raise StorageError("an in-memory engine cannot be opened read-only")
        return MemoryEngine(BUCKETS)
    return LmdbEngine(path, BUCKETS, readonly=readonly, map_size=map_size, sync=sync)
