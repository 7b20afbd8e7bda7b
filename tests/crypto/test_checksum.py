"""Address checksums against addresses.json."""

from __future__ import annotations

from typing import Any

import pytest

from pyri.crypto import checksum
from pyri.errors import TrinaryError
from tests.vectors import cases


@pytest.mark.parametrize("case", cases("addresses", "address"))
def test_add_checksum(case: dict[str, Any]) -> None:
    assert checksum.add_checksum(case["address"]) == case["address_with_checksum"]
    assert checksum.strip_checksum(case["address_with_checksum"]) == case["address"]


@pytest.mark.parametrize("case", cases("addresses", "checksum"))
def test_checksum_cases(case: dict[str, Any]) -> None:
    correct = case["correct_address_with_checksum"]
    assert checksum.add_checksum(correct[:81]) == correct
    assert checksum.is_valid_checksum(correct)
    given = case.get("address_with_checksum")
    if given is not None:
        assert checksum.is_valid_checksum(given) is case["checksum_valid"]
        if not case["checksum_valid"]:
            with pytest.raises(TrinaryError, match="invalid checksum"):
                checksum.strip_checksum(given)


def test_wrong_lengths() -> None:
    with pytest.raises(TrinaryError, match="address must be 81 trytes long, got 85"):
        checksum.strip_checksum("A" * 85)
    with pytest.raises(TrinaryError, match="must be 90 trytes long"):
        checksum.is_valid_checksum("A" * 81)
