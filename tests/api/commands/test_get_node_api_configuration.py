"""getNodeAPIConfiguration (iri-api-reference §4.2)."""

from __future__ import annotations

from collections.abc import Callable

from pyri.api.app import ASGIApp
from tests.api.client import call


def test_defaults(app: ASGIApp) -> None:
    body = call(app, "getNodeAPIConfiguration").without_duration()
    assert body == {
        "maxFindTransactions": 100000,
        "maxRequestsList": 1000,
        "maxGetTrytes": 10000,
        "maxBodyLength": 1000000,
        "testNet": False,
        "milestoneStartIndex": 1050000,
    }


def test_configured_values(make_app: Callable[..., ASGIApp]) -> None:
    app = make_app(max_requests_list=5, testnet=True, milestone_start_index=434525)
    body = call(app, "getNodeAPIConfiguration").json()
    assert body["maxRequestsList"] == 5
    assert body["testNet"] is True
    assert body["milestoneStartIndex"] == 434525
