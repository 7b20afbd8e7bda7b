"""The writer's count of writes: odd while a write step runs, even after it, shared through a
file by every process that maps it."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from pyri.node.write_counter import WriteCounter


def test_odd_during_a_write_step_and_even_after_it() -> None:
    counter = WriteCounter.in_memory()
    assert counter.value == 0
    with counter.writing():
        assert counter.value == 1
    assert counter.value == 2
    with pytest.raises(RuntimeError), counter.writing():
        raise RuntimeError("a failed step may have committed part of its work")
    assert counter.value == 4
    counter.close()


def test_attached_counters_see_the_writers_count(tmp_path: Path) -> None:
    path = tmp_path / "writes.count"
    writer = WriteCounter.create(path)
    reader = WriteCounter.attach(path)
    with writer.writing():
        assert reader.value == 1
    assert reader.value == 2
    reader.close()
    writer.close()


def _bump(path: str) -> None:
    counter = WriteCounter.attach(Path(path))
    with counter.writing():
        pass
    counter.close()


def test_the_count_is_shared_between_processes(tmp_path: Path) -> None:
    path = tmp_path / "writes.count"
    reader = WriteCounter.create(path)
    process = multiprocessing.get_context("spawn").Process(target=_bump, args=(str(path),))
    process.start()
    process.join(timeout=60)
    assert process.exitcode == 0
    assert reader.value == 2
    reader.close()


def test_create_replaces_a_left_over_file_instead_of_resetting_it(tmp_path: Path) -> None:
    path = tmp_path / "writes.count"
    old = WriteCounter.create(path)
    with old.writing():
        pass
    new = WriteCounter.create(path)
    # Whoever still maps the old file keeps its count; a reset could make an old count return.
    assert (old.value, new.value) == (2, 0)
    attached = WriteCounter.attach(path)
    assert attached.value == 0
    for counter in (old, new, attached):
        counter.close()


def test_a_closed_counter_keeps_its_last_value() -> None:
    counter = WriteCounter.in_memory()
    with counter.writing():
        pass
    counter.close()
    assert counter.value == 2
