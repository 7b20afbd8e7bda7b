"""wereAddressesSpentFrom (iri-api-reference §4.17)."""

from __future__ import annotations

from collections.abc import Callable

from pyri.crypto.checksum import add_checksum
from tests.api.client import Response
from tests.api.conftest import EMPTY, OTHER, POOR, RICH, error


def test_states(api: Callable[..., Response]) -> None:
    response = api("wereAddressesSpentFrom", addresses=[RICH, OTHER, add_checksum(POOR), EMPTY])
    assert response.without_duration() == {"states": [True, False, True, False]}


def test_bad_addresses(api: Callable[..., Response]) -> None:
    assert error(api("wereAddressesSpentFrom", addresses=7)) == (
        "Invalid addresses input: 'addresses' must be an array of strings, got a number"
    )
