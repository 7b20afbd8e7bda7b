"""getTips (iri-api-reference §4.6)."""

from __future__ import annotations

from collections.abc import Callable

from tests.api.client import Response
from tests.api.conftest import INVALID_TIP, NON_TAIL, OVERDRAFT_TIP, TRANSFER_TIP, UNSOLID_TIP


def test_tips(api: Callable[..., Response]) -> None:
    body = api("getTips").without_duration()
    assert list(body) == ["hashes"]
    assert sorted(body["hashes"]) == sorted(
        [TRANSFER_TIP, OVERDRAFT_TIP, UNSOLID_TIP, INVALID_TIP, NON_TAIL]
    )
