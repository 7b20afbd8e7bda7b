"""checkConsistency (iri-api-reference §4.16)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pyri.api.fake_backend import FakeBackend
from tests.api.client import Response
from tests.api.conftest import (
    INVALID_TIP,
    NON_TAIL,
    OVERDRAFT_TIP,
    SPEND,
    TRANSFER_TIP,
    UNKNOWN,
    UNSOLID_TIP,
    error,
)

Api = Callable[..., Response]


def test_consistent(api: Api) -> None:
    body = api("checkConsistency", tails=[TRANSFER_TIP, SPEND]).json()
    assert list(body) == ["state", "info", "duration"]
    assert body["state"] is True and body["info"] == ""


@pytest.mark.parametrize(
    ("tail", "info"),
    [
        (UNSOLID_TIP, f"tails are not solid (missing a referenced tx): {UNSOLID_TIP}"),
        (INVALID_TIP, f"tails are not consistent (bundle is invalid): {INVALID_TIP}"),
        (
            OVERDRAFT_TIP,
            "tails are not consistent (would lead to inconsistent ledger state or below max depth)",
        ),
    ],
)
def test_inconsistent(api: Api, tail: str, info: str) -> None:
    body = api("checkConsistency", tails=[TRANSFER_TIP, tail]).without_duration()
    assert body == {"state": False, "info": info}


def test_missing_and_non_tail(api: Api) -> None:
    assert error(api("checkConsistency", tails=[UNKNOWN])) == (
        f"Invalid transaction, missing: {UNKNOWN}"
    )
    assert error(api("checkConsistency", tails=[NON_TAIL])) == (
        f"Invalid transaction, not a tail: {NON_TAIL}"
    )


def test_bad_tails_and_sync(api: Api, backend: FakeBackend) -> None:
    assert error(api("checkConsistency", tails=[1])) == (
        "Invalid tails input: tails[0] must be a string of 81 trytes, got a number"
    )
    backend.synchronized = False
    assert error(api("checkConsistency", tails=[TRANSFER_TIP])).startswith(
        "This operation cannot be executed"
    )
