"""pyri.model.transaction against the shared transaction vectors (and the milestone tails)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyri.crypto.pow import weight_magnitude
from pyri.errors import TrinaryError
from pyri.model.transaction import (
    ADDRESS_LAST_TRIT,
    ESSENCE,
    LAYOUT,
    TRANSACTION_TRYTES,
    Transaction,
    parse_batch,
)
from pyri.trinary import ALPHABET, int_to_trytes, max_value, trytes_to_trits
from tests.vectors import cases, load_vectors

TRANSACTIONS = cases("transactions")
MILESTONE_TAILS = cases("milestones", kind="milestone")


def all_cases() -> list[dict[str, Any]]:
    """Every transaction case (inside a test, so that missing vectors skip just that test)."""
    found: list[dict[str, Any]] = load_vectors("transactions")["cases"]
    return found


# Vector field name (IRI's JSON name) -> Transaction attribute.
ATTRIBUTES = {
    "signatureMessageFragment": "signature_message_fragment",
    "address": "address",
    "value": "value",
    "obsoleteTag": "obsolete_tag",
    "timestamp": "timestamp",
    "currentIndex": "current_index",
    "lastIndex": "last_index",
    "bundle": "bundle",
    "trunkTransaction": "trunk_transaction",
    "branchTransaction": "branch_transaction",
    "tag": "tag",
    "attachmentTimestamp": "attachment_timestamp",
    "attachmentTimestampLowerBound": "attachment_timestamp_lower_bound",
    "attachmentTimestampUpperBound": "attachment_timestamp_upper_bound",
    "nonce": "nonce",
}


def field_values(tx: Transaction) -> dict[str, object]:
    return {name: getattr(tx, attribute) for name, attribute in ATTRIBUTES.items()}


def test_layout_matches_the_vectors_format() -> None:
    layout = load_vectors("transactions")["format"]["layout"]
    expected = [(f["field"], f["tryte_offset"], f["trytes"]) for f in layout]
    assert [(f.name, f.offset, f.length) for f in LAYOUT] == expected
    assert sum(f.length for f in LAYOUT) == TRANSACTION_TRYTES


@pytest.mark.parametrize("case", TRANSACTIONS)
def test_vector_parses_to_its_fields_and_hash(case: dict[str, Any]) -> None:
    tx = Transaction.from_trytes(case["trytes"])

    assert field_values(tx) == case["fields"]
    assert tx.hash == case["hash"]
    assert tx.weight_magnitude == case["hash_trailing_zero_trits"]
    assert tx.trytes == case["trytes"]


@pytest.mark.parametrize("case", TRANSACTIONS)
def test_vector_derived_values(case: dict[str, Any]) -> None:
    tx = Transaction.from_trytes(case["trytes"])
    trits = trytes_to_trits(case["trytes"])

    assert np.array_equal(tx.trits(), trits)
    assert tx.essence == case["trytes"][2187:2349]
    assert np.array_equal(tx.essence_trits(), trits[6561:7047])
    assert tx.address_last_trit == trits[ADDRESS_LAST_TRIT] == trits[6803]
    # Every real transaction keeps the upper 48 value trits at zero.
    assert tx.value_high_trits_zero
    assert weight_magnitude(trytes_to_trits(tx.hash)) == case["hash_trailing_zero_trits"]


def test_batch_parse_equals_single_parse() -> None:
    vectors = all_cases()
    batch = parse_batch([case["trytes"] for case in vectors])

    assert len(batch) == len(vectors)
    for tx, case in zip(batch, vectors, strict=True):
        single = Transaction.from_trytes(case["trytes"])
        assert isinstance(tx, Transaction)
        # Equality looks at the trytes only, so compare every parsed field explicitly.
        assert dataclasses.astuple(tx) == dataclasses.astuple(single)


def test_batch_of_odd_and_even_sizes() -> None:
    # The converter reads trytes in pairs; an odd total length must not shift or lose a trit.
    vectors = all_cases()
    for size in (1, 2, 3, 65):
        chosen = [vectors[i % len(vectors)] for i in range(size)]
        results = parse_batch([case["trytes"] for case in chosen])
        assert [r.hash if isinstance(r, Transaction) else r for r in results] == [
            case["hash"] for case in chosen
        ]


@pytest.mark.parametrize("case", MILESTONE_TAILS)
def test_milestone_index_from_the_obsolete_tag(case: dict[str, Any]) -> None:
    tail = Transaction.from_trytes(case["trytes"][0])

    assert tail.milestone_index == case["milestone_index"]
    assert tail.hash == case["transaction_hashes"][0]


def test_milestone_index_is_a_signed_15_trit_integer() -> None:
    base = all_cases()[0]["trytes"]
    for index in (0, 1, 434_525, max_value(15), -1, -max_value(15)):
        # The 15 trits are the first 5 trytes of the obsoleteTag; the 22 after them must not count.
        trytes = base[:2295] + int_to_trytes(index, 5) + "M" * 22 + base[2322:]
        assert Transaction.from_trytes(trytes).milestone_index == index


def test_value_high_trits_and_address_last_trit_are_read_from_the_raw_trits() -> None:
    base = all_cases()[0]["trytes"]
    # Tryte 2279 starts value trit 33 (tx trit 6837); "A" sets that trit to +1.
    high = Transaction.from_trytes(base[:2279] + "A" + base[2280:])
    assert not high.value_high_trits_zero
    assert high.value == Transaction.from_trytes(base).value  # IRI reads 33 trits only
    # Tryte 2294 ends the value field (tx trit 6884); "I" is trits (0, 0, 1).
    assert not Transaction.from_trytes(base[:2294] + "I" + base[2295:]).value_high_trits_zero
    # Tryte 2267 ends the address; "I" makes its trit 242 +1, "R" makes it -1.
    assert Transaction.from_trytes(base[:2267] + "I" + base[2268:]).address_last_trit == 1
    assert Transaction.from_trytes(base[:2267] + "R" + base[2268:]).address_last_trit == -1


def test_weight_magnitude_counts_trailing_zero_trits() -> None:
    assert weight_magnitude(np.zeros(243, dtype=np.int8)) == 243
    last = np.zeros(243, dtype=np.int8)
    last[242] = -1
    assert weight_magnitude(last) == 0
    first = np.zeros(243, dtype=np.int8)
    first[0] = 1
    assert weight_magnitude(first) == 242
    # Each trailing 9 gives three; before them "I" (0, 0, 1) adds none, "C" (0, 1, 0) one and
    # "A" (1, 0, 0) two.
    assert weight_magnitude(trytes_to_trits("A" * 77 + "I999")) == 9
    assert weight_magnitude(trytes_to_trits("A" * 77 + "C999")) == 10
    assert weight_magnitude(trytes_to_trits("A" * 77 + "A999")) == 11


def test_transaction_is_immutable() -> None:
    trytes = all_cases()[0]["trytes"]
    tx = Transaction.from_trytes(trytes)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tx.value = 5  # type: ignore[misc]
    trits = tx.trits()
    with pytest.raises(ValueError):
        trits[0] = 1
    assert Transaction.from_trytes(trytes) == tx
    assert hash(Transaction.from_trytes(trytes)) == hash(tx)
    assert tx.hash in repr(tx) and tx.trytes not in repr(tx)


@pytest.mark.parametrize(
    ("trytes", "message"),
    [
        ("A" * 2672, "transaction trytes must be 2673 trytes long, got 2672"),
        ("A" * 2674, "transaction trytes must be 2673 trytes long, got 2674"),
        ("", "transaction trytes must be 2673 trytes long, got 0"),
        ("A" * 2672 + "a", "transaction trytes holds 'a', which is not a tryte (9, A-Z)"),
        ("0" + "A" * 2672, "transaction trytes holds '0', which is not a tryte (9, A-Z)"),
        ("A" * 1000 + "É" + "A" * 1672, "transaction trytes holds 'É', which is not a tryte"),
        (None, "transaction trytes must be a string of trytes, not NoneType"),
        (["A"] * 2673, "transaction trytes must be a string of trytes, not list"),
    ],
)
def test_invalid_trytes_raise_naming_the_problem(trytes: Any, message: str) -> None:
    with pytest.raises(TrinaryError) as info:
        Transaction.from_trytes(trytes)
    assert str(info.value).startswith(message)


def test_batch_puts_errors_in_place_and_parses_the_rest() -> None:
    vectors = all_cases()[:3]
    good = [case["trytes"] for case in vectors]
    items: list[object] = [good[0], "A" * 10, good[1], good[2][:-1] + "*", 42, good[2]]

    results = parse_batch(items, name="trytes")

    assert [type(r) for r in results] == [
        Transaction,
        TrinaryError,
        Transaction,
        TrinaryError,
        TrinaryError,
        Transaction,
    ]
    assert [r.hash for r in results if isinstance(r, Transaction)] == [
        case["hash"] for case in vectors
    ]
    errors = [str(r) for r in results if isinstance(r, TrinaryError)]
    assert errors[0].startswith("trytes[1] must be 2673 trytes long, got 10")
    assert errors[1].startswith("trytes[3] holds '*', which is not a tryte (9, A-Z)")
    assert errors[2] == "trytes[4] must be a string of trytes, not int"


def test_empty_batch() -> None:
    assert parse_batch([]) == []


@settings(max_examples=25, deadline=None)
@given(
    timestamp=st.integers(-max_value(27), max_value(27)),
    current_index=st.integers(-max_value(27), max_value(27)),
    value=st.integers(-max_value(33), max_value(33)),
    attachment=st.integers(-max_value(27), max_value(27)),
    filler=st.text(alphabet=ALPHABET, min_size=1, max_size=1),
)
def test_integer_fields_round_trip(
    timestamp: int, current_index: int, value: int, attachment: int, filler: str
) -> None:
    trytes = (
        filler * ESSENCE.offset
        + "9" * 81  # address
        + int_to_trytes(value, 27)
        + filler * 27  # obsoleteTag
        + int_to_trytes(timestamp, 9)
        + int_to_trytes(current_index, 9)
        + int_to_trytes(-current_index, 9)
        + filler * (2619 - 2349)
        + int_to_trytes(attachment, 9)
        + int_to_trytes(-attachment, 9)
        + int_to_trytes(timestamp, 9)
        + filler * 27
    )
    [tx] = parse_batch([trytes])

    assert isinstance(tx, Transaction)
    assert tx.trytes == trytes
    assert (tx.value, tx.timestamp, tx.current_index, tx.last_index) == (
        value,
        timestamp,
        current_index,
        -current_index,
    )
    assert (
        tx.attachment_timestamp,
        tx.attachment_timestamp_lower_bound,
        tx.attachment_timestamp_upper_bound,
    ) == (attachment, -attachment, timestamp)
    assert tx.value_high_trits_zero
    assert tx.weight_magnitude == weight_magnitude(trytes_to_trits(tx.hash))


@pytest.mark.parametrize("case", cases("transactions"))
def test_parse_stored_equals_parse(case: dict[str, Any]) -> None:
    from pyri.model.transaction import parse_stored

    (parsed,) = parse_batch([case["trytes"]])
    assert isinstance(parsed, Transaction)
    (stored,) = parse_stored([case["trytes"]], [parsed.hash])
    for field in dataclasses.fields(Transaction):
        assert getattr(stored, field.name) == getattr(parsed, field.name), field.name
