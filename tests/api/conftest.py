"""A small tangle in the fake backend, and the app over it.

Ledger: snapshot 100 (null hash, as a genesis snapshot), then milestones 101 and 102.
Unconfirmed: a transfer of 50 from RICH to OTHER under tip TRANSFER_TIP; an overdraft of POOR
under OVERDRAFT_TIP; an unsolid tip; an invalid bundle's tip.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pyri.api import ApiConfig, create_app
from pyri.api.app import ASGIApp
from pyri.api.fake_backend import FakeBackend, FakeTransaction
from pyri.trinary import int_to_trytes
from tests.api.client import Response, call

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def h(name: str) -> str:
    """An 81-tryte hash or address spelled from a readable name."""
    return (name + "9" * 81)[:81]


def numbered(i: int) -> str:
    """The i-th of many distinct addresses."""
    return h("ADDRESS" + int_to_trytes(i, 9))


RICH = h("RICH")
OTHER = h("OTHER")
POOR = h("POOR")
EMPTY = h("EMPTY")
M101 = h("MILESTONE9ONE")
M102 = h("MILESTONE9TWO")
BUNDLE = h("BUNDLE")
TRANSFER_TIP = h("TRANSFER9TIP")
SPEND = h("SPEND")
RECEIVE = h("RECEIVE")
OVERDRAFT_TIP = h("OVERDRAFT")
UNSOLID_TIP = h("UNSOLID")
INVALID_TIP = h("INVALID")
CONFIRMED = h("CONFIRMED")
NON_TAIL = h("NONTAIL")
UNKNOWN = h("UNKNOWN")
TAG = "PYRI9TAG" + "9" * 19
OLD_TAG = "OBSOLETE" + "9" * 19


def make_backend() -> FakeBackend:
    backend = FakeBackend(snapshot_index=100, snapshot_balances={RICH: 1000, OTHER: 5})
    backend.apply_milestone(M101, {RICH: -100, OTHER: 100})
    backend.apply_milestone(M102, {})
    backend.add(
        FakeTransaction(CONFIRMED, address=RICH, confirmed_by=101, tag=TAG),
        FakeTransaction(SPEND, address=RICH, value=-50, bundle=BUNDLE, trunk=CONFIRMED),
        FakeTransaction(
            RECEIVE, address=OTHER, value=50, bundle=BUNDLE, current_index=1, trunk=SPEND
        ),
        FakeTransaction(TRANSFER_TIP, trunk=RECEIVE, branch=CONFIRMED, tag=TAG),
        FakeTransaction(OVERDRAFT_TIP, address=POOR, value=-1, obsolete_tag=OLD_TAG),
        FakeTransaction(UNSOLID_TIP, solid=False),
        FakeTransaction(INVALID_TIP, valid=False),
        FakeTransaction(NON_TAIL, current_index=2),
    )
    backend.spent.add(POOR)
    backend.missing.append(h("MISSING"))
    return backend


@pytest.fixture
def backend() -> FakeBackend:
    return make_backend()


@pytest.fixture
def make_app(backend: FakeBackend) -> Callable[..., ASGIApp]:
    def make(**settings: Any) -> ASGIApp:
        settings.setdefault("openapi_path", OPENAPI)
        return create_app(backend, ApiConfig(**settings))

    return make


@pytest.fixture
def app(make_app: Callable[..., ASGIApp]) -> ASGIApp:
    return make_app()


@pytest.fixture
def api(app: ASGIApp) -> Callable[..., Response]:
    """``api("getBalances", addresses=[...])`` -> Response."""

    def send(command: str, **params: Any) -> Response:
        return call(app, command, **params)

    return send


def error(response: Response, status: int = 400) -> str:
    """The error message of a response that must be ``{"error": ..., "duration": n}``."""
    assert response.status == status, (response.status, response.body)
    body = response.without_duration()
    assert list(body) == ["error"], body
    message = body["error"]
    assert isinstance(message, str)
    return message
