"""A count of the writer's writes, shared with the API worker processes through a small
memory-mapped file: a worker can tell that nothing was written since it last looked without
opening a read transaction.

The writer makes the count odd before each write step (an ingest batch, milestone processing)
and even again once the step is committed, as a sequence lock does. A worker that read the
count *before* the read view an answer came from may keep that answer for as long as the count
still shows the same even value: every commit since would have changed it first. A count that
is odd, or different, says nothing, and the worker reads the database again.

The count is one aligned 64-bit word read and written whole (``ctypes``), so it is never seen
half-written. It only grows, and a new node run starts a new file.
"""

from __future__ import annotations

import ctypes
import mmap
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

_SIZE: Final = ctypes.sizeof(ctypes.c_uint64)


class WriteCounter:
    """The shared count; ``create`` for the writer, ``attach`` for a worker, ``in_memory`` for a
    writer and readers in one process."""

    __slots__ = ("_map", "_word")

    def __init__(self, memory: mmap.mmap) -> None:
        self._map = memory
        self._word = ctypes.c_uint64.from_buffer(memory)

    @classmethod
    def create(cls, path: Path) -> WriteCounter:
        """A new count of zero at ``path``. A file left there by an earlier run is replaced by
        a new one, never reset in place: whoever still maps the old one keeps its own count."""
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.ftruncate(fd, _SIZE)
            return cls(mmap.mmap(fd, _SIZE))
        finally:
            os.close(fd)  # the mapping keeps the memory

    @classmethod
    def attach(cls, path: Path) -> WriteCounter:
        """The count the writer created at ``path``."""
        fd = os.open(path, os.O_RDWR)
        try:
            # ctypes needs a writable buffer to read through; a worker never writes.
            return cls(mmap.mmap(fd, _SIZE))
        finally:
            os.close(fd)

    @classmethod
    def in_memory(cls) -> WriteCounter:
        return cls(mmap.mmap(-1, _SIZE))

    @property
    def value(self) -> int:
        return self._word.value

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Brackets one write step of the (single) writer: odd during it, even after it,
        also when it fails (a failed step may have committed part of its work)."""
        word = self._word
        word.value += 1
        try:
            yield
        finally:
            word.value += 1

    def close(self) -> None:
        # The mapping cannot close while ctypes holds a pointer into it.
        self._word = ctypes.c_uint64(self._word.value)
        self._map.close()
