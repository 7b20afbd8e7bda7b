"""getNodeInfo (iri-api-reference §4.1)."""

from __future__ import annotations

from collections.abc import Callable

from pyri.api.app import ASGIApp
from tests.api.client import Response, call
from tests.api.conftest import M102

FIELDS = {
    "appName": str,
    "appVersion": str,
    "jreAvailableProcessors": int,
    "jreFreeMemory": int,
    "jreVersion": str,
    "jreMaxMemory": int,
    "jreTotalMemory": int,
    "latestMilestone": str,
    "latestMilestoneIndex": int,
    "latestSolidSubtangleMilestone": str,
    "latestSolidSubtangleMilestoneIndex": int,
    "milestoneStartIndex": int,
    "lastSnapshottedMilestoneIndex": int,
    "neighbors": int,
    "packetsQueueSize": int,
    "time": int,
    "tips": int,
    "transactionsToRequest": int,
    "features": list,
    "coordinatorAddress": str,
    "dbSizeInBytes": int,
    "duration": int,
}


def test_fields_order_and_types(api: Callable[..., Response]) -> None:
    body = api("getNodeInfo").json()
    assert list(body) == list(FIELDS)
    for name, kind in FIELDS.items():
        assert type(body[name]) is kind, name
    assert body["latestSolidSubtangleMilestone"] == M102
    assert body["latestSolidSubtangleMilestoneIndex"] == 102
    assert body["lastSnapshottedMilestoneIndex"] == 100
    assert body["features"] == ["dnsRefresher", "WereAddressesSpentFrom"]


def test_features_follow_the_remote_limit(make_app: Callable[..., ASGIApp]) -> None:
    app = make_app(remote_limit_api=frozenset({"wereAddressesSpentFrom", "attachToTangle"}))
    assert call(app, "getNodeInfo").json()["features"] == ["dnsRefresher"]
    # pyri has no attachToTangle, so RemotePOW is never advertised.
    app = make_app(remote_limit_api=frozenset())
    assert "RemotePOW" not in call(app, "getNodeInfo").json()["features"]


def test_unknown_parameters_are_ignored(api: Callable[..., Response]) -> None:
    assert api("getNodeInfo", addresses="x", extra=[1, 2]).status == 200
