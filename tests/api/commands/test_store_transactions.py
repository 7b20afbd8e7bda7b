"""storeTransactions (iri-api-reference §4.13, iri-consensus-reference §3.4)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pyri.api.fake_backend import FakeBackend, FakeTransaction, fake_hash
from tests.api.client import Response
from tests.api.conftest import RICH, error, h

Api = Callable[..., Response]


def trytes(name: str, value: int = 0) -> str:
    return FakeTransaction(h(name), address=RICH, value=value).trytes


def bad_value(name: str) -> str:
    good = trytes(name)
    return good[:2290] + "A" + good[2291:]  # a value tryte beyond the 33 usable trits


def test_stores_all(api: Api, backend: FakeBackend) -> None:
    batch = [trytes("ONE"), trytes("TWO", 5)]
    response = api("storeTransactions", trytes=batch)
    assert response.without_duration() == {}
    for text in batch:
        assert fake_hash(text) in backend.transactions
    assert backend.broadcast == []


def test_one_invalid_stores_none(api: Api, backend: FakeBackend) -> None:
    batch = [trytes("ONE"), bad_value("TWO"), bad_value("THREE")]
    before = dict(backend.transactions)
    message = error(api("storeTransactions", trytes=batch))
    assert message == (
        f"Error: Invalid transaction value: trytes[1] (hash {fake_hash(batch[1])}): "
        "value field trits 33..80 are not all zero (a value must fit in 33 trits)"
    )
    assert backend.transactions == before


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Error: Invalid parameters: 'trytes' is required"),
        (
            {"trytes": None},
            "Error: Invalid trytes input: 'trytes' must be an array of strings, got null",
        ),
        (
            {"trytes": ["A" * 2672]},
            "Error: Invalid trytes input: trytes[0] must be 2673 trytes long, got 2672",
        ),
        (
            {"trytes": ["a" * 2673]},
            "Error: Invalid trytes input: trytes[0] holds 'a' at position "
            "0, which is not a tryte (9, A-Z)",
        ),
    ],
)
def test_bad_parameters(api: Api, params: dict[str, object], message: str) -> None:
    assert error(api("storeTransactions", **params)) == message
