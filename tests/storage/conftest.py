"""Fixtures shared by the storage tests: the same contract runs against both engines."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pyri.storage import KVEngine, LmdbEngine, MemoryEngine

BUCKETS = ("alpha", "beta")
# Small enough that the growth path is exercised now and then, large enough to be quick.
SMALL_MAP = 1 << 20

EngineFactory = Callable[[], KVEngine]


@pytest.fixture(params=["memory", "lmdb", "lmdb-value-log"])
def make_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EngineFactory]:
    """A factory of fresh, empty engines of one kind; every engine is closed afterwards."""
    engines: list[KVEngine] = []
    counter = itertools.count()

    def make() -> KVEngine:
        engine: KVEngine
        if request.param == "memory":
            engine = MemoryEngine(BUCKETS)
        elif request.param == "lmdb":
            engine = LmdbEngine(tmp_path / f"db{next(counter)}", BUCKETS, map_size=SMALL_MAP)
        else:  # the same contract with one bucket's values kept in the value log
            engine = LmdbEngine(
                tmp_path / f"db{next(counter)}",
                BUCKETS,
                map_size=SMALL_MAP,
                log_buckets=[BUCKETS[1]],
            )
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


@pytest.fixture
def engine(make_engine: EngineFactory) -> KVEngine:
    return make_engine()
