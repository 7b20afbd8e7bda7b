"""An in-memory engine with the same semantics as the LMDB one, so most tests need no disk.

Snapshots are copy-on-write per bucket: a read view pins the bucket objects that were current
when it opened, and a commit copies a bucket only when some open view still pins it. Without
open views a commit updates in place, so a test that writes thousands of small batches does not
copy its buckets thousands of times.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType
from typing import Self

from pyri.storage.engine import (
    Closing,
    StorageError,
    WriterLock,
    check_buckets,
    check_key,
    check_value,
    prefix_successor,
)


class _Bucket:
    __slots__ = ("_sorted", "data", "pins")

    def __init__(self, data: dict[bytes, bytes], sorted_keys: list[bytes] | None = None) -> None:
        self.data = data
        self.pins = 0
        # Built lazily and replaced, never mutated, so copies may share it.
        self._sorted = sorted_keys

    def sorted_keys(self) -> list[bytes]:
        if self._sorted is None:
            self._sorted = sorted(self.data)
        return self._sorted

    def copy(self) -> _Bucket:
        return _Bucket(dict(self.data), self._sorted)

    def apply(self, changes: dict[bytes, bytes | None]) -> None:
        data = self.data
        reordered = False
        for key, value in changes.items():
            if value is None:
                if data.pop(key, None) is not None:
                    reordered = True
            else:
                if key not in data:
                    reordered = True
                data[key] = value
        if reordered:
            self._sorted = None


class MemoryEngine(Closing):
    """A ``KVEngine`` held in process memory; everything is lost when it is dropped."""

    def __init__(self, buckets: Iterable[str]) -> None:
        names = tuple(buckets)
        check_buckets(names)
        self._names = names
        self._buckets = {name: _Bucket({}) for name in names}
        self._lock = threading.Lock()  # guards _buckets and pin counts
        self._writer = WriterLock()
        self._closed = False

    @property
    def buckets(self) -> tuple[str, ...]:
        return self._names

    def get_many(self, items: Sequence[tuple[str, bytes]]) -> list[bytes | None]:
        with self.read() as view:
            return [view.get(bucket, key) for bucket, key in items]

    def read(self) -> MemoryReadView:
        with self._lock:
            self._check_open()
            snapshot = dict(self._buckets)
            for bucket in snapshot.values():
                bucket.pins += 1
        return MemoryReadView(self, snapshot)

    def write(self) -> MemoryWriteBatch:
        self._check_open()
        return MemoryWriteBatch(self)

    def sync(self) -> None:
        self._check_open()

    def close(self) -> None:
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the memory engine is closed")

    def _bucket(self, buckets: dict[str, _Bucket], name: str) -> _Bucket:
        try:
            return buckets[name]
        except KeyError:
            raise StorageError(f"unknown bucket {name!r}; known: {self._names}") from None

    def _release(self, snapshot: dict[str, _Bucket]) -> None:
        with self._lock:
            for bucket in snapshot.values():
                bucket.pins -= 1

    def _commit(self, changes: dict[str, dict[bytes, bytes | None]]) -> None:
        with self._lock:
            self._check_open()
            for name, bucket_changes in changes.items():
                bucket = self._buckets[name]
                if bucket.pins:
                    bucket = bucket.copy()
                    self._buckets[name] = bucket
                bucket.apply(bucket_changes)


class MemoryReadView(Closing):
    """A snapshot of a MemoryEngine (see ``ReadView``)."""

    def __init__(self, engine: MemoryEngine, snapshot: dict[str, _Bucket]) -> None:
        self._engine = engine
        self._snapshot: dict[str, _Bucket] | None = snapshot

    def _live(self, bucket: str) -> _Bucket:
        if self._snapshot is None:
            raise StorageError("read view used after it was closed")
        self._engine._check_open()
        return self._engine._bucket(self._snapshot, bucket)

    def get(self, bucket: str, key: bytes) -> bytes | None:
        value = self._live(bucket).data.get(key)
        if value is None and not key:
            raise StorageError(f"empty key for bucket {bucket!r}")  # as LMDB refuses it
        return value

    def get_all(self, bucket: str, keys: Sequence[bytes]) -> list[bytes | None]:
        return [self.get(bucket, key) for key in keys]

    def iterate(
        self, bucket: str, prefix: bytes = b"", start: bytes | None = None, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        store = self._live(bucket)
        keys = store.sorted_keys()
        successor = prefix_successor(prefix)
        if not reverse:
            position = bisect_left(keys, prefix if start is None else max(prefix, start))
            step = 1
        elif start is not None and (successor is None or start < successor):
            position = bisect_right(keys, start) - 1
            step = -1
        else:
            position = (len(keys) if successor is None else bisect_left(keys, successor)) - 1
            step = -1
        return self._walk(store, keys, prefix, position, step)

    def _walk(
        self, store: _Bucket, keys: list[bytes], prefix: bytes, position: int, step: int
    ) -> Iterator[tuple[bytes, bytes]]:
        while 0 <= position < len(keys):
            key = keys[position]
            if not key.startswith(prefix):
                return
            if self._snapshot is None:
                raise StorageError("read view closed while it was being iterated")
            yield key, store.data[key]
            position += step

    def count(self, bucket: str) -> int:
        return len(self._live(bucket).data)

    def close(self) -> None:
        if self._snapshot is not None:
            snapshot, self._snapshot = self._snapshot, None
            self._engine._release(snapshot)


class MemoryWriteBatch:
    """A write batch of a MemoryEngine (see ``WriteBatch``): changes are collected here and
    applied to the engine in one step on commit."""

    def __init__(self, engine: MemoryEngine) -> None:
        self._engine = engine
        self._changes: dict[str, dict[bytes, bytes | None]] | None = None
        self._entered = False

    def _live(self, bucket: str) -> dict[bytes, bytes | None]:
        if self._changes is None:
            raise StorageError("write batch used outside its with-block")
        changes = self._changes.get(bucket)
        if changes is None:
            self._engine._bucket(self._engine._buckets, bucket)  # raises for unknown buckets
            changes = self._changes[bucket] = {}
        return changes

    def get(self, bucket: str, key: bytes) -> bytes | None:
        changes = self._live(bucket)
        if key in changes:
            return changes[key]
        value = self._engine._buckets[bucket].data.get(key)
        if value is None and not key:
            raise StorageError(f"empty key for bucket {bucket!r}")
        return value

    def put(self, bucket: str, key: bytes, value: bytes) -> None:
        changes = self._live(bucket)
        check_key(bucket, key)
        check_value(bucket, value)
        changes[key] = value

    def put_many(self, bucket: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        for key, value in items:
            self.put(bucket, key, value)

    def delete(self, bucket: str, key: bytes) -> None:
        changes = self._live(bucket)
        check_key(bucket, key)
        changes[key] = None

    def __enter__(self) -> Self:
        if self._entered:
            raise StorageError("a write batch can be entered only once")
        self._entered = True
        self._engine._writer.acquire()
        try:
            self._engine._check_open()
        except BaseException:
            self._engine._writer.release()
            raise
        self._changes = {}
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        changes, self._changes = self._changes, None
        try:
            if exc_type is None and changes:
                self._engine._commit(changes)
        finally:
            self._engine._writer.release()
