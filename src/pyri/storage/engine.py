"""The key-value engine interface every store is written against, and helpers its engines share.

An engine holds a fixed set of named buckets (sub-databases) of ``bytes -> bytes``, ordered by
unsigned byte-wise key comparison. Readers get consistent snapshots (``read()``); the one writer
groups its changes into batches that become visible all at once or not at all (``write()``).

    with engine.write() as batch:        # committed when the block ends normally,
        batch.put("ledger", key, value)  # discarded entirely when it raises
    with engine.read() as view:          # sees every batch committed before it opened, no later
        value = view.get("ledger", key)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Final, Protocol, Self

from pyri.errors import PyriError

# LMDB's compile-time limit; the memory engine enforces it too so that both accept the same keys.
MAX_KEY_BYTES: Final = 511


class StorageError(PyriError):
    """The storage layer cannot do what was asked: an unknown bucket, an invalid key, a view or
    batch used after it ended, a nested write batch, a write to a read-only engine, a stored
    value that does not decode (corruption), or a failure of the engine underneath (disk full,
    missing database directory). The message names the bucket, key or path involved."""


class ReadView(Protocol):
    """A consistent snapshot of every bucket, as of the moment the view was opened.

    Open views pin old data: keep them short-lived (one API request, one traversal). A view is
    used by one thread at a time; iterators are valid only while their view is open.
    """

    def get(self, bucket: str, key: bytes) -> bytes | None:
        """The value stored under ``key``, or None."""
        ...

    def iterate(
        self, bucket: str, prefix: bytes = b"", start: bytes | None = None, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        """Yield ``(key, value)`` for the keys that begin with ``prefix``, in key order.

        ``start`` is an inclusive bound where the walk begins: forward, the first key yielded
        is the first one ``>= start``; with ``reverse=True`` keys come in descending order,
        beginning with the last key ``<= start``. So "the last key <= k among those starting
        with p" is ``next(view.iterate(bucket, prefix=p, start=k, reverse=True), None)``.
        """
        ...

    def count(self, bucket: str) -> int:
        """The number of keys in ``bucket``."""
        ...

    def get_all(self, bucket: str, keys: Sequence[bytes]) -> list[bytes | None]:
        """``get`` for many keys of one bucket, in order: ingest looks up thousands per batch,
        and one call saves most of the per-lookup overhead."""
        ...

    def close(self) -> None:
        """End the view; idempotent. Later calls on it raise StorageError."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class WriteBatch(Protocol):
    """A group of changes applied atomically when its ``with`` block ends normally.

    The batch begins when the block is entered; only one batch is open per engine at a time
    (another thread's ``with`` waits; the same thread opening a second one raises StorageError).
    """

    def get(self, bucket: str, key: bytes) -> bytes | None:
        """The value as this batch would leave it: its own puts and deletes first."""
        ...

    def put(self, bucket: str, key: bytes, value: bytes) -> None:
        """Store ``value`` under ``key``, replacing any earlier value."""
        ...

    def put_many(self, bucket: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        """Put many (key, value) pairs into one bucket; the fast path for ingest."""
        ...

    def delete(self, bucket: str, key: bytes) -> None:
        """Remove ``key``; removing an absent key is not an error."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class KVEngine(Protocol):
    """A set of named buckets with snapshot reads and atomic write batches."""

    @property
    def buckets(self) -> tuple[str, ...]:
        """The bucket names this engine was opened with."""
        ...

    def read(self) -> ReadView:
        """Open a read view now; close it (or use it as a context manager) when done."""
        ...

    def get_many(self, items: Sequence[tuple[str, bytes]]) -> list[bytes | None]:
        """Values of several (bucket, key) pairs read from one consistent snapshot, without a
        view object: the hot path of getBalances."""
        ...

    def write(self) -> WriteBatch:
        """A write batch, to be used as a context manager."""
        ...

    def sync(self) -> None:
        """Force committed batches to durable storage (useful when opened with sync=False)."""
        ...

    def close(self) -> None:
        """Release the engine; idempotent. Views and batches still open become unusable."""
        ...


def prefix_successor(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key that begins with ``prefix``, or None when no
    such key exists (an empty prefix, or one made only of 0xFF bytes)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


def check_key(bucket: str, key: bytes) -> None:
    """Raise StorageError unless ``key`` is a key both engines can store."""
    if not isinstance(key, bytes):
        raise StorageError(f"key for bucket {bucket!r} must be bytes, not {type(key).__name__}")
    if not 0 < len(key) <= MAX_KEY_BYTES:
        raise StorageError(
            f"key for bucket {bucket!r} must be 1..{MAX_KEY_BYTES} bytes long, got {len(key)}"
        )


def check_value(bucket: str, value: bytes) -> None:
    """Raise StorageError unless ``value`` is bytes (a bytearray would alias caller memory)."""
    if not isinstance(value, bytes):
        raise StorageError(f"value for bucket {bucket!r} must be bytes, not {type(value).__name__}")


def check_buckets(buckets: tuple[str, ...]) -> None:
    """Raise StorageError for an empty, duplicated or non-ASCII bucket name."""
    if len(set(buckets)) != len(buckets):
        raise StorageError(f"bucket names must be unique: {buckets}")
    for name in buckets:
        if not name or not name.isascii() or not name.isprintable():
            raise StorageError(f"bucket name must be printable ASCII, got {name!r}")


class Closing:
    """``with`` support for an object whose end is ``close()`` (engines and read views)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class WriterLock:
    """The one-batch-at-a-time lock of an engine.

    Another thread waits for the lock; the owning thread asking again is a programming error
    that would otherwise deadlock (LMDB's own writer mutex is not re-entrant either).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None

    def acquire(self) -> None:
        me = threading.get_ident()
        if self._owner == me:
            raise StorageError("a write batch is already open in this thread (batches do not nest)")
        self._lock.acquire()
        self._owner = me

    def release(self) -> None:
        self._owner = None
        self._lock.release()
