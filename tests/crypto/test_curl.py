"""Curl-P-81 and Curl-P-27: every vector, single and batched, and batched = single always."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pyri.crypto.curl import (
    ROUNDS_P27,
    ROUNDS_P81,
    CurlSponge,
    curl_chain_batch,
    curl_hash,
    curl_hash_batch,
)
from pyri.trinary import trits_to_trytes, trytes_batch_to_trits, trytes_to_trits
from tests.vectors import cases, load_vectors

ROUNDS = {"curl_p81": ROUNDS_P81, "curl_p27": ROUNDS_P27}


@pytest.mark.parametrize("name", ["curl_p81", "curl_p27"])
def test_every_vector_single_and_batched(name: str) -> None:
    vectors = load_vectors(name)["cases"]
    rounds = ROUNDS[name]
    by_shape: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for case in vectors:
        trits = trytes_to_trits(case["input_trytes"])
        length = int(case["output_trits"])
        assert trits_to_trytes(curl_hash(trits, rounds, length)) == case["output_trytes"], case[
            "id"
        ]
        by_shape.setdefault((len(case["input_trytes"]), length), []).append(case)
    # Batched: all inputs of one length in one call, in groups that straddle the 64-lane boundary.
    for (tryte_length, length), group in by_shape.items():
        matrix = trytes_batch_to_trits([c["input_trytes"] for c in group], tryte_length)
        hashed = curl_hash_batch(matrix, rounds, length)
        for row, case in zip(hashed, group, strict=True):
            assert trits_to_trytes(row) == case["output_trytes"], case["id"]


@pytest.mark.parametrize("case", cases("transactions"))
def test_transaction_hashes(case: dict[str, Any]) -> None:
    trits = trytes_to_trits(case["trytes"])
    assert trits_to_trytes(curl_hash(trits)) == case["hash"]
    assert trits_to_trytes(curl_hash_batch(trits.reshape(1, -1))[0]) == case["hash"]


def test_more_than_64_transactions_in_one_batch() -> None:
    vectors = [c for c in load_vectors("transactions")["cases"]]
    rows = (vectors * 5)[:150]  # three lane groups, the last one partly filled
    matrix = trytes_batch_to_trits([c["trytes"] for c in rows], 2673)
    hashes = curl_hash_batch(matrix)
    assert [trits_to_trytes(h) for h in hashes] == [c["hash"] for c in rows]


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([ROUNDS_P27, ROUNDS_P81]),
    st.integers(1, 70),
    st.integers(0, 600),
    st.integers(1, 500),
    st.integers(0, 2**32 - 1),
)
def test_batched_equals_single(rounds: int, rows: int, width: int, out: int, seed: int) -> None:
    matrix = np.random.default_rng(seed).integers(-1, 2, (rows, width)).astype(np.int8)
    batch = curl_hash_batch(matrix, rounds, out)
    for r in range(rows):
        assert np.array_equal(batch[r], curl_hash(matrix[r], rounds, out))


@settings(max_examples=20, deadline=None)
@given(
    hnp.arrays(np.int8, (5, 243), elements=st.integers(-1, 1)),
    st.lists(st.integers(0, 27), min_size=5, max_size=5),
)
def test_chains_equal_repeated_hashing(chunks: np.ndarray, counts: list[int]) -> None:
    chained = curl_chain_batch(chunks, counts, ROUNDS_P27)
    for r, count in enumerate(counts):
        expected = chunks[r]
        for _ in range(count):
            expected = curl_hash(expected, ROUNDS_P27)
        assert np.array_equal(chained[r], expected)


def test_sponge_absorbs_in_pieces_like_one_call() -> None:
    trits = np.random.default_rng(1).integers(-1, 2, 729).astype(np.int8)
    sponge = CurlSponge()
    sponge.absorb(trits[:243])
    sponge.absorb(trits[243:])
    assert np.array_equal(sponge.squeeze(486), curl_hash(trits, ROUNDS_P81, 486))


def test_empty_absorb_still_transforms() -> None:
    # (All-zero states cycle with period 3 and would hide a missing transform; start elsewhere.)
    trits = np.random.default_rng(4).integers(-1, 2, 243).astype(np.int8)
    once, twice = CurlSponge(), CurlSponge()
    once.absorb(trits)
    twice.absorb(trits)
    twice.absorb(np.zeros(0, np.int8))
    assert not np.array_equal(once.squeeze(), twice.squeeze())


def test_inputs_are_not_mutated() -> None:
    matrix = np.random.default_rng(2).integers(-1, 2, (3, 486)).astype(np.int8)
    before = matrix.copy()
    curl_hash(matrix[0])
    curl_hash_batch(matrix)
    curl_chain_batch(matrix[:, :243], [3, 2, 1], ROUNDS_P27)
    assert np.array_equal(matrix, before)


@pytest.mark.parametrize(
    ("rows", "rounds"),
    [(1, 81), (63, 81), (64, 81), (65, 81), (255, 27), (256, 27), (257, 27), (1000, 27)],
)
def test_batched_equals_single_around_lane_group_sizes(rows: int, rounds: int) -> None:
    # Lane groups are 64 rows, packed 8 rows to a byte: sizes on both sides of both boundaries.
    matrix = np.random.default_rng(rows).integers(-1, 2, (rows, 250)).astype(np.int8)
    batch = curl_hash_batch(matrix, rounds)
    for r in range(rows):
        assert np.array_equal(batch[r], curl_hash(matrix[r], rounds)), r


def test_chains_of_more_than_one_lane_group() -> None:
    rng = np.random.default_rng(3)
    chunks = rng.integers(-1, 2, (70, 243)).astype(np.int8)
    counts = rng.integers(0, 27, 70)
    chained = curl_chain_batch(chunks, counts, ROUNDS_P27)
    for r, count in enumerate(counts):
        expected = chunks[r]
        for _ in range(count):
            expected = curl_hash(expected, ROUNDS_P27)
        assert np.array_equal(chained[r], expected), r
