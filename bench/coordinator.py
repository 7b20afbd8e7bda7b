"""Coordinator key-tree generation on one core, beside the straightforward per-leaf path
measured in the same run.

    python bench/coordinator.py          # a table
    python bench/coordinator.py --json   # one JSON object

Figures, for the devnet's default tree (Curl-P-27, security 1, what IRI's testnet uses) and for
a mainnet-shaped one (Kerl, security 2):

* leaves/s of the batched generation (``pyri.devnet.merkle_tree.leaf_addresses``, chunks of
  256 keys), against one ``wots.address`` call per key (subseed, key, 26-step chains, digests
  and address, each batched within the key only);
* the time to build and store a whole depth-16 tree (Curl-P-27), Merkle levels included;
* the projected depth-20 time: 16 times the depth-16 time (the leaves are all but the whole
  cost), on one core and on the dev machine's two cores (``pyri coordinator`` runs one
  generation thread per core; the kernels release the GIL). The Kerl projection scales the
  measured leaf rate the same way.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import best_rate, pin_to_one_core, report

pin_to_one_core()

import numpy as np  # noqa: E402

from pyri.crypto import wots  # noqa: E402
from pyri.crypto.sponge import SpongeMode  # noqa: E402
from pyri.devnet.merkle_tree import TreeSpec, build_key_tree, leaf_addresses  # noqa: E402
from pyri.trinary import trytes_to_trits  # noqa: E402

SEED = "PYRI9BENCH9COORDINATOR9SEED".ljust(81, "9")
CORES = 2  # the dev machine


def leaf_rates(mode: SpongeMode, security: int, batched: int, single: int) -> tuple[float, float]:
    seed = trytes_to_trits(SEED)
    chunk = 256

    def batch() -> int:
        for first in range(0, batched, chunk):
            leaf_addresses(seed, first, chunk, security, mode)
        return batched

    def one_by_one() -> int:
        for index in range(single):
            wots.address(seed, index, security, mode)
        return single

    # Same answers, or the comparison means nothing.
    expected = np.stack([wots.address(seed, k, security, mode) for k in range(3)])
    assert np.array_equal(leaf_addresses(seed, 0, 3, security, mode), expected)
    return best_rate(batch, repeats=2), best_rate(one_by_one, repeats=2)


def depth16_seconds() -> float:
    with tempfile.TemporaryDirectory() as directory:
        start = time.perf_counter()
        build_key_tree(Path(directory), SEED, TreeSpec(16, 1, SpongeMode.CURLP27), workers=1)
        return time.perf_counter() - start


def main() -> None:
    curl_batched, curl_single = leaf_rates(SpongeMode.CURLP27, 1, 4096, 200)
    kerl_batched, kerl_single = leaf_rates(SpongeMode.KERL, 2, 1024, 100)
    depth16 = depth16_seconds()
    depth20_min = 16 * depth16 / 60
    kerl20_min = (1 << 20) / kerl_batched / 60
    figures = {
        "merkle_mode": "CURLP27",
        "merkle_security": 1,
        "merkle_leaves_per_s": round(curl_batched),
        "merkle_single_leaf_per_s": round(curl_single),
        "merkle_single_leaf_ms": round(1000 / curl_single, 3),
        "depth16_s": round(depth16, 1),
        "depth20_projected_min": round(depth20_min, 1),
        "depth20_projected_min_2cores": round(depth20_min / CORES, 1),
        "kerl_sec2_leaves_per_s": round(kerl_batched),
        "kerl_sec2_single_leaf_per_s": round(kerl_single),
        "kerl_sec2_depth20_projected_min": round(kerl20_min, 1),
        "kerl_sec2_depth20_projected_min_2cores": round(kerl20_min / CORES, 1),
    }
    rows = [
        (
            "Curl-P-27 sec 1: leaves/s (batched)",
            f"{curl_batched:,.0f}",
            f"{curl_single:,.0f} (one key at a time)",
            f"{curl_batched / curl_single:.1f}x",
        ),
        (
            "Curl-P-27 sec 1: depth-16 tree, s",
            f"{depth16:.1f}",
            f"{(1 << 16) / curl_single:.0f} (projected)",
            f"{(1 << 16) / curl_single / depth16:.1f}x",
        ),
        (
            "Curl-P-27 sec 1: depth-20 tree, min (1 core / 2)",
            f"{depth20_min:.1f} / {depth20_min / CORES:.1f}",
            f"{(1 << 20) / curl_single / 60:.0f} (projected, 1 core)",
            f"{(1 << 20) / curl_single / 60 / depth20_min:.1f}x",
        ),
        (
            "Kerl sec 2: leaves/s (batched)",
            f"{kerl_batched:,.0f}",
            f"{kerl_single:,.0f} (one key at a time)",
            f"{kerl_batched / kerl_single:.1f}x",
        ),
        (
            "Kerl sec 2: depth-20 tree, min (1 core / 2)",
            f"{kerl20_min:.1f} / {kerl20_min / CORES:.1f}",
            f"{(1 << 20) / kerl_single / 60:.0f} (projected, 1 core)",
            f"{kerl_batched / kerl_single:.1f}x",
        ),
    ]
    report("pyri coordinator key tree, one core", rows, figures)


if __name__ == "__main__":
    main()
