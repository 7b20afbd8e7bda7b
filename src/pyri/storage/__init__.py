"""Storage: a key-value engine interface, its LMDB and in-memory engines, and the schema
(``pyri.storage.schema``) that fixes every bucket and key layout stored through them."""

from __future__ import annotations

import os

from pyri.storage.engine import KVEngine, ReadView, StorageError, WriteBatch
from pyri.storage.lmdb_engine import DEFAULT_MAP_SIZE, LmdbEngine
from pyri.storage.memory import MemoryEngine
from pyri.storage.schema import (
    BUCKETS,
    LOG_BUCKETS,
    META_SCHEMA_VERSION,
    NODE_META,
    SCHEMA_VERSION,
    TRANSACTIONS,
    UPGRADABLE_SCHEMA_VERSIONS,
    decode_index,
    encode_index,
)

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
    engine = LmdbEngine(
        path, BUCKETS, readonly=readonly, map_size=map_size, sync=sync, log_buckets=LOG_BUCKETS
    )
    try:
        _check_schema_version(engine, os.fspath(path))
    except BaseException:
        engine.close()
        raise
    return engine


def _check_schema_version(engine: LmdbEngine, path: str) -> None:
    """Refuse a database laid out by another schema version; stamp a new one (writer only).
    A database with transactions but no stamp was made before versions were recorded (1)."""
    with engine.read() as view:
        recorded = view.get(NODE_META, META_SCHEMA_VERSION)
        empty = view.count(TRANSACTIONS) == 0
    if recorded is None:
        if not empty:
            recorded = encode_index(1)
        elif engine.readonly:
            return  # nothing stored yet; the writer stamps it
        else:
            with engine.write() as batch:
                batch.put(NODE_META, META_SCHEMA_VERSION, encode_index(SCHEMA_VERSION))
            return
    version = decode_index(recorded)
    if version in UPGRADABLE_SCHEMA_VERSIONS:
        # Readable as it is (schema.py says what changed); the writer stamps the new version.
        if not engine.readonly:
            with engine.write() as batch:
                batch.put(NODE_META, META_SCHEMA_VERSION, encode_index(SCHEMA_VERSION))
        return
    if version != SCHEMA_VERSION:
        raise StorageError(
            f"the database at {path!r} has schema version {version}, and this pyri reads "
            f"version {SCHEMA_VERSION}; export its ledger with the pyri that wrote it "
            f"(pyri snapshot export) and start a new database from that snapshot"
        )
