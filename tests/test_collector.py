"""The garbage collector's setting for the processes that write the Tangle in bulk."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from pyri import collector


@pytest.fixture
def restored() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restored")
def test_bulk_writers_collect_less_often() -> None:
    collector.tune_for_bulk_writes()
    assert gc.get_threshold() == (50_000, 20, 100)
    assert gc.isenabled()  # less often, never off: cycles are still freed
