"""getMissingTransactions (iri-api-reference §4.7)."""

from __future__ import annotations

from collections.abc import Callable

from tests.api.client import Response
from tests.api.conftest import h


def test_missing(api: Callable[..., Response]) -> None:
    assert api("getMissingTransactions").without_duration() == {"hashes": [h("MISSING")]}
