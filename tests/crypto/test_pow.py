"""Proof of work and weight magnitude."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from pyri.crypto import pow
from pyri.crypto.curl import curl_hash
from pyri.errors import CryptoError
from pyri.trinary import trytes_to_trits
from tests.vectors import cases


@pytest.mark.parametrize("case", cases("transactions"))
def test_weight_magnitude_of_real_hashes(case: dict[str, Any]) -> None:
    assert pow.weight_magnitude(trytes_to_trits(case["hash"])) == int(
        case["hash_trailing_zero_trits"]
    )


def test_weight_magnitude_edges() -> None:
    assert pow.weight_magnitude(np.zeros(243, np.int8)) == 243
    trits = np.zeros(243, np.int8)
    trits[242] = 1
    assert pow.weight_magnitude(trits) == 0
    trits[242] = 0
    trits[230] = -1
    assert pow.weight_magnitude(trits) == 12


@pytest.mark.parametrize("mwm", [0, 1, 5, 9, 11])
def test_nonce_meets_mwm_and_changes_only_the_nonce(mwm: int) -> None:
    tx = np.random.default_rng(mwm).integers(-1, 2, 8019).astype(np.int8)
    before = tx.copy()
    attached = pow.attach(tx, mwm)
    assert np.array_equal(tx, before)
    assert np.array_equal(attached[: pow.NONCE_OFFSET], tx[: pow.NONCE_OFFSET])
    assert pow.weight_magnitude(curl_hash(attached)) >= mwm


def test_different_seeds_give_different_nonces() -> None:
    tx = np.zeros(8019, np.int8)
    first = pow.find_nonce(tx, 6, seed_value=0)
    second = pow.find_nonce(tx, 6, seed_value=10**9)
    assert not np.array_equal(first, second)


def test_bad_arguments() -> None:
    with pytest.raises(CryptoError, match="8019 transaction trits"):
        pow.find_nonce(np.zeros(10, np.int8), 9)
    with pytest.raises(CryptoError, match=r"0\.\.243"):
        pow.find_nonce(np.zeros(8019, np.int8), 244)
