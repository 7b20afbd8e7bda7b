"""Ingest throughput on one core: parse + hash + validate + store + index + solidity into LMDB,
in batches of 1,000, beside raw batched Curl-P-81 hashing of the same transactions measured in
the same run; and the stored size per transaction, indexes included.

    python bench/ingest.py                        # a table
    python bench/ingest.py --json                 # one JSON object
    python bench/ingest.py --transactions 300000  # a bigger database (default 20,000)
    python bench/ingest.py --batch 5000           # transactions per write (default 1,000;
                                                  # `pyri import` writes 5,000)

The rate falls as the database grows: index keys are hashes, so once the trees are much larger
than a batch, nearly every insert dirties a B-tree page of its own, and writing and syncing
those pages at each commit becomes the largest cost. ``ingest_last_quarter_tx_per_s`` is the
rate over the last quarter of the batches, the one closest to steady state at that size.
The garbage collector is set as ``pyri run``'s writer and ``pyri import`` set it
(``pyri.collector``).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import pin_to_one_core, report

pin_to_one_core()

import numpy as np  # noqa: E402

from pyri import collector  # noqa: E402
from pyri.batch_trinary import tryte_codes_to_trits  # noqa: E402
from pyri.consensus.tangle import IngestStatus, Tangle, TangleConfig  # noqa: E402
from pyri.crypto.curl import curl_hash_batch  # noqa: E402
from pyri.storage import open_engine  # noqa: E402
from pyri.storage.value_log import FILE_NAME  # noqa: E402
from pyri.trinary import (  # noqa: E402
    ALPHABET,
    NULL_HASH,
    int_to_trytes,
    trits_batch_to_trytes,
    trytes_batch_to_trits,
)

BATCH = 1000
DEFAULT_TRANSACTIONS = 20_000
_ALPHABET = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)


def make_tangle(rng: np.random.Generator, layers_wanted: int) -> list[list[str]]:
    """``layers_wanted`` batches of BATCH zero-value transactions; each approves two random
    earlier ones (the first layer approves the null hash), so solidity has real cones to walk."""
    fixed = (
        int_to_trytes(0, 27) + "9" * 27 + int_to_trytes(1_700_000_000, 9) + int_to_trytes(0, 9) * 2
    )
    tail = "PYRIBENCH" + "9" * 18 + int_to_trytes(0, 9) * 3 + "9" * 27
    layers: list[list[str]] = []
    known: list[str] = []
    for _ in range(layers_wanted):
        random_part = _ALPHABET[rng.integers(0, 27, (BATCH, 2187 + 81 + 81))]
        layer = []
        for row in random_part:
            text = row.tobytes().decode()
            trunk = known[rng.integers(len(known))] if known else NULL_HASH
            branch = known[rng.integers(len(known))] if known else NULL_HASH
            layer.append(
                text[:2187] + text[2187:2267] + "9" + fixed + text[2268:] + trunk + branch + tail
            )
        hashes = trits_batch_to_trytes(curl_hash_batch(trytes_batch_to_trits(layer, 2673)))
        known.extend(hashes)
        layers.append(layer)
    return layers


def _pages_in_use(path: Path) -> int:
    """Bytes in the B-tree pages of every bucket plus the value log that holds the
    transactions (the data file also holds free pages that LMDB reuses, so its size overstates
    what the data takes)."""
    import lmdb

    from pyri.storage.schema import BUCKETS

    env = lmdb.open(str(path), max_dbs=64, readonly=True, lock=False)
    total = 0
    with env.begin() as txn:
        for bucket in BUCKETS:
            stat = txn.stat(env.open_db(bucket.encode(), txn=txn, create=False))
            pages = stat["branch_pages"] + stat["leaf_pages"] + stat["overflow_pages"]
            total += pages * stat["psize"]
    env.close()
    return total + (path / FILE_NAME).stat().st_size


def main() -> None:
    # The collector set as the processes that ingest set it (pyri run's writer, pyri import).
    collector.tune_for_bulk_writes()
    wanted = DEFAULT_TRANSACTIONS
    if "--transactions" in sys.argv:
        wanted = int(sys.argv[sys.argv.index("--transactions") + 1])
    rng = np.random.default_rng(9)
    layers = make_tangle(rng, max(4, -(-wanted // BATCH)))
    count = sum(len(layer) for layer in layers)
    batch_size = BATCH
    if "--batch" in sys.argv:
        # The same transactions, written in bigger (or smaller) batches.
        batch_size = int(sys.argv[sys.argv.index("--batch") + 1])
        flat = [trytes for layer in layers for trytes in layer]
        layers = [flat[i : i + batch_size] for i in range(0, len(flat), batch_size)]
    # Baseline: hashing alone (trytes -> trits -> Curl-P-81, the conversions ingest uses), the
    # floor of any ingest. Best of three passes, as the machine is shared.
    curl_hash_batch(tryte_codes_to_trits("".join(layers[0][:64]).encode(), 64))  # warm-up
    hash_s = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for layer in layers:
            curl_hash_batch(tryte_codes_to_trits("".join(layer).encode("ascii"), len(layer)))
        hash_s = min(hash_s, time.perf_counter() - start)
    hash_rate = count / hash_s

    with tempfile.TemporaryDirectory() as directory:
        engine = open_engine(Path(directory) / "db")
        tangle = Tangle(engine, TangleConfig(mwm=0))
        tangle.ingest(layers[0][:10])  # warm-up: compile or load the numba cache
        quarter = len(layers) - len(layers) // 4  # the index of the last quarter's first batch
        start = time.perf_counter()
        accepted = 0
        for position, layer in enumerate(layers):
            if position == quarter:
                quarter_start = time.perf_counter()
            results = tangle.ingest(layer)
            accepted += sum(r.status is not IngestStatus.REJECTED for r in results)
        end = time.perf_counter()
        elapsed = end - start
        quarter_rate = sum(map(len, layers[quarter:])) / (end - quarter_start)
        with tangle.read() as reader:
            stored = reader.count_transactions()
            solid = sum(reader.is_solid(h) for h in reader.tips()[:100])
        engine.close()
        bytes_used = _pages_in_use(Path(directory) / "db")
        file_bytes = sum(
            (Path(directory) / "db" / name).stat().st_blocks * 512
            for name in ("data.mdb", FILE_NAME)
        )
    assert accepted == count and stored == count, (accepted, stored)
    ingest_rate = count / elapsed
    figures = {
        "ingest_tx_per_s": round(ingest_rate),
        "hash_only_tx_per_s": round(hash_rate),
        "ingest_over_hash": round(ingest_rate / hash_rate, 3),
        "ingest_last_quarter_tx_per_s": round(quarter_rate),
        "bytes_per_tx": round(bytes_used / stored),
        "file_bytes_per_tx": round(file_bytes / stored),
        "transactions": stored,
        "batch": batch_size,
        "solid_tips_of_100": solid,
    }
    rows = [
        (
            f"ingest into LMDB, tx/s (batches of {batch_size:,})",
            f"{ingest_rate:,.0f}",
            f"{hash_rate:,.0f} (hashing only)",
            f"{ingest_rate / hash_rate:.2f}",
        ),
        (
            "    over the last quarter of the batches, tx/s",
            f"{quarter_rate:,.0f}",
            f"{hash_rate:,.0f} (hashing only)",
            f"{quarter_rate / hash_rate:.2f}",
        ),
        (
            "stored bytes per transaction (indexes incl.)",
            f"{bytes_used / stored:,.0f}",
            f"{file_bytes / stored:,.0f} (data file incl. free pages)",
            "",
        ),
    ]
    report(f"pyri ingest, one core, {stored:,} transactions", rows, figures)


if __name__ == "__main__":
    main()
