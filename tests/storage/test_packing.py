"""Batch packing agrees with pyri.trinary's one-at-a-time reference for every length."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyri.errors import TrinaryError
from pyri.storage import StorageError
from pyri.storage import packing as p
from pyri.trinary import ALPHABET, Trits, bytes_to_trits, trits_to_bytes, trits_to_trytes

matrices = st.tuples(st.integers(1, 4), st.integers(1, 23), st.integers(0, 2**32 - 1)).map(
    lambda shape: np.random.default_rng(shape[2]).integers(-1, 2, size=shape[:2], dtype=np.int8)
)


@given(matrices)
def test_pack_and_unpack_match_trinary(trits: Trits) -> None:
    rows, length = trits.shape
    packed = p.split_rows(p.pack_trits(trits))
    assert packed == [trits_to_bytes(row) for row in trits]
    unpacked = p.unpack_rows(b"".join(packed), rows, length)
    assert np.array_equal(unpacked, trits)
    assert np.array_equal(unpacked[0], bytes_to_trits(packed[0], length))


@given(st.lists(st.text(alphabet=ALPHABET, min_size=6, max_size=6), min_size=1, max_size=5))
def test_trytes_round_trip_through_packing(trytes: list[str]) -> None:
    packed = p.pack_trytes(trytes, 6)
    assert p.unpack_trytes(packed, 18) == trytes
    assert [trits_to_trytes(bytes_to_trits(item, 18)) for item in packed] == trytes


def test_empty_batches() -> None:
    assert p.pack_trytes([], 81) == []
    assert p.unpack_trytes([], 243) == []


def test_bad_trytes_are_named() -> None:
    with pytest.raises(TrinaryError, match="'ABZ-'"):
        p.pack_trytes(["ABCD", "ABZ-"], 4)
    with pytest.raises(TrinaryError, match="4 trytes"):
        p.pack_trytes(["ABCD", "ABC"], 4)


@given(st.lists(st.integers(-121, 121), min_size=17, max_size=17))
def test_unpack_trytes_drops_padding_trits_as_trinary_does(values: list[int]) -> None:
    record = np.array(values, dtype=np.int8).tobytes()  # 85 trits, only 81 are read
    assert p.unpack_trytes([record], 81) == [trits_to_trytes(bytes_to_trits(record, 81))]


@pytest.mark.parametrize("value", [-128, -122, 122, 127])
def test_unpack_trytes_refuses_bytes_out_of_range(value: int) -> None:
    good = bytes(17)
    bad = good[:16] + np.array([value], dtype=np.int8).tobytes()
    assert p.unpack_trytes([good], 81) == ["9" * 27]
    with pytest.raises(StorageError, match="#1"):
        p.unpack_trytes([good, bad], 81)
    with pytest.raises(StorageError):
        p.unpack_trytes([good, good[:16]], 81)


def test_unpack_refuses_wrong_lengths_and_bytes_out_of_range() -> None:
    with pytest.raises(StorageError):
        p.unpack_rows(bytes(5), 2, 10)
    with pytest.raises(StorageError):
        p.unpack_rows(bytes([0, 0x86]), 1, 10)  # 0x86 = -122
    assert p.unpack_rows(bytes([121, 0x87]), 1, 10).tolist() == [[1] * 5 + [-1] * 5]


def test_split_rows_keeps_trailing_zero_bytes_and_odd_shapes() -> None:
    for rows in (3, 40):  # a few rows are sliced, many made by numpy: the same bytes
        packed = np.zeros((rows, 49), dtype=np.int8)
        packed[1, 0] = 5
        assert p.split_rows(packed) == [bytes(49), b"\x05" + bytes(48)] + [bytes(49)] * (rows - 2)
        assert p.split_rows(packed[:, ::-1]) == [bytes(49), bytes(48) + b"\x05"] + [bytes(49)] * (
            rows - 2
        )
    # A column slice is not contiguous; an empty batch and zero-width rows are still rows.
    wide = np.arange(12, dtype=np.int8).reshape(3, 4)
    assert p.split_rows(wide[:, 1:3]) == [bytes([1, 2]), bytes([5, 6]), bytes([9, 10])]
    assert p.split_rows(np.zeros((0, 49), dtype=np.int8)) == []
    assert p.split_rows(np.zeros((2, 0), dtype=np.int8)) == [b"", b""]
