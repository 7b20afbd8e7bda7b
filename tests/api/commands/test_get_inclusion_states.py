"""getInclusionStates, IRI 1.8.6 semantics (iri-api-reference §4.10)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pyri.api.fake_backend import FakeBackend
from tests.api.client import Response
from tests.api.conftest import CONFIRMED, SPEND, UNKNOWN, error

Api = Callable[..., Response]
NOT_SYNCED = "This operation cannot be executed: The subtangle has not been updated yet."


def test_states(api: Api) -> None:
    response = api("getInclusionStates", transactions=[CONFIRMED, SPEND, UNKNOWN])
    assert response.without_duration() == {"states": [True, False, False]}


@pytest.mark.parametrize("tips", [[SPEND], [], None, "anything", 5])
def test_tips_are_ignored(api: Api, tips: object) -> None:
    response = api("getInclusionStates", transactions=[CONFIRMED], tips=tips)
    assert response.without_duration() == {"states": [True]}


def test_bad_transactions(api: Api) -> None:
    assert error(api("getInclusionStates")) == "Invalid parameters: 'transactions' is required"
    assert error(api("getInclusionStates", transactions=["x"])) == (
        "Invalid transactions input: transactions[0] holds 'x' at position 0, which is not a "
        "tryte (9, A-Z)"
    )


def test_sync_is_checked_first(api: Api, backend: FakeBackend) -> None:
    backend.synchronized = False
    assert error(api("getInclusionStates", transactions=[CONFIRMED])) == NOT_SYNCED
    assert error(api("getInclusionStates")) == NOT_SYNCED
