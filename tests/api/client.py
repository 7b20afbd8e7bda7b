"""A tiny in-process ASGI client: one request, one response, no event loop.

The API never awaits anything but ``receive`` and ``send``, and both complete at once here, so
the application's coroutine runs to its end in one ``send(None)``; a coroutine that suspends
would mean the app awaited something real, which the client reports as an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson

from pyri.api.app import ASGIApp

VERSION_HEADER = ("X-IOTA-API-Version", "1")
LOCAL = ("127.0.0.1", 50000)
REMOTE = ("203.0.113.7", 50000)


@dataclass(frozen=True)
class Response:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None

    def json(self) -> Any:
        return orjson.loads(self.body)

    def without_duration(self) -> Any:
        """The body with ``duration`` checked to be a non-negative int, then removed."""
        body = self.json()
        duration = body.pop("duration")
        assert type(duration) is int and duration >= 0, duration
        return body


def run_sync(awaitable: Awaitable[None]) -> None:
    coroutine = awaitable.__await__()
    try:
        coroutine.send(None)
    except StopIteration:
        return
    raise AssertionError("the application suspended on something other than receive/send")


def request(
    app: ASGIApp,
    body: bytes | str | dict[str, Any] | list[Any] | None = None,
    *,
    method: str = "POST",
    path: str = "/",
    headers: Iterable[tuple[str, str]] = (VERSION_HEADER,),
    client: tuple[str, int] | None = LOCAL,
    chunks: int = 1,
    http_version: str = "1.1",
    lowercase_headers: bool = True,
) -> Response:
    """Send one request. A dict or list body is JSON-encoded; ``chunks`` splits the body over
    several ``http.request`` messages."""
    if body is None:
        raw = b""
    elif isinstance(body, bytes):
        raw = body
    elif isinstance(body, str):
        raw = body.encode()
    else:
        raw = orjson.dumps(body)
    size = max(1, -(-len(raw) // chunks))
    parts = [raw[i : i + size] for i in range(0, len(raw), size)] or [b""]
    messages = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]
    messages.reverse()
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": http_version,
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        # ASGI servers lower-case header names; lowercase_headers=False plays one that does not.
        "headers": [
            ((k.lower() if lowercase_headers else k).encode("latin-1"), v.encode("latin-1"))
            for k, v in headers
        ],
        "client": client,
        "server": ("127.0.0.1", 14265),
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    run_sync(app(scope, receive, send))
    return _response(sent)


def _response(sent: list[MutableMapping[str, Any]]) -> Response:
    assert len(sent) == 2, sent
    start, body_message = sent
    assert start["type"] == "http.response.start"
    assert body_message["type"] == "http.response.body"
    assert not body_message.get("more_body", False)
    headers_out = [(bytes(k), bytes(v)) for k, v in start["headers"]]
    data = bytes(body_message["body"])
    response = Response(start["status"], headers_out, data)
    length = response.header("content-length")
    assert length is not None and int(length) == len(data)
    return response


def call(app: ASGIApp, command: str, **params: Any) -> Response:
    """POST ``{"command": command, **params}`` from localhost with the version header."""
    return request(app, {"command": command, **params})


Caller = Callable[..., Response]
