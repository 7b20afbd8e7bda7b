"""Thousands of malformed requests: nothing a client sends may produce a 500 or an answer that is
not JSON (design.md, "Errors and data safety").

Every answer must be one of: 200 with the command's documented shape; 400/401 with exactly
``error`` and ``duration``; the empty OPTIONS answer; the OpenAPI document.
"""

from __future__ import annotations

import json
from base64 import b64encode
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyri.api import ApiConfig, create_app
from pyri.api.app import ASGIApp
from pyri.api.commands import COMMANDS
from pyri.crypto.checksum import add_checksum
from pyri.trinary import NULL_HASH
from tests.api.client import LOCAL, REMOTE, Response, request
from tests.api.conftest import (
    CONFIRMED,
    OPENAPI,
    OVERDRAFT_TIP,
    RICH,
    TAG,
    TRANSFER_TIP,
    UNKNOWN,
    make_backend,
)
from tests.api.schema import response_problems

TRYTES = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CHECKSUMMED = [add_checksum(RICH), add_checksum(TRANSFER_TIP)]
KNOWN = [RICH, CONFIRMED, TRANSFER_TIP, OVERDRAFT_TIP, UNKNOWN, NULL_HASH, TAG, *CHECKSUMMED]
PARAMETERS = [
    "addresses",
    "tips",
    "threshold",
    "milestoneIndex",
    "hashes",
    "bundles",
    "tags",
    "approvees",
    "transactions",
    "tails",
    "trytes",
]
COMMAND_NAMES = [*COMMANDS, "attachToTangle", "getNeighbors", "interruptAttachingToTangle"]
SETTINGS = settings(
    max_examples=1200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)
tryte_strings = st.one_of(
    st.sampled_from(KNOWN),
    st.text(TRYTES, min_size=81, max_size=81),
    st.text(TRYTES, max_size=95),
    st.text(TRYTES + "abc9 é\x00", min_size=80, max_size=91),
    st.sampled_from(KNOWN).map(str.lower),
    st.sampled_from(KNOWN).map(lambda s: s[:-1] + "Z"),
    st.sampled_from(["9" * 2673, "A" * 2673, "a" * 2673, "9" * 2672]),
)
element = st.one_of(tryte_strings, json_values)
# Long lists cost nothing to generate when they repeat one element.
huge_lists = st.tuples(element, st.integers(900, 1100)).map(lambda pair: [pair[0]] * pair[1])
parameter_values = st.one_of(
    element,
    st.lists(element, max_size=6),
    huge_lists,
    st.sampled_from([100, "100", 0, 101, -1, "abc", 1.5, True, 1e300, 2**70, -(2**70)]),
)
_ABSENT = object()
# Mostly real command names, so that the parameters are what gets exercised.
commands = st.one_of(
    st.sampled_from(COMMAND_NAMES),
    st.sampled_from(COMMAND_NAMES),
    st.sampled_from(COMMAND_NAMES),
    json_values,
    st.just(_ABSENT),
)


def _request(command: object, parameters: dict[str, Any]) -> dict[str, Any]:
    return parameters if command is _ABSENT else {"command": command, **parameters}


requests = st.builds(
    _request,
    commands,
    st.fixed_dictionaries({}, optional={name: parameter_values for name in PARAMETERS}),
)


def check(response: Response, command: object = None) -> None:
    assert response.status in (200, 400, 401), (response.status, response.body)
    body = response.json()
    assert isinstance(body, dict)
    if response.status == 200 and "openapi" in body:
        return
    keys = list(body)
    assert keys[-1] == "duration" and type(body["duration"]) is int
    if response.status == 200:
        assert isinstance(command, str) and command in COMMANDS, body
        assert response_problems(command, body) == [], (command, body)
    else:
        assert keys == ["error", "duration"] and isinstance(body["error"], str), body


def fresh_app(**settings: Any) -> ASGIApp:
    return create_app(make_backend(), ApiConfig(openapi_path=OPENAPI, **settings))


@SETTINGS
@given(requests, st.sampled_from([LOCAL, REMOTE]))
def test_random_parameters(body: dict[str, Any], client: tuple[str, int]) -> None:
    # Python's json writes integers of any size, which orjson.dumps would refuse.
    raw = json.dumps(body)
    check(request(fresh_app(), raw, client=client), body.get("command"))


@settings(SETTINGS, max_examples=600)
@given(st.binary(max_size=400))
def test_random_bytes(raw: bytes) -> None:
    check(request(fresh_app(), raw))


@settings(SETTINGS, max_examples=600)
@given(
    st.sampled_from(list(COMMANDS)),
    st.integers(0, 200),
    st.binary(min_size=1, max_size=8),
)
def test_corrupted_valid_requests(command: str, position: int, garbage: bytes) -> None:
    raw = orjson.dumps({"command": command, "addresses": [RICH], "tips": [TRANSFER_TIP]})
    position = min(position, len(raw))
    check(request(fresh_app(), raw[:position] + garbage + raw[position:]), command)


latin1 = st.text(st.characters(max_codepoint=255), max_size=40)
authorizations = st.one_of(
    st.none(),
    st.just("Bearer tok"),
    st.just("Basic " + b64encode(b"iota:pw").decode()),
    latin1,
    latin1.map(lambda s: "Bearer " + s),
    st.binary(max_size=30).map(lambda b: "Basic " + b64encode(b).decode()),
    latin1.map(lambda s: "Basic " + s),
)


@settings(SETTINGS, max_examples=800)
@given(
    requests,
    st.sampled_from(["POST", "GET", "PUT", "DELETE", "OPTIONS", "PATCH"]),
    st.sampled_from(["/", "/openapi.json", "/x/y"]),
    st.booleans(),
    authorizations,
    st.sampled_from([LOCAL, REMOTE, ("::1", 1), None]),
    st.booleans(),
)
def test_random_transport(
    body: dict[str, Any],
    method: str,
    path: str,
    with_version: bool,
    authorization: str | None,
    client: tuple[str, int] | None,
    with_auth: bool,
) -> None:
    headers = [("X-IOTA-API-Version", "1")] if with_version else []
    if authorization is not None:
        headers.append(("Authorization", authorization))
    settings = {"api_tokens": frozenset({"tok"}), "remote_auth": "iota:pw"} if with_auth else {}
    app = fresh_app(max_body_length=5000, **settings)
    response = request(
        app, json.dumps(body), method=method, path=path, headers=headers, client=client
    )
    if method == "OPTIONS" and response.status == 200:
        assert response.body == b""
        return
    check(response, body.get("command"))
