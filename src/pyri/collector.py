"""Python's cyclic garbage collector, set for a process that writes the Tangle in bulk.

Ingest makes ~100,000 short-lived objects per batch of 1,000 transactions (parsed fields, keys,
index entries), almost none of them in reference cycles. With CPython's default thresholds
(700, 10, 10) that is ~140 collections a batch, each of which also walks whatever the previous
ones promoted; the transaction cache alone keeps 100,000 parsed transactions alive. With these
thresholds ``bench/ingest.py`` ingests ~12% faster (three alternating pairs of runs: 18,390 ->
20,690 tx/s on average; 20-25% with the collector off). Collecting less often costs some
memory for the few cycles that do occur (exceptions with tracebacks, mostly), never
correctness: reference counting frees everything else at once.

Called by the processes that write (``pyri run``'s writer, ``pyri import``) and by the ingest
benchmark, which measures what they run; not by API workers, which allocate little per request.
"""

from __future__ import annotations

import gc
from typing import Final

# A young-generation collection after this many net allocations instead of 700; the older
# generations' ratios are raised with it so that a full collection stays as rare as before.
BULK_THRESHOLDS: Final = (50_000, 20, 100)


def tune_for_bulk_writes() -> None:
    """Collect cyclic garbage less often (see the module docstring)."""
    gc.set_threshold(*BULK_THRESHOLDS)
