"""The embedded engine: one LMDB environment in a directory, one named sub-database per bucket.

Readers are LMDB read transactions (lock-free consistent snapshots, also from other processes
that open the same directory with ``readonly=True``); each write batch is one LMDB write
transaction. With ``sync=True`` (the default) a batch is on disk when its ``with`` block ends,
so a crash (kill -9, power loss) keeps every committed batch whole and no uncommitted one.

LMDB allows one open environment per database per process: API worker processes must each open
their own (read-only) engine after they fork, never inherit one.

Buckets named in ``log_buckets`` keep their values in an append-only value log beside the
B-tree (``pyri.storage.value_log``), which holds an 8-byte pointer per key instead: for large,
immutable values (stored transactions). Callers see the same bytes either way.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Final, Self

import lmdb

from pyri.storage.engine import (
    Closing,
    StorageError,
    WriterLock,
    check_buckets,
    check_key,
    prefix_successor,
)
from pyri.storage.value_log import PendingValues, ValueLog, decode_length, encode_length

# Address space only: without MDB_WRITEMAP the file grows with the data, not with the map.
DEFAULT_MAP_SIZE: Final = 64 << 30
DEFAULT_MAX_READERS: Final = 1024
# Room for buckets that later schema versions add, without reopening existing databases.
_MAX_DBS: Final = 64
# A batch that still does not fit after this many doublings is not a map-size problem.
_MAX_GROWTHS: Final = 24
_OPEN_ATTEMPTS: Final = 3
# The internal sub-database that records the value log's committed length (key _LOG_LENGTH).
_LOG_DB: Final = b"__value_log__"
_LOG_LENGTH: Final = b"committed_length"


class _RemapGate:
    """Keeps the map from being resized under this process's own open read transactions.

    Growing the map unmaps and remaps the file, which would leave the page pointers of open
    cursors dangling. So a resize waits until no read view of this process is open, and new
    views wait while it runs. A thread that holds a view and needs a resize gets StorageError
    instead of a deadlock.
    """

    def __init__(self, timeout: float) -> None:
        # A plain Lock: every read view enters and leaves, and an RLock costs more.
        self._cond = threading.Condition(threading.Lock())
        self._held: dict[int, int] = {}  # thread ident -> open views
        self._total = 0
        self._remapping = False
        self._timeout = timeout

    def enter(self) -> int:
        ident = threading.get_ident()
        with self._cond:
            # A thread that already holds a view must not wait for a resize that waits for it.
            if self._remapping and not self._held.get(ident):
                self._cond.wait_for(lambda: not self._remapping)
            self._held[ident] = self._held.get(ident, 0) + 1
            self._total += 1
        return ident

    def leave(self, ident: int) -> None:
        with self._cond:
            remaining = self._held[ident] - 1
            if remaining:
                self._held[ident] = remaining
            else:
                del self._held[ident]
            self._total -= 1
            if not self._total:
                self._cond.notify_all()

    def remap(self, action: Callable[[], None]) -> None:
        with self._cond:
            if self._held.get(threading.get_ident()):
                raise StorageError(
                    "the LMDB map must be resized, but this thread holds an open read view; "
                    "close read views before writing"
                )
            if not self._cond.wait_for(lambda: not self._remapping, self._timeout):
                raise StorageError("timed out waiting for another LMDB map resize")
            self._remapping = True
            try:
                if not self._cond.wait_for(lambda: not self._total, self._timeout):
                    raise StorageError(
                        f"the LMDB map must be resized, but read views stayed open for "
                        f"{self._timeout:g} s"
                    )
                action()
            finally:
                self._remapping = False
                self._cond.notify_all()


class LmdbEngine(Closing):
    """A ``KVEngine`` over LMDB. ``map_size`` is the initial map; it doubles whenever a batch
    does not fit. ``readonly=True`` opens an existing database for reading only."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        buckets: Iterable[str],
        *,
        readonly: bool = False,
        map_size: int = DEFAULT_MAP_SIZE,
        sync: bool = True,
        max_readers: int = DEFAULT_MAX_READERS,
        remap_timeout: float = 30.0,
        log_buckets: Iterable[str] = (),
    ) -> None:
        names = tuple(buckets)
        check_buckets(names)
        self._names = names
        self._log_buckets = frozenset(log_buckets)
        if not self._log_buckets <= set(names):
            raise StorageError(f"value-log buckets {sorted(self._log_buckets)} are not all buckets")
        self._path = os.fspath(path)
        self._readonly = readonly
        self._gate = _RemapGate(remap_timeout)
        self._writer = WriterLock()
        self._closed = False
        try:
            if not readonly:
                os.makedirs(self._path, exist_ok=True)
            self._env = lmdb.open(
                self._path,
                map_size=map_size,
                subdir=True,
                readonly=readonly,
                create=not readonly,
                sync=sync,
                metasync=sync,
                readahead=False,  # the working set is random B-tree pages, not sequential
                max_readers=max_readers,
                max_dbs=_MAX_DBS,
                lock=True,
            )
        except (lmdb.Error, OSError) as error:
            raise StorageError(f"cannot open LMDB database at {self._path!r}: {error}") from error
        try:
            if not readonly:
                # Reader slots of killed processes would otherwise pin old pages forever.
                self._env.reader_check()
            self._dbs = {
                name: self._env.open_db(name.encode("ascii"), create=not readonly) for name in names
            }
            self._log_db = self._env.open_db(_LOG_DB, create=not readonly)
        except lmdb.Error as error:
            self._env.close()
            raise StorageError(
                f"cannot open the buckets of LMDB database {self._path!r} "
                f"(a read-only open needs a database a writer has created): {error}"
            ) from error
        # The log's DB handles, so that reads test a handle rather than a bucket name.
        self._log_dbs = frozenset(self._dbs[name] for name in self._log_buckets)
        try:
            self._values = ValueLog(self._path, readonly=readonly, sync=sync)
            if not readonly:
                with self._env.begin() as txn:
                    recorded = txn.get(_LOG_LENGTH, db=self._log_db)
                self._values.recover(0 if recorded is None else decode_length(recorded))
        except BaseException:
            self._env.close()
            raise

    @property
    def buckets(self) -> tuple[str, ...]:
        return self._names

    @property
    def path(self) -> str:
        return self._path

    @property
    def readonly(self) -> bool:
        return self._readonly

    @property
    def map_size(self) -> int:
        """The current size of the memory map in bytes."""
        self._check_open()
        return self._env.info()["map_size"]

    def read(self) -> LmdbReadView:
        ident, txn = self._begin_read()
        return LmdbReadView(self, txn, ident)

    def _begin_read(self) -> tuple[int, lmdb.Transaction[bytes]]:
        """A read transaction, registered with the remap gate (the caller leaves the gate when
        it ends the transaction)."""
        self._check_open()
        for _ in range(_OPEN_ATTEMPTS):
            ident = self._gate.enter()
            try:
                return ident, self._env.begin(buffers=False)
            except lmdb.MapResizedError:
                self._gate.leave(ident)
                self._adopt_map_size()
            except lmdb.Error as error:
                self._gate.leave(ident)
                raise StorageError(f"cannot open a read view on {self._path!r}: {error}") from error
        raise StorageError(f"cannot open a read view on {self._path!r}: the map keeps growing")

    def get_many(self, items: Sequence[tuple[str, bytes]]) -> list[bytes | None]:
        dbs = [self._db(bucket) for bucket, _ in items]
        ident, txn = self._begin_read()
        try:
            found = [txn.get(key, db=db) for (_, key), db in zip(items, dbs, strict=True)]
            if self._log_dbs:
                read, log_dbs = self._values.read, self._log_dbs
                found = [
                    value if value is None or db not in log_dbs else read(value)
                    for value, db in zip(found, dbs, strict=True)
                ]
            return found
        except lmdb.Error as error:
            raise StorageError(f"cannot read from {self._path!r}: {error}") from error
        finally:
            txn.abort()
            self._gate.leave(ident)

    def write(self) -> LmdbWriteBatch:
        self._check_open()
        if self._readonly:
            raise StorageError(f"LMDB database {self._path!r} is open read-only")
        return LmdbWriteBatch(self)

    def sync(self) -> None:
        self._check_open()
        if not self._readonly:
            self._env.sync(True)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._env.close()
            self._values.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"LMDB database {self._path!r} is closed")

    def _db(self, bucket: str) -> lmdb._Database:
        try:
            return self._dbs[bucket]
        except KeyError:
            raise StorageError(f"unknown bucket {bucket!r}; known: {self._names}") from None

    def _adopt_map_size(self) -> None:
        # Another process grew the map; size 0 means "the size recorded in the file".
        self._gate.remap(lambda: self._env.set_mapsize(0))

    def _grow(self) -> None:
        new_size = self._env.info()["map_size"] * 2
        self._gate.remap(lambda: self._env.set_mapsize(new_size))

    def _begin_write(self) -> lmdb.Transaction[bytes]:
        for _ in range(_OPEN_ATTEMPTS):
            try:
                return self._env.begin(write=True)
            except lmdb.MapResizedError:
                self._adopt_map_size()
            except lmdb.Error as error:
                raise StorageError(f"cannot begin a write on {self._path!r}: {error}") from error
        raise StorageError(f"cannot begin a write on {self._path!r}: the map keeps growing")


class LmdbReadView(Closing):
    """An LMDB read transaction (see ``ReadView``)."""

    def __init__(self, engine: LmdbEngine, txn: lmdb.Transaction[bytes], ident: int) -> None:
        self._engine = engine
        self._txn: lmdb.Transaction[bytes] | None = txn
        self._ident = ident

    def _live(self) -> lmdb.Transaction[bytes]:
        if self._txn is None:
            raise StorageError("read view used after it was closed")
        return self._txn

    def get(self, bucket: str, key: bytes) -> bytes | None:
        engine = self._engine
        db = engine._db(bucket)
        try:
            value = self._live().get(key, db=db)
        except lmdb.Error as error:
            raise StorageError(f"cannot read {key!r} from bucket {bucket!r}: {error}") from error
        if value is not None and db in engine._log_dbs:
            return engine._values.read(value)
        return value

    def get_all(self, bucket: str, keys: Sequence[bytes]) -> list[bytes | None]:
        engine = self._engine
        db = engine._db(bucket)
        get = self._live().get
        try:
            values = [get(key, None, db) for key in keys]
        except lmdb.Error as error:
            raise StorageError(f"cannot read from bucket {bucket!r}: {error}") from error
        if db in engine._log_dbs:
            read = engine._values.read
            return [None if value is None else read(value) for value in values]
        return values

    def iterate(
        self, bucket: str, prefix: bytes = b"", start: bytes | None = None, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        db = self._engine._db(bucket)
        try:
            cursor = self._live().cursor(db=db)
            successor = prefix_successor(prefix)
            if not reverse:
                seek = prefix if start is None else max(prefix, start)
                positioned = cursor.set_range(seek) if seek else cursor.first()
            elif start is not None and (successor is None or start < successor):
                # The last key <= start: set_range finds the first key >= start.
                if cursor.set_range(start):
                    positioned = cursor.key() == start or cursor.prev()
                else:
                    positioned = cursor.last()
            elif successor is not None and cursor.set_range(successor):
                positioned = cursor.prev()
            else:
                positioned = cursor.last()
        except lmdb.Error as error:
            raise StorageError(f"cannot iterate bucket {bucket!r}: {error}") from error
        items = _walk(cursor, prefix, positioned, reverse)
        if db in self._engine._log_dbs:
            read = self._engine._values.read
            return ((key, read(pointer)) for key, pointer in items)
        return items

    def count(self, bucket: str) -> int:
        db = self._engine._db(bucket)
        try:
            return self._live().stat(db)["entries"]
        except lmdb.Error as error:
            raise StorageError(f"cannot count bucket {bucket!r}: {error}") from error

    def close(self) -> None:
        if self._txn is not None:
            txn, self._txn = self._txn, None
            try:
                txn.abort()  # a no-op when the engine was closed first
            finally:
                self._engine._gate.leave(self._ident)

    def __del__(self) -> None:
        # A view dropped without close() must not hold up map growth forever. (__del__ rather
        # than weakref.finalize: a finalizer costs more than the rest of a short read.)
        with contextlib.suppress(Exception):
            self.close()


def _walk(
    cursor: lmdb.Cursor[bytes], prefix: bytes, positioned: bool, reverse: bool
) -> Iterator[tuple[bytes, bytes]]:
    if not positioned:
        return
    try:
        # iternext/iterprev start with the current item, then step.
        for key, value in cursor.iterprev() if reverse else cursor.iternext():
            if not key.startswith(prefix):
                return
            yield key, value
    except lmdb.Error as error:
        raise StorageError(f"read view closed while it was being iterated: {error}") from error


class LmdbWriteBatch:
    """One LMDB write transaction (see ``WriteBatch``).

    Every change is also logged, so that when the map fills up the batch can be replayed
    against a larger map instead of failing: LMDB aborts the transaction on MDB_MAP_FULL, and
    the map can only grow while no write transaction is open.
    """

    def __init__(self, engine: LmdbEngine) -> None:
        self._engine = engine
        self._txn: lmdb.Transaction[bytes] | None = None
        # Every change, for replay into a larger map: (db, [(key, value or None for delete)]).
        self._log: list[tuple[lmdb._Database, list[tuple[bytes, bytes | None]]]] = []
        self._entered = False
        self._values: PendingValues | None = None

    def _live(self) -> lmdb.Transaction[bytes]:
        if self._txn is None:
            raise StorageError("write batch is not open (used outside its with-block, or failed)")
        return self._txn

    def get(self, bucket: str, key: bytes) -> bytes | None:
        db = self._engine._db(bucket)
        try:
            value = self._live().get(key, db=db)
        except lmdb.Error as error:
            raise StorageError(f"cannot read {key!r} from bucket {bucket!r}: {error}") from error
        if value is not None and db in self._engine._log_dbs:
            return self._pending().read(value)
        return value

    def _pending(self) -> PendingValues:
        if self._values is None:
            self._values = PendingValues(self._engine._values)
        return self._values

    def put(self, bucket: str, key: bytes, value: bytes) -> None:
        txn = self._live()
        db = self._engine._db(bucket)
        if type(key) is not bytes or type(value) is not bytes:
            raise StorageError(f"key and value for bucket {bucket!r} must be bytes")
        if db in self._engine._log_dbs:
            check_key(bucket, key)  # before the value takes room in the log
            value = self._pending().add(value)
        self._log.append((db, [(key, value)]))
        try:
            txn.put(key, value, db=db)
        except lmdb.MapFullError:
            self._replay_in_larger_map()
        except lmdb.Error as error:
            self._log.pop()
            raise StorageError(f"cannot put {key!r} into bucket {bucket!r}: {error}") from error

    def delete(self, bucket: str, key: bytes) -> None:
        txn = self._live()
        db = self._engine._db(bucket)
        if type(key) is not bytes:
            raise StorageError(f"key for bucket {bucket!r} must be bytes")
        self._log.append((db, [(key, None)]))
        try:
            txn.delete(key, db=db)
        except lmdb.MapFullError:
            self._replay_in_larger_map()
        except lmdb.Error as error:
            self._log.pop()
            raise StorageError(f"cannot delete {key!r} from bucket {bucket!r}: {error}") from error

    def put_many(self, bucket: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        if not items:
            return
        txn = self._live()
        db = self._engine._db(bucket)
        for key, value in items:
            if type(key) is not bytes or type(value) is not bytes or not 0 < len(key) <= 511:
                check_key(bucket, key)  # raises, naming the problem
                raise StorageError(f"values for bucket {bucket!r} must be bytes")
        if db in self._engine._log_dbs:
            pointers = self._pending().add_many([value for _, value in items])
            items = [(key, pointer) for (key, _), pointer in zip(items, pointers, strict=True)]
        # Sorted input lets LMDB insert along one path of the B-tree instead of seeking anew.
        ordered = sorted(items)
        self._log.append((db, list(ordered)))
        try:
            with txn.cursor(db=db) as cursor:
                cursor.putmulti(ordered)
        except lmdb.MapFullError:
            self._replay_in_larger_map()
        except lmdb.Error as error:
            self._log.pop()
            raise StorageError(f"cannot put into bucket {bucket!r}: {error}") from error

    def _replay_in_larger_map(self) -> None:
        for _ in range(_MAX_GROWTHS):
            self._abort()
            self._engine._grow()
            txn = self._txn = self._engine._begin_write()
            try:
                for db, changes in self._log:
                    for key, value in changes:
                        if value is None:
                            txn.delete(key, db=db)
                        else:
                            txn.put(key, value, db=db)
                return
            except lmdb.MapFullError:
                continue
        self._abort()
        raise StorageError(f"write batch does not fit even in a {self._engine.map_size} byte map")

    def _abort(self) -> None:
        txn, self._txn = self._txn, None
        if txn is not None:
            txn.abort()  # a no-op for a transaction LMDB has already ended

    def __enter__(self) -> Self:
        if self._entered:
            raise StorageError("a write batch can be entered only once")
        self._entered = True
        self._engine._writer.acquire()
        try:
            self._engine._check_open()
            self._txn = self._engine._begin_write()
        except BaseException:
            self._engine._writer.release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self._commit()
        finally:
            self._abort()
            self._log = []
            self._values = None  # uncommitted values past the log's length are overwritten later
            self._engine._writer.release()

    def _commit(self) -> None:
        values, self._values = self._values, None
        length = None
        if values:
            # The values reach the disk before the pointers to them can commit.
            length = values.write()
            record = encode_length(length)
            db = self._engine._log_db
            self._log.append((db, [(_LOG_LENGTH, record)]))
            try:
                self._live().put(_LOG_LENGTH, record, db=db)
            except lmdb.MapFullError:
                self._replay_in_larger_map()
            except lmdb.Error as error:
                raise StorageError(f"cannot record the value log's length: {error}") from error
        for _ in range(_MAX_GROWTHS):
            try:
                self._live().commit()
                self._txn = None
                if length is not None:
                    self._engine._values.committed_to(length)
                return
            except lmdb.MapFullError:
                self._replay_in_larger_map()
            except lmdb.Error as error:
                raise StorageError(f"cannot commit to {self._engine.path!r}: {error}") from error
        raise StorageError(f"write batch does not fit even in a {self._engine.map_size} byte map")
