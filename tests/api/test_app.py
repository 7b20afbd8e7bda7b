"""The transport: iri-api-reference §1-2 and design.md's differences 1, 5 and 6."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

import pytest

from pyri.api import ApiConfig, create_app
from pyri.api.app import ASGIApp
from pyri.api.fake_backend import FakeBackend
from tests.api.client import LOCAL, REMOTE, call, request, run_sync
from tests.api.conftest import OPENAPI, RICH, error

MakeApp = Callable[..., ASGIApp]
NODE_INFO = b'{"command":"getNodeInfo"}'


# --- header and body checks (§1.3) ------------------------------------------------------------


def test_missing_version_header(app: ASGIApp) -> None:
    assert error(request(app, NODE_INFO, headers=())) == "Invalid API Version"


@pytest.mark.parametrize("name", ["X-IOTA-API-Version", "x-iota-api-version", "X-Iota-Api-VERSION"])
@pytest.mark.parametrize("value", ["1", "", "anything"])
def test_version_header_presence_is_enough(app: ASGIApp, name: str, value: str) -> None:
    response = request(app, NODE_INFO, headers=[(name, value)], lowercase_headers=False)
    assert response.status == 200


def test_any_path_and_method_reach_the_api(app: ASGIApp) -> None:
    expected = request(app, NODE_INFO).without_duration()
    for method in ("POST", "GET", "PUT", "DELETE", "PATCH"):
        for path in ("/", "/foo/bar", "/getNodeInfo"):
            response = request(app, NODE_INFO, method=method, path=path)
            assert response.status == 200
            body = response.without_duration()
            assert body["appName"] == expected["appName"]


def test_get_without_body(app: ASGIApp) -> None:
    assert error(request(app, method="GET")) == "Invalid request payload: ''"


def test_body_too_long(make_app: MakeApp) -> None:
    app = make_app(max_body_length=60)
    body = b'{"command":"getNodeInfo","pad":"' + b"x" * 26 + b'"}'
    assert len(body) == 60
    assert request(app, body).status == 200
    assert error(request(app, body[:-2] + b'x"}')) == "Request too long"


def test_body_length_counts_characters_not_bytes(make_app: MakeApp) -> None:
    # IRI counts UTF-16 code units of the decoded body (§1.3): "é" is one, "😀" two.
    app = make_app(max_body_length=60)
    body = '{"command":"getNodeInfo","pad":"' + "é" * 26 + '"}'
    assert len(body) == 60 and len(body.encode()) == 86
    assert request(app, body).status == 200
    fits = '{"command":"getNodeInfo","pad":"' + "😀" * 13 + '"}'
    assert request(app, fits).status == 200
    too_long = '{"command":"getNodeInfo","pad":"' + "😀" * 14 + '"}'
    assert len(too_long) == 48  # code points; 62 UTF-16 units
    assert error(request(app, too_long)) == "Request too long"


def test_version_is_checked_before_length(make_app: MakeApp) -> None:
    app = make_app(max_body_length=10)
    assert error(request(app, NODE_INFO, headers=())) == "Invalid API Version"


def test_body_in_several_messages(app: ASGIApp) -> None:
    response = request(app, {"command": "getBalances", "addresses": [RICH]}, chunks=7)
    assert response.json()["balances"] == ["900"]


def test_huge_chunked_body_is_refused_without_keeping_it(make_app: MakeApp) -> None:
    app = make_app(max_body_length=100)
    body = b'{"command":"getNodeInfo","pad":"' + b"x" * 5000 + b'"}'
    assert error(request(app, body, chunks=50)) == "Request too long"


def test_client_gone_while_sending_the_body(app: ASGIApp) -> None:
    messages: list[MutableMapping[str, Any]] = [
        {"type": "http.request", "body": b"{", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return messages.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "client": LOCAL}
    run_sync(app(scope, receive, send))
    assert sent == []


# --- OPTIONS (§1.4) -----------------------------------------------------------------------------


def test_options_is_answered_before_any_check(app: ASGIApp) -> None:
    response = request(app, b"not json", method="OPTIONS", path="/any", headers=())
    assert response.status == 200
    assert response.body == b""
    assert response.headers == [
        (b"content-type", b"text/plain"),
        (b"content-length", b"0"),
        (b"allow", b"GET,HEAD,POST,PUT,DELETE,TRACE,OPTIONS,CONNECT,PATCH"),
        (b"access-control-allow-origin", b"*"),
        (
            b"access-control-allow-headers",
            b"User-Agent, Origin, X-Requested-With, Content-Type, Accept, X-IOTA-API-Version",
        ),
    ]


# --- response envelope (§1.5) -------------------------------------------------------------------


def test_json_response_headers(app: ASGIApp) -> None:
    for response in (request(app, NODE_INFO), request(app, b"{")):
        names = [name for name, _ in response.headers]
        assert names == [
            b"content-type",
            b"access-control-allow-origin",
            b"keep-alive",
            b"content-length",
        ]
        assert response.header("content-type") == "application/json"
        assert response.header("keep-alive") == "timeout=500, max=100"


def test_http2_responses_carry_no_keep_alive(app: ASGIApp) -> None:
    response = request(app, NODE_INFO, http_version="2")
    assert response.header("keep-alive") is None


def test_duration_is_last(app: ASGIApp) -> None:
    for response in (request(app, NODE_INFO), request(app, b"[]")):
        assert list(response.json())[-1] == "duration"


class BrokenBackend(FakeBackend):
    def balances(self, addresses: Any) -> Any:
        raise RuntimeError("disk on fire")

    def tips(self) -> list[str]:
        raise KeyError  # a fault without a message

    def missing_transactions(self) -> Any:
        return [object()]  # a fault: not serialisable


def test_internal_faults_are_500_with_exception() -> None:
    app = create_app(BrokenBackend(), ApiConfig())
    response = call(app, "getBalances", addresses=[RICH])
    assert response.status == 500
    assert response.without_duration() == {"exception": "disk on fire"}
    response = call(app, "getTips")
    assert response.status == 500
    assert response.without_duration() == {"exception": "KeyError"}
    response = call(app, "getMissingTransactions")
    assert response.status == 500
    assert list(response.json()) == ["exception", "duration"]


# --- JSON (§2.2, design.md difference 6) ------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"thisIsInvalidJson",
        b'{"command":"getNodeInfo",}',
        b"{'command':'getNodeInfo'}",
        b"{command:getNodeInfo}",
        b'{"command":"getNodeInfo"} x',
        b'{"command":"getNodeInfo"}{}',
        b'/* c */ {"command":"getNodeInfo"}',
        b'{"command"="getNodeInfo"}',
        b'{"command":"getNodeInfo","x":NaN}',
        b'{"command":"getNodeInfo","x":1e400}',
        b'{"command":"getNodeInfo","x":"\\ud800"}',
    ],
)
def test_bad_json(app: ASGIApp, body: bytes) -> None:
    message = error(request(app, body))
    assert message.startswith("Invalid JSON syntax: ")
    assert "java" not in message and "gson" not in message.lower()


@pytest.mark.parametrize(
    ("body", "kind"),
    [(b"[]", "an array"), (b'["command"]', "an array"), (b'"x"', "a string"), (b"123", "a number")],
)
def test_body_that_is_not_an_object(app: ASGIApp, body: bytes, kind: str) -> None:
    message = f"Invalid JSON syntax: the body must be a JSON object, got {kind}"
    assert error(request(app, body)) == message


@pytest.mark.parametrize(
    ("body", "echo"), [(b"", ""), (b"  \r\n", "  \r\n"), (b"null", "null"), (b" null ", " null ")]
)
def test_empty_payload(app: ASGIApp, body: bytes, echo: str) -> None:
    assert error(request(app, body)) == f"Invalid request payload: '{echo}'"


@pytest.mark.parametrize(
    "body",
    [
        b'{"command":"getNodeInfo","command":"getTips"}',
        b'{"command":"getNodeInfo","comm\\u0061nd":"getTips"}',
        b'{"command":"getNodeInfo", "x": {"a": "\\n"}, "command":"getTips"}',
    ],
)
def test_duplicate_keys_are_refused(app: ASGIApp, body: bytes) -> None:
    assert error(request(app, body)) == "Invalid JSON syntax: duplicate key: command"


def test_a_key_repeated_as_a_value_is_not_a_duplicate(app: ASGIApp) -> None:
    assert error(request(app, b'{"command":"command"}')) == "Command [command] is unknown"
    response = request(app, b'{"command":"getNodeInfo","x":"\\"command\\""}')
    assert response.status == 200


def test_invalid_utf8_is_replaced_as_iri_does(app: ASGIApp) -> None:
    response = request(app, b'{"command":"getNodeInfo","note":"\xff\xfe"}')
    assert response.status == 200
    assert error(request(app, b'{"command":"get\xffNodeInfo"}')) == (
        "Command [get\ufffdNodeInfo] is unknown"
    )


def test_deep_nesting_is_a_400(app: ASGIApp) -> None:
    for depth in (500, 1000, 5000):
        body = b'{"command":"getNodeInfo","x":"\\n","y":' + b"[" * depth + b"]" * depth + b"}"
        response = request(app, body)
        assert response.status in (200, 400)
        assert isinstance(response.json(), dict)


# --- command (§2.1) ----------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{}", b'{"command":null}', b'{"x":"getNodeInfo"}'])
def test_missing_command(app: ASGIApp, body: bytes) -> None:
    assert error(request(app, body)) == "COMMAND parameter has not been specified in the request."


@pytest.mark.parametrize(
    ("command", "kind"),
    [(1, "a number"), (True, "a boolean"), (["getNodeInfo"], "an array"), ({}, "an object")],
)
def test_command_that_is_not_a_string(app: ASGIApp, command: object, kind: str) -> None:
    message = f"Invalid command input: 'command' must be a string, got {kind}"
    assert error(request(app, {"command": command})) == message


@pytest.mark.parametrize(
    "command",
    ["foo", "getbalances", "GetBalances", " getBalances", "getTransactionsToApprove", "ixi.foo"],
)
def test_unknown_command(app: ASGIApp, command: str) -> None:
    assert error(request(app, {"command": command})) == f"Command [{command}] is unknown"


def test_empty_command(app: ASGIApp) -> None:
    assert error(request(app, {"command": ""})) == "Command can not be null or empty"


# --- remote-limit-api (§1.7, design.md difference 5) ---------------------------------------------


@pytest.mark.parametrize(
    "command",
    ["attachToTangle", "interruptAttachingToTangle", "getNeighbors", "addNeighbors"],
)
def test_limited_commands_pyri_lacks(app: ASGIApp, command: str) -> None:
    # Remote callers get IRI's 401 first; trusted ones learn the command is not offered.
    remote = request(app, {"command": command}, client=REMOTE)
    assert error(remote, 401) == f"COMMAND {command} is not available on this node"
    assert error(request(app, {"command": command})) == f"Command [{command}] is unknown"


@pytest.mark.parametrize(
    ("client", "allowed"),
    [
        (LOCAL, True),
        (("::1", 1), True),
        (("::ffff:127.0.0.1", 1), True),
        (("127.0.0.2", 1), False),
        (REMOTE, False),
        (None, False),
        (("not-an-ip", 1), False),
    ],
)
def test_limited_command_by_peer(
    make_app: MakeApp, client: tuple[str, int] | None, allowed: bool
) -> None:
    app = make_app(remote_limit_api=frozenset({"getBalances"}))
    response = request(app, {"command": "getBalances", "addresses": [RICH]}, client=client)
    if allowed:
        assert response.status == 200
    else:
        assert error(response, 401) == "COMMAND getBalances is not available on this node"
    # Commands that are not limited are open to everyone.
    assert request(app, NODE_INFO, client=client).status == 200


def test_trusted_hosts_are_configurable_and_loopback_stays(make_app: MakeApp) -> None:
    app = make_app(
        remote_limit_api=frozenset({"getBalances"}),
        remote_trusted_api_hosts=frozenset({"203.0.113.7"}),
    )
    body = {"command": "getBalances", "addresses": [RICH]}
    assert request(app, body, client=REMOTE).status == 200
    assert request(app, body, client=LOCAL).status == 200
    assert request(app, body, client=("198.51.100.1", 1)).status == 401


def test_limit_is_checked_after_parsing(make_app: MakeApp) -> None:
    app = make_app(remote_limit_api=frozenset({"getBalances"}))
    assert error(request(app, b"{", client=REMOTE)).startswith("Invalid JSON syntax")
    message = "COMMAND getBalances is not available on this node"
    # ... and before the parameters are looked at.
    assert error(request(app, {"command": "getBalances"}, client=REMOTE), 401) == message


# --- /openapi.json and other ASGI scopes ---------------------------------------------------------


def test_openapi_document_is_served(app: ASGIApp) -> None:
    response = request(app, method="GET", path="/openapi.json", headers=())
    assert response.status == 200
    assert response.body == OPENAPI.read_bytes()
    assert response.header("content-type") == "application/json"


def test_openapi_path_is_an_api_path_otherwise(make_app: MakeApp, backend: FakeBackend) -> None:
    app = make_app()
    response = request(app, NODE_INFO, method="POST", path="/openapi.json")
    assert response.status == 200 and "appName" in response.json()
    bare = create_app(backend, ApiConfig())
    response = request(bare, method="GET", path="/openapi.json", headers=())
    assert error(response) == "Invalid API Version"


def test_missing_openapi_file_fails_at_startup(backend: FakeBackend, tmp_path: Any) -> None:
    with pytest.raises(FileNotFoundError):
        create_app(backend, ApiConfig(openapi_path=tmp_path / "nope.json"))


def test_lifespan(app: ASGIApp) -> None:
    incoming: list[MutableMapping[str, Any]] = [
        {"type": "lifespan.startup"},
        {"type": "lifespan.shutdown"},
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    run_sync(app({"type": "lifespan"}, receive, send))
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]


def test_websocket_is_refused(app: ASGIApp) -> None:
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    run_sync(app({"type": "websocket", "path": "/"}, receive, send))
    assert sent == [{"type": "websocket.close", "code": 1008}]
