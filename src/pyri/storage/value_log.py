"""An append-only file for large, immutable values, beside the LMDB B-tree that points into it.

Why: a stored transaction is 1,604 bytes. Inside LMDB's 4 KB pages such values fit at most two
to a page, and random-order inserts leave pages about three-quarters empty after splits, so the
transactions bucket took ~2.8 KB a transaction, and every ingest batch dirtied a page per
transaction. Appended to one file they take exactly their length, and a batch is one sequential
write. The B-tree keeps an 8-byte pointer per value (``encode_pointer``).

Crash safety comes from ordering: a batch's values are written and flushed to the file *before*
the LMDB transaction that points to them (and records the file's new committed length) commits.
A crash in between leaves bytes past the committed length that nothing points to; the writer
cuts them off when it next opens the database. Bytes below the committed length never change,
so readers in other processes read them with ``pread`` without any locking.
"""

from __future__ import annotations

import os
import struct
from itertools import accumulate
from typing import Final

from pyri.storage.engine import StorageError

FILE_NAME: Final = "values.log"
# A pointer: offset (48 bits, 256 TiB) and length (16 bits), big-endian.
POINTER_BYTES: Final = 8
MAX_VALUE_BYTES: Final = 0xFFFF
_MAX_OFFSET: Final = 1 << 48


def encode_pointer(offset: int, length: int) -> bytes:
    return ((offset << 16) | length).to_bytes(POINTER_BYTES, "big")


def decode_pointer(pointer: bytes) -> tuple[int, int]:
    """(offset, length) of a pointer; StorageError when it is not one."""
    if len(pointer) != POINTER_BYTES:
        raise StorageError(f"corrupt value-log pointer {pointer!r} ({len(pointer)} bytes)")
    packed = int.from_bytes(pointer, "big")
    return packed >> 16, packed & 0xFFFF


_U64: Final = struct.Struct(">Q")


def encode_length(length: int) -> bytes:
    return _U64.pack(length)


def decode_length(data: bytes) -> int:
    if len(data) != _U64.size:
        raise StorageError(f"corrupt value-log length record {data!r}")
    return int(_U64.unpack(data)[0])


class ValueLog:
    """The file and its committed length. The writer's engine owns the only writable one;
    ``read`` may be called from any thread."""

    def __init__(self, directory: str, *, readonly: bool, sync: bool) -> None:
        self._path = os.path.join(directory, FILE_NAME)
        self._readonly = readonly
        self._sync = sync
        self._committed = 0
        self._fd: int | None = None
        if not readonly:
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as error:
                raise StorageError(f"cannot open the value log {self._path!r}: {error}") from error

    @property
    def path(self) -> str:
        return self._path

    @property
    def committed(self) -> int:
        return self._committed

    def recover(self, committed: int) -> None:
        """Adopt the committed length the database records, cutting off what a crash left
        past it (writer only). A file shorter than that length lost committed values."""
        fd = self._writable()
        size = os.fstat(fd).st_size
        if size < committed:
            raise StorageError(
                f"the value log {self._path!r} holds {size} bytes but the database points to "
                f"{committed}: values were lost (a damaged or replaced file)"
            )
        if size > committed:
            os.ftruncate(fd, committed)
            if self._sync:
                os.fsync(fd)
        self._committed = committed

    def read(self, pointer: bytes) -> bytes:
        offset, length = decode_pointer(pointer)
        fd = self._fd if self._fd is not None else self._open_for_reading()
        try:
            data = os.pread(fd, length, offset)
        except OSError as error:
            raise StorageError(f"cannot read the value log {self._path!r}: {error}") from error
        if len(data) != length:
            raise StorageError(
                f"the value log {self._path!r} ends before a stored value "
                f"({length} bytes at offset {offset})"
            )
        return data

    def append(self, chunks: list[bytes]) -> int:
        """Write ``chunks`` at the committed length and flush them to disk; the new length,
        which becomes committed only through ``committed_to`` once the database points to it.
        """
        fd = self._writable()
        data = b"".join(chunks)
        written = 0
        try:
            while written < len(data):
                written += os.pwrite(fd, data[written:], self._committed + written)
            if self._sync:
                os.fdatasync(fd)
        except OSError as error:
            raise StorageError(f"cannot write the value log {self._path!r}: {error}") from error
        return self._committed + len(data)

    def committed_to(self, length: int) -> None:
        self._committed = length

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def _writable(self) -> int:
        if self._readonly or self._fd is None:
            raise StorageError(f"the value log {self._path!r} is not open for writing")
        return self._fd

    def _open_for_reading(self) -> int:
        # Read-only engines open the file on first use: a database whose writer has never
        # stored a value may not have it yet.
        try:
            self._fd = os.open(self._path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as error:
            raise StorageError(f"cannot open the value log {self._path!r}: {error}") from error
        return self._fd


class PendingValues:
    """The values one write batch appends, addressed before they are written: the first
    byte goes at the log's committed length."""

    def __init__(self, log: ValueLog) -> None:
        self._log = log
        self._base = log.committed
        self._chunks: list[bytes] = []
        self._length = 0

    def add(self, value: bytes) -> bytes:
        """The pointer ``value`` will have once the batch commits."""
        if len(value) > MAX_VALUE_BYTES:
            raise StorageError(
                f"a value-log value is at most {MAX_VALUE_BYTES} bytes, got {len(value)}"
            )
        offset = self._base + self._length
        if offset + len(value) >= _MAX_OFFSET:
            raise StorageError("the value log is full (256 TiB)")
        self._chunks.append(value)
        self._length += len(value)
        return encode_pointer(offset, len(value))

    def add_many(self, values: list[bytes]) -> list[bytes]:
        """``add`` for many values (ingest adds a thousand per batch)."""
        if any(len(value) > MAX_VALUE_BYTES for value in values):
            for value in values:
                self.add(value)  # raises, naming the length
        offsets = list(
            accumulate((len(value) for value in values), initial=self._base + self._length)
        )
        if offsets[-1] >= _MAX_OFFSET:
            raise StorageError("the value log is full (256 TiB)")
        self._chunks.extend(values)
        self._length = offsets[-1] - self._base
        return [
            ((offset << 16) | len(value)).to_bytes(POINTER_BYTES, "big")
            for offset, value in zip(offsets, values, strict=False)
        ]

    def read(self, pointer: bytes) -> bytes:
        """A value by pointer, whether written by this batch or committed before it."""
        offset, length = decode_pointer(pointer)
        if offset < self._base:
            return self._log.read(pointer)
        data = b"".join(self._chunks)
        start = offset - self._base
        return data[start : start + length]

    def __bool__(self) -> bool:
        return self._length > 0

    def write(self) -> int:
        """Write and flush the batch's values; the log's new length."""
        return self._log.append(self._chunks)
