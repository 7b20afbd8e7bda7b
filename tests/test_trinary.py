"""pyri.trinary against converter.json, plus round trips and validation errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyri import trinary
from pyri.errors import TrinaryError
from tests.vectors import cases

trytes_text = st.text(alphabet=trinary.ALPHABET, max_size=300)
trit_lists = st.lists(st.integers(-1, 1), max_size=600)


@pytest.mark.parametrize("case", cases("converter", "tryte"))
def test_tryte_table(case: dict[str, Any]) -> None:
    assert trinary.trytes_to_trits(case["tryte"]).tolist() == case["trits"]
    assert trinary.trits_to_trytes(case["trits"]) == case["tryte"]
    assert trinary.tryte_values(case["tryte"]).tolist() == [int(case["value"])]


@pytest.mark.parametrize("case", cases("converter", "trytes_trits"))
def test_trytes_trits(case: dict[str, Any]) -> None:
    trits = case["trits"]
    if len(trits) % 3 == 0:
        assert trinary.trytes_to_trits(case["trytes"]).tolist() == trits
    # A trit count that is not a multiple of 3 is zero-padded into the last tryte.
    assert trinary.trits_to_trytes(trits) == case["trytes"]


@pytest.mark.parametrize("case", cases("converter", "integer"))
def test_integers(case: dict[str, Any]) -> None:
    value = int(case["value"])
    assert trinary.int_to_trits(value).tolist() == case["trits"]
    assert trinary.trits_to_int(case["trits"]) == value
    if case.get("field_27_trytes"):
        assert trinary.int_to_trytes(value, 27) == case["field_27_trytes"]
        assert trinary.trytes_to_int(case["field_27_trytes"]) == value
    if case.get("field_9_trytes"):
        assert trinary.int_to_trytes(value, 9) == case["field_9_trytes"]
        assert trinary.trytes_to_int(case["field_9_trytes"]) == value


@pytest.mark.parametrize("case", cases("converter", "value_field"))
def test_value_fields(case: dict[str, Any]) -> None:
    assert trinary.trytes_to_int(case["field_27_trytes"]) == int(case["value"])


@pytest.mark.parametrize("case", cases("converter", "bytes_trytes"))
def test_bytes_trytes(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["bytes_hex"])
    if case["direction"] in ("both", "encode"):
        assert trinary.bytes_to_trytes(data) == case["trytes"]
    if case["direction"] in ("both", "decode"):
        assert trinary.trytes_to_bytes(case["trytes"]) == data


def test_supply_is_33_trits_of_ones() -> None:
    supply = 2_779_530_283_277_761
    assert trinary.max_value(33) == supply
    assert trinary.int_to_trits(supply, 33).tolist() == [1] * 33
    with pytest.raises(TrinaryError, match="does not fit in 33"):
        trinary.int_to_trits(supply + 1, 33)


@given(trytes_text)
def test_trytes_round_trip(text: str) -> None:
    assert trinary.trits_to_trytes(trinary.trytes_to_trits(text)) == text


@given(st.integers(min_value=-(3**60), max_value=3**60), st.integers(0, 10))
def test_int_round_trip(value: int, extra: int) -> None:
    shortest = trinary.int_to_trits(value)
    assert trinary.trits_to_int(shortest) == value
    padded = trinary.int_to_trits(value, shortest.shape[0] + extra)
    assert trinary.trits_to_int(padded) == value


@given(trit_lists)
def test_bytes_round_trip(trits: list[int]) -> None:
    array = np.array(trits, dtype=np.int8)
    packed = trinary.trits_to_bytes(array)
    assert len(packed) == trinary.packed_length(len(trits))
    assert trinary.bytes_to_trits(packed, len(trits)).tolist() == trits


def test_transaction_packs_into_1604_bytes() -> None:
    assert trinary.packed_length(8019) == 1604
    assert trinary.packed_length(243) == 49


def test_batch_matches_single() -> None:
    rows = ["ABC", "9ZN", "MMM"]
    matrix = trinary.trytes_batch_to_trits(rows, 3)
    assert [trinary.trits_to_trytes(r) for r in matrix] == rows
    assert trinary.trits_batch_to_trytes(matrix) == rows


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ABc", "holds 'c', which is not a tryte"),
        ("AB1", "holds '1', which is not a tryte"),
        ("ÄBC", "holds 'Ä', which is not a tryte"),
        (42, "must be a string of trytes, not int"),
    ],
)
def test_invalid_trytes_name_the_problem(value: object, message: str) -> None:
    with pytest.raises(TrinaryError, match=message):
        trinary.validate_trytes(value, name="trytes")
    if isinstance(value, str):
        with pytest.raises(TrinaryError, match=message):
            trinary.trytes_to_trits(value)


def test_hash_length_is_checked_and_named() -> None:
    with pytest.raises(TrinaryError, match="address must be 81 trytes long, got 80"):
        trinary.validate_hash("A" * 80, "address")
    assert trinary.validate_hash("A" * 81) == "A" * 81


def test_invalid_packed_bytes() -> None:
    with pytest.raises(TrinaryError, match=r"outside -121\.\.121"):
        trinary.bytes_to_trits(bytes([122]), 5)
    with pytest.raises(TrinaryError, match="cannot hold"):
        trinary.bytes_to_trits(b"", 5)


def test_trits_validation() -> None:
    with pytest.raises(TrinaryError, match=r"outside -1\.\.1"):
        trinary.validate_trits([0, 2, 1])
    with pytest.raises(TrinaryError, match="must be 3 trits long"):
        trinary.validate_trits([0, 1], 3)


def test_inputs_are_not_mutated() -> None:
    trits = np.array([1, -1, 0, 1], dtype=np.int8)
    before = trits.copy()
    trinary.trits_to_trytes(trits)
    trinary.trits_to_bytes(trits)
    trinary.trits_to_int(trits)
    assert np.array_equal(trits, before)
