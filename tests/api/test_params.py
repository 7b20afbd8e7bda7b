"""The declarative parameter readers, beyond what the command tests reach."""

from __future__ import annotations

import pytest

from pyri.api.errors import BadRequest
from pyri.api.params import AddressList, OptionalIndex, Threshold, TryteList, json_type
from pyri.api.request import body_length, parse_request
from pyri.crypto.checksum import add_checksum
from tests.api.conftest import RICH


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "null"),
        (True, "a boolean"),
        (1, "a number"),
        (1.5, "a number"),
        ("", "a string"),
        ([], "an array"),
        ({}, "an object"),
    ],
)
def test_json_type(value: object, name: str) -> None:
    assert json_type(value) == name


def test_requests_are_not_modified() -> None:
    request = {"addresses": [add_checksum(RICH), RICH]}
    assert AddressList().read(request, 10) == [RICH, RICH]
    assert request == {"addresses": [add_checksum(RICH), RICH]}


def test_optional_list() -> None:
    tips = TryteList("tips", optional=True)
    assert tips.read({}, 10) == [] and tips.read({"tips": None}, 10) == []
    with pytest.raises(BadRequest, match="Invalid parameters: 'tips' is required"):
        TryteList("tips").read({}, 10)


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 0), (100, 100), ("0100", 100), (1e2, 100), ("000000000007", 7)]
)
def test_threshold_values(value: object, expected: int) -> None:
    assert Threshold().read({"threshold": value}) == expected


@pytest.mark.parametrize("value", ["1" * 5000, "١٠٠", "1_00", "+100", "100 ", float("inf")])
def test_threshold_never_trusts_int(value: object) -> None:
    # int() accepts Unicode digits, underscores and whitespace, and raises on huge strings.
    with pytest.raises(BadRequest, match=r"^Illegal 'threshold'$"):
        Threshold().read({"threshold": value})


def test_optional_index() -> None:
    index = OptionalIndex("milestoneIndex")
    assert index.read({}) is None and index.read({"milestoneIndex": None}) is None
    assert index.read({"milestoneIndex": "2147483647"}) == 2**31 - 1
    with pytest.raises(BadRequest, match="got a string"):
        index.read({"milestoneIndex": "99999999999"})


def test_body_length_counts_utf16_units() -> None:
    assert body_length(b"abc") == 3
    assert body_length("é".encode()) == 1
    assert body_length("😀".encode()) == 2
    assert body_length(b"\xff\xfe") == 2  # each bad byte becomes one U+FFFD


def test_parse_request_keeps_values() -> None:
    assert parse_request(b'{"command":"x","n":1e2,"big":123456789012345678901}') == {
        "command": "x",
        "n": 100.0,
        "big": 1.2345678901234568e20,
    }
