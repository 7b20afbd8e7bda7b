"""getTrytes (iri-api-reference §4.9)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pyri.api.app import ASGIApp
from pyri.api.fake_backend import FakeBackend
from tests.api.client import Response, call
from tests.api.conftest import SPEND, UNKNOWN, error


def test_known_and_unknown(api: Callable[..., Response], backend: FakeBackend) -> None:
    body = api("getTrytes", hashes=[SPEND, UNKNOWN, SPEND]).without_duration()
    assert body == {
        "trytes": [
            backend.transactions[SPEND].trytes,
            "9" * 2673,
            backend.transactions[SPEND].trytes,
        ]
    }
    assert all(len(t) == 2673 for t in body["trytes"])


def test_empty(api: Callable[..., Response]) -> None:
    assert api("getTrytes", hashes=[]).without_duration() == {"trytes": []}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Invalid parameters: 'hashes' is required"),
        ({"hashes": None}, "Invalid hashes input: 'hashes' must be an array of strings, got null"),
        ({"hashes": ["A"]}, "Invalid hashes input: hashes[0] must be 81 trytes long, got 1"),
        (
            {"hashes": [SPEND + "ABCDEFGHI"]},
            "Invalid hashes input: hashes[0] must be 81 trytes long, got 90",
        ),
    ],
)
def test_bad_hashes(api: Callable[..., Response], params: dict[str, object], message: str) -> None:
    assert error(api("getTrytes", **params)) == message


def test_result_limit(make_app: Callable[..., ASGIApp]) -> None:
    app = make_app(max_get_trytes=2)
    assert call(app, "getTrytes", hashes=[SPEND] * 2).status == 200
    assert error(call(app, "getTrytes", hashes=[SPEND] * 3)) == (
        "Could not complete request: 3 transactions requested, more than the limit of 2 "
        "(--max-get-trytes)"
    )
