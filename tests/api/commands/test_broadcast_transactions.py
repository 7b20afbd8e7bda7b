"""broadcastTransactions (iri-api-reference §4.15)."""

from __future__ import annotations

from collections.abc import Callable

from pyri.api.fake_backend import FakeBackend, fake_hash
from tests.api.client import Response
from tests.api.commands.test_store_transactions import bad_value, trytes
from tests.api.conftest import error


def test_invalid_ones_are_dropped_silently(
    api: Callable[..., Response], backend: FakeBackend
) -> None:
    batch = [trytes("ONE"), bad_value("TWO")]
    assert api("broadcastTransactions", trytes=batch).without_duration() == {}
    assert backend.broadcast == [fake_hash(batch[0])]


def test_bad_parameters(api: Callable[..., Response]) -> None:
    assert error(api("broadcastTransactions", trytes=["9" * 81])) == (
        "Invalid trytes input: trytes[0] must be 2673 trytes long, got 81"
    )
