"""Throughput of pyri's crypto primitives on one core, each beside a baseline measured in the
same run.

    python bench/crypto.py          # a table
    python bench/crypto.py --json   # one JSON object

Baselines: for Curl, the straightforward single-input path (one sponge, one trit at a time);
for Kerl and WOTS, the same algorithm through pycryptodome's public Keccak object with Python
integer conversions; for proof of work, a scalar (one nonce at a time) search from the same
mid-state, projected to the expected number of tries.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import best_rate, pin_to_one_core, report

pin_to_one_core()

import numpy as np  # noqa: E402

from pyri.crypto import curl, kerl, pow, wots  # noqa: E402
from pyri.crypto.keccak import keccak384  # noqa: E402
from pyri.trinary import HASH_TRITS  # noqa: E402

RNG = np.random.default_rng(2026)


def _reference_kerl_block(trits: np.ndarray) -> np.ndarray:
    """Kerl absorb + squeeze of one block the plain way: Python ints and the Keccak object."""
    value = sum(int(t) * 3**i for i, t in enumerate(trits[:242].tolist()))
    digest = keccak384((value % (1 << 384)).to_bytes(48, "big"))
    number = int.from_bytes(digest, "big", signed=True)
    out = np.zeros(HASH_TRITS, dtype=np.int8)
    magnitude = abs(number)
    for i in range(HASH_TRITS):
        remainder = magnitude % 3
        magnitude //= 3
        if remainder == 2:
            remainder = -1
            magnitude += 1
        out[i] = remainder if number >= 0 else -remainder
    out[242] = 0
    return out


def bench_curl() -> tuple[float, float]:
    transactions = RNG.integers(-1, 2, (4096, 8019)).astype(np.int8)
    batched = best_rate(lambda: curl.curl_hash_batch(transactions).shape[0])

    def single() -> int:
        for row in transactions[:150]:
            curl.curl_hash(row)
        return 150

    return batched, best_rate(single)


def bench_kerl() -> tuple[float, float]:
    blocks = RNG.integers(-1, 2, (20000, HASH_TRITS)).astype(np.int8)

    def single_calls() -> int:
        for block in blocks:
            kerl.kerl_hash(block)
        return blocks.shape[0]

    def reference() -> int:
        for block in blocks[:1000]:
            _reference_kerl_block(block)
        return 1000

    assert np.array_equal(_reference_kerl_block(blocks[0]), kerl.kerl_hash(blocks[0]))
    return best_rate(single_calls), best_rate(reference)


def bench_wots() -> tuple[float, float]:
    seed = RNG.integers(-1, 2, HASH_TRITS).astype(np.int8)
    key = wots.private_key(wots.subseed(seed, 0), 2)
    address = wots.address_from_digests(wots.key_digests(key))
    bundle_hash = RNG.integers(-1, 2, HASH_TRITS).astype(np.int8)
    signature = wots.sign(key, bundle_hash)
    assert wots.verify(address, bundle_hash, signature)

    def verify() -> int:
        for _ in range(50):
            wots.verify(address, bundle_hash, signature)
        return 50

    normalized = wots.normalize(bundle_hash)
    counts = np.concatenate([normalized[:27], normalized[27:54]]) + 13

    def reference() -> int:
        chunks = signature.reshape(-1, HASH_TRITS)
        digests = []
        for fragment in range(2):
            hashed = []
            for j in range(27):
                value = chunks[27 * fragment + j]
                for _ in range(int(counts[27 * fragment + j])):
                    sponge = kerl.Kerl()
                    sponge.absorb(value)
                    value = sponge.squeeze()
                hashed.append(value)
            sponge = kerl.Kerl()
            sponge.absorb(np.concatenate(hashed))
            digests.append(sponge.squeeze())
        sponge = kerl.Kerl()
        sponge.absorb(np.concatenate(digests))
        assert np.array_equal(sponge.squeeze(), address)
        return 1

    return 1000.0 / best_rate(verify), 1000.0 / best_rate(reference, repeats=2)


def bench_pow(mwm: int = 9, count: int = 40) -> tuple[float, float]:
    transactions = RNG.integers(-1, 2, (count, 8019)).astype(np.int8)
    pow.attach(transactions[0], mwm)  # warm-up
    start = time.perf_counter()
    for tx in transactions:
        pow.attach(tx, mwm)
    mean = (time.perf_counter() - start) / count
    # Scalar baseline: re-hash the last block from the mid-state for one nonce at a time.
    sponge = curl.CurlSponge()
    sponge.absorb(transactions[0][:7776])
    mid = sponge.state()

    def scalar_tries() -> int:
        for _ in range(300):
            trial = curl.CurlSponge()
            trial._state[:] = mid
            trial.absorb(transactions[0][7776:])
            pow.weight_magnitude(trial.squeeze())
        return 300

    expected_tries = 3.0**mwm
    return mean, expected_tries / best_rate(scalar_tries, repeats=2)


def main() -> None:
    curl_batched, curl_single = bench_curl()
    kerl_rate, kerl_reference = bench_kerl()
    verify_ms, verify_reference_ms = bench_wots()
    pow_mean, pow_scalar = bench_pow()
    figures = {
        "curl_p81_tx_per_s": round(curl_batched),
        "curl_p81_baseline_tx_per_s": round(curl_single),
        "kerl_per_s": round(kerl_rate),
        "kerl_baseline_per_s": round(kerl_reference),
        "wots_verify_sec2_ms": round(verify_ms, 3),
        "wots_verify_sec2_baseline_ms": round(verify_reference_ms, 3),
        "pow_mwm9_mean_s": round(pow_mean, 4),
        "pow_mwm9_baseline_projected_s": round(pow_scalar, 3),
    }
    rows = [
        (
            "Curl-P-81, 2673-tryte tx/s (batched)",
            f"{curl_batched:,.0f}",
            f"{curl_single:,.0f}",
            f"{curl_batched / curl_single:.1f}x",
        ),
        (
            "Kerl absorb+squeeze 1 block /s",
            f"{kerl_rate:,.0f}",
            f"{kerl_reference:,.0f}",
            f"{kerl_rate / kerl_reference:.1f}x",
        ),
        (
            "WOTS verify, security 2 (ms)",
            f"{verify_ms:.2f}",
            f"{verify_reference_ms:.2f}",
            f"{verify_reference_ms / verify_ms:.1f}x",
        ),
        (
            "PoW MWM 9, mean s/tx",
            f"{pow_mean:.4f}",
            f"{pow_scalar:.3f} (projected)",
            f"{pow_scalar / pow_mean:.1f}x",
        ),
    ]
    report("pyri crypto, one core", rows, figures)


if __name__ == "__main__":
    main()
