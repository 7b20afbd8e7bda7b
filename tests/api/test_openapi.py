"""docs/openapi.json: valid OpenAPI 3.1 in outline, every served command in it, and the app's real
answers matching the schemas it documents."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from pyri.api.commands import COMMANDS
from tests.api.client import Response, request
from tests.api.conftest import CONFIRMED, OPENAPI, RICH, TRANSFER_TIP, UNKNOWN
from tests.api.schema import DOCUMENT, SCHEMAS, problems, resolve, response_problems

Api = Callable[..., Response]


def test_outline() -> None:
    assert DOCUMENT["openapi"].startswith("3.1.")
    assert {"title", "version"} <= set(DOCUMENT["info"])
    for path, item in DOCUMENT["paths"].items():
        assert path.startswith("/")
        for operation in item.values():
            assert "responses" in operation and operation["operationId"]
    operation_ids = [
        op["operationId"] for item in DOCUMENT["paths"].values() for op in item.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))


def test_every_reference_resolves() -> None:
    refs = re.findall(rb'"\$ref": "([^"]+)"', OPENAPI.read_bytes())
    assert refs
    for ref in refs:
        resolve({"$ref": ref.decode()})


def test_every_served_command_is_documented() -> None:
    mapping = SCHEMAS["Request"]["discriminator"]["mapping"]
    assert set(mapping) == set(COMMANDS)
    for command in COMMANDS:
        operation = DOCUMENT["paths"][f"/{command}"]["post"]
        assert operation["operationId"] == command
        request_schema = resolve({"$ref": mapping[command]})
        assert request_schema["properties"]["command"] == {"const": command}
        example = operation["requestBody"]["content"]["application/json"]["example"]
        assert example["command"] == command


GOOD_REQUESTS: list[dict[str, Any]] = [
    {"command": "getBalances", "addresses": [RICH], "threshold": 100},
    {"command": "getBalances", "addresses": [RICH], "tips": [TRANSFER_TIP], "threshold": "100"},
    {"command": "getBalances", "addresses": [RICH], "milestoneIndex": 101, "tips": None},
    {"command": "getNodeInfo"},
    {"command": "getNodeAPIConfiguration"},
    {"command": "getTrytes", "hashes": [CONFIRMED, UNKNOWN]},
    {"command": "findTransactions", "addresses": [RICH], "tags": ["PYRI9TAG"]},
    {"command": "getInclusionStates", "transactions": [CONFIRMED], "tips": []},
    {"command": "wereAddressesSpentFrom", "addresses": [RICH]},
    {"command": "checkConsistency", "tails": [TRANSFER_TIP]},
    {"command": "getTips"},
    {"command": "getMissingTransactions"},
    {"command": "storeTransactions", "trytes": []},
    {"command": "broadcastTransactions", "trytes": []},
]


@pytest.mark.parametrize("body", GOOD_REQUESTS, ids=lambda body: body["command"])
def test_real_answers_match_the_schemas(app: Any, body: dict[str, Any]) -> None:
    assert problems(body, SCHEMAS["Request"]) == []
    response = request(app, body)
    assert response.status == 200, response.body
    assert response_problems(body["command"], response.json()) == []
    assert problems(response.json(), SCHEMAS["Response"]) == []


def test_error_answers_match_the_schemas(app: Any) -> None:
    for body, status in ((b"{", 400), (b'{"command":"attachToTangle"}', 401)):
        response = request(app, body, client=("203.0.113.7", 1))
        assert response.status == status
        assert problems(response.json(), SCHEMAS["Error"]) == []
