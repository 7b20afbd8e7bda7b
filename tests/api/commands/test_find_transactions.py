"""findTransactions (iri-api-reference §4.8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pyri.api.app import ASGIApp
from pyri.crypto.checksum import add_checksum
from pyri.trinary import NULL_HASH
from tests.api.client import Response, call
from tests.api.conftest import (
    BUNDLE,
    CONFIRMED,
    OLD_TAG,
    OTHER,
    OVERDRAFT_TIP,
    RECEIVE,
    RICH,
    SPEND,
    TAG,
    TRANSFER_TIP,
    UNKNOWN,
    error,
)

Api = Callable[..., Response]


def hashes(api: Api, **params: Any) -> list[str]:
    response = api("findTransactions", **params)
    assert response.status == 200, response.body
    body = response.without_duration()
    assert list(body) == ["hashes"]
    result: list[str] = body["hashes"]
    assert len(result) == len(set(result))
    return sorted(result)


def test_by_address(api: Api) -> None:
    assert hashes(api, addresses=[RICH]) == sorted([CONFIRMED, SPEND])
    assert hashes(api, addresses=[add_checksum(RICH), RICH]) == sorted([CONFIRMED, SPEND])


def test_by_bundle(api: Api) -> None:
    assert hashes(api, bundles=[BUNDLE]) == sorted([SPEND, RECEIVE])


def test_by_approvee(api: Api) -> None:
    # Direct approvers only.
    assert hashes(api, approvees=[CONFIRMED]) == sorted([SPEND, TRANSFER_TIP])


def test_intersection_across_criteria(api: Api) -> None:
    assert hashes(api, addresses=[RICH], bundles=[BUNDLE]) == [SPEND]
    assert hashes(api, addresses=[RICH, OTHER], bundles=[BUNDLE]) == sorted([SPEND, RECEIVE])
    assert hashes(api, addresses=[RICH], bundles=[BUNDLE], approvees=[UNKNOWN]) == []
    assert hashes(api, addresses=[], bundles=[BUNDLE]) == []


@pytest.mark.parametrize("tag", [TAG, TAG.rstrip("9"), TAG + "9" * 54])
def test_by_tag_padded(api: Api, tag: str) -> None:
    assert hashes(api, tags=[tag]) == sorted([CONFIRMED, TRANSFER_TIP])


def test_obsolete_tag_only_when_no_tag_matches(api: Api) -> None:
    assert hashes(api, tags=[OLD_TAG[:8]]) == [OVERDRAFT_TIP]
    assert hashes(api, tags=[OLD_TAG, TAG]) == sorted([CONFIRMED, TRANSFER_TIP])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {},
            "Invalid parameters: give at least one of 'bundles', 'addresses', 'tags', 'approvees'",
        ),
        (
            {"hashes": [SPEND]},
            "Invalid parameters: give at least one of 'bundles', 'addresses', 'tags', 'approvees'",
        ),
        ({"bundles": [NULL_HASH]}, "Invalid bundles input: bundles[0] is the null hash (81 nines)"),
        (
            {"addresses": [RICH, NULL_HASH]},
            "Invalid addresses input: addresses[1] is the null hash (81 nines)",
        ),
        (
            {"approvees": ["X"]},
            "Invalid approvees input: approvees[0] must be 81 trytes long, got 1",
        ),
        (
            {"addresses": [RICH + "AAAAAAAAA"]},
            f"Invalid addresses input: addresses[0] has an invalid checksum: {RICH}AAAAAAAAA",
        ),
        (
            {"bundles": None},
            "Invalid bundles input: 'bundles' must be an array of strings, got null",
        ),
        ({"tags": [""]}, "Invalid tag input: tags[0] is empty or all nines"),
        ({"tags": ["999"]}, "Invalid tag input: tags[0] is empty or all nines"),
        ({"tags": ["999", NULL_HASH]}, "Invalid tags input: tags[1] is the null hash (81 nines)"),
        (
            {"tags": ["abc"]},
            "Invalid tags input: tags[0] holds 'a' at position 0, which is not a tryte (9, A-Z)",
        ),
        (
            {"tags": [1]},
            "Invalid tags input: tags[0] must be a string of at most 27 trytes, got a number",
        ),
        (
            {"tags": ["A" * 82]},
            "Invalid tags input: tags[0] must be at most 27 trytes long, got 82",
        ),
        (
            {"tags": ["A" * 28]},
            "Invalid tags input: tags[0] must be at most 27 trytes long (or padded with 9), got 28",
        ),
        ({"tags": "TAG"}, "Invalid tags input: 'tags' must be an array of strings, got a string"),
        (
            {"tags": [TAG] * 1001},
            "Could not complete request: 'tags' holds 1001 elements, more "
            "than the limit of 1000 (--max-requests-list)",
        ),
    ],
)
def test_bad_parameters(api: Api, params: dict[str, Any], message: str) -> None:
    assert error(api("findTransactions", **params)) == message


def test_result_limit(make_app: Callable[..., ASGIApp]) -> None:
    app = make_app(max_find_transactions=1)
    assert call(app, "findTransactions", bundles=[BUNDLE], addresses=[RICH]).status == 200
    assert error(call(app, "findTransactions", bundles=[BUNDLE])) == (
        "Could not complete request: 2 transactions match, more than the limit of 1 "
        "(--max-find-transactions)"
    )
