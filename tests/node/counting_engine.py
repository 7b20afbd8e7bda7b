"""A KVEngine wrapper for the node tests: it counts ``get_many`` calls (with the buckets each
read) and write batches, and can run a hook right after the next ``get_many``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pyri.storage.engine import KVEngine, ReadView, WriteBatch


class CountingEngine:
    def __init__(self, engine: KVEngine) -> None:
        self._engine = engine
        self.reads = 0  # get_many calls (the one read of a cached getBalances answer)
        self.buckets_read: list[set[str]] = []  # per get_many call, the buckets it read
        self.on_read: Callable[[], None] | None = None  # runs just after the next get_many
        self.writes = 0  # write batches

    @property
    def buckets(self) -> tuple[str, ...]:
        return self._engine.buckets

    def read(self) -> ReadView:
        return self._engine.read()

    def get_many(self, items: Sequence[tuple[str, bytes]]) -> list[bytes | None]:
        self.reads += 1
        self.buckets_read.append({bucket for bucket, _ in items})
        values = self._engine.get_many(items)
        hook, self.on_read = self.on_read, None
        if hook is not None:
            hook()
        return values

    def write(self) -> WriteBatch:
        self.writes += 1
        return self._engine.write()

    def sync(self) -> None:
        self._engine.sync()

    def close(self) -> None:
        self._engine.close()
