"""Kerl against kerl.json (hash, byte conversion, Keccak-384), plus the sponge interface."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyri.crypto.keccak import keccak384
from pyri.crypto.kerl import (
    Kerl,
    kerl_bytes_to_trits,
    kerl_chains,
    kerl_hash,
    kerl_hash_rows,
    trits_to_kerl_bytes,
)
from pyri.errors import CryptoError
from pyri.trinary import trits_to_trytes, trytes_to_trits
from tests.vectors import cases


@pytest.mark.parametrize("case", cases("kerl", "kerl_hash"))
def test_kerl_hash(case: dict[str, Any]) -> None:
    trits = trytes_to_trits(case["input_trytes"])
    squeezes = case["squeezes"]
    assert trits_to_trytes(kerl_hash(trits, len(squeezes))) == "".join(squeezes)
    sponge = Kerl()
    sponge.absorb(trits)
    assert [trits_to_trytes(sponge.squeeze()) for _ in squeezes] == squeezes


@pytest.mark.parametrize("case", cases("kerl", "kerl_bytes"))
def test_kerl_bytes(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["bytes_hex"])
    if "trits" in case:  # bytes -> trits
        assert kerl_bytes_to_trits(data).tolist() == case["trits"]
        assert trits_to_trytes(kerl_bytes_to_trits(data)) == case["trytes"]
    else:  # trytes -> bytes
        assert trits_to_kerl_bytes(trytes_to_trits(case["trytes"])) == data


@pytest.mark.parametrize("case", cases("kerl", "keccak384"))
def test_keccak384_uses_original_padding(case: dict[str, Any]) -> None:
    assert keccak384(case["message_utf8"].encode()).hex() == case["keccak384_hex"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-1, 1), min_size=243, max_size=243))
def test_byte_conversion_round_trip_ignores_trit_242(trits: list[int]) -> None:
    array = np.array(trits, dtype=np.int8)
    back = kerl_bytes_to_trits(trits_to_kerl_bytes(array))
    expected = array.copy()
    expected[242] = 0
    assert np.array_equal(back, expected)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=48, max_size=48))
def test_bytes_to_trits_is_the_balanced_residue(data: bytes) -> None:
    # Any 384-bit value maps to its balanced residue mod 3^242 with trit 242 = 0.
    value = int.from_bytes(data, "big", signed=True)
    trits = kerl_bytes_to_trits(data)
    assert trits[242] == 0
    modulus = 3**242
    got = sum(int(t) * 3**i for i, t in enumerate(trits.tolist()))
    assert (got - value) % modulus == 0
    assert abs(got) <= (modulus - 1) // 2


def test_rows_and_chains_match_the_sponge() -> None:
    rows = np.random.default_rng(3).integers(-1, 2, (4, 486)).astype(np.int8)
    hashed = kerl_hash_rows(rows)
    for r in range(4):
        assert np.array_equal(hashed[r], kerl_hash(rows[r]))
    chunks = rows[:, :243]
    chained = kerl_chains(chunks, [0, 1, 2, 5])
    for r, count in enumerate([0, 1, 2, 5]):
        value = chunks[r]
        for _ in range(count):
            value = kerl_hash(value)
        assert np.array_equal(chained[r], value)


def test_absorb_needs_whole_blocks() -> None:
    with pytest.raises(CryptoError, match="whole 243-trit blocks; got 242"):
        kerl_hash(np.zeros(242, np.int8))
    with pytest.raises(CryptoError, match="48 bytes"):
        kerl_bytes_to_trits(b"\x00" * 47)


def test_caller_buffer_keeps_trit_242() -> None:
    trits = np.ones(243, dtype=np.int8)
    kerl_hash(trits)
    Kerl().absorb(trits)
    assert trits[242] == 1
