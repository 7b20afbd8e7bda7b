"""Shared helpers for the benchmarks: one core, warm-up, best-of timing, printing."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any


def pin_to_one_core() -> None:
    """Run on a single core, as the issue's figures are stated per core."""
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cores[-1]})


def best_rate(work: Callable[[], int], repeats: int = 3) -> float:
    """Items per second of ``work`` (which returns how many items it did), best of ``repeats``;
    the machines are shared, and the best run is the one least disturbed."""
    work()  # warm-up: compile or load the numba cache, fill caches
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        items = work()
        elapsed = time.perf_counter() - start
        best = max(best, items / elapsed)
    return best


def report(title: str, rows: list[tuple[str, str, str, str]], figures: dict[str, Any]) -> None:
    """Print a table (figure, value, baseline, ratio), or the figures as JSON with --json."""
    if "--json" in sys.argv:
        print(json.dumps(figures, sort_keys=True))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in ("figure", "pyri", "baseline (same run)", "ratio"):
        table.add_column(column, justify="right" if column != "figure" else "left")
    for row in rows:
        table.add_row(*row)
    Console().print(table)
