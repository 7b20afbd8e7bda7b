"""The HTTP transport of IRI 1.8's API as a raw ASGI 3 application (iri-api-reference §1-2).

Every path and every method except OPTIONS reach the command processor, as in IRI (§1.1); the
one exception is ``GET /openapi.json`` when an OpenAPI document is configured. Order of checks
for a request: body read, authentication, OPTIONS, ``X-IOTA-API-Version`` present, body length,
JSON, ``command`` present, ``--remote-limit-api``, command lookup, the handler (§1.3, §2.1).

This module is the one place where errors become responses: ApiError carries its status; any
other exception is a fault of the node and becomes 500 ``{"exception": ...}`` (§1.5).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from time import perf_counter_ns
from typing import Any, Final, TypeAlias

import orjson

from pyri.api.auth import Authenticator
from pyri.api.backend import NodeBackend
from pyri.api.commands import COMMANDS
from pyri.api.config import ApiConfig, normalise_peer
from pyri.api.context import Context, Handler
from pyri.api.errors import ApiError, BadRequest, Unauthorized
from pyri.api.params import Request, json_type
from pyri.api.request import body_length, parse_request

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
# Commands that may wait long (for the writer, or on a long walk) run in a worker thread.
_OFF_LOOP: Final = ("storeTransactions", "broadcastTransactions", "checkConsistency")

ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger(__name__)

# Headers of every JSON response, as IRI sends them (§1.5). Keep-Alive is an HTTP/1 header;
# HTTP/2 forbids connection-specific headers, so it is left out there.
_JSON_HEADERS_H1: Final = (
    (b"content-type", b"application/json"),
    (b"access-control-allow-origin", b"*"),
    (b"keep-alive", b"timeout=500, max=100"),
)
_JSON_HEADERS_H2: Final = _JSON_HEADERS_H1[:2]
# IRI's answer to OPTIONS, before any other check (§1.4).
_OPTIONS_HEADERS: Final = (
    (b"content-type", b"text/plain"),
    (b"content-length", b"0"),
    (b"allow", b"GET,HEAD,POST,PUT,DELETE,TRACE,OPTIONS,CONNECT,PATCH"),
    (b"access-control-allow-origin", b"*"),
    (
        b"access-control-allow-headers",
        b"User-Agent, Origin, X-Requested-With, Content-Type, Accept, X-IOTA-API-Version",
    ),
)
# Bodies are kept up to this many times --max-body-length bytes: a UTF-8 body of more than three
# bytes per allowed UTF-16 unit is too long whatever it holds (a unit takes at most 3 bytes, a
# pair of units 4), so the rest is read and dropped rather than held in memory.
_BYTES_PER_UNIT: Final = 3

NO_COMMAND: Final = "COMMAND parameter has not been specified in the request."


def create_app(backend: NodeBackend, config: ApiConfig) -> ASGIApp:
    """The API as an ASGI 3 application. The OpenAPI document, if configured, is read now, so a
    missing file stops the node at startup."""
    return _Api(backend, config)


class _Api:
    __slots__ = (
        "_auth",
        "_commands",
        "_context",
        "_keep_limit",
        "_limited",
        "_max_body",
        "_offloaded",
        "_openapi",
        "_trusted",
    )

    def __init__(self, backend: NodeBackend, config: ApiConfig) -> None:
        self._context = Context(backend, config)
        self._commands: Mapping[str, Handler] = COMMANDS
        self._offloaded = frozenset(COMMANDS[name] for name in _OFF_LOOP if name in COMMANDS)
        self._auth = Authenticator.from_config(config)
        self._limited = config.remote_limit_api
        self._trusted = config.remote_trusted_api_hosts
        self._max_body = config.max_body_length
        self._keep_limit = config.max_body_length * _BYTES_PER_UNIT
        self._openapi = None if config.openapi_path is None else config.openapi_path.read_bytes()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await _other_scope(scope, receive, send)
            return
        # IRI's duration starts just before the body is read (§1.5).
        start = perf_counter_ns()
        body, complete = await _read_body(receive, self._keep_limit)
        if body is None:
            return  # the client went away; there is nobody to answer
        has_version = False
        authorization: bytes | None = None
        for name, value in scope["headers"]:
            # ASGI servers lower-case header names; lowering again costs little and keeps the
            # check right behind a server that does not.
            name = name.lower()
            if name == b"x-iota-api-version":
                has_version = True  # presence only; IRI never reads the value (§1.3)
            elif name == b"authorization":
                authorization = value
        method = scope["method"]
        if self._auth.required:
            refusal = self._auth.refusal(authorization, preflight=method == "OPTIONS")
            if refusal is not None:
                challenge = ((b"www-authenticate", self._auth.challenge.encode("latin-1")),)
                await _send_json(send, scope, 401, {"error": refusal}, start, challenge)
                return
        if method == "OPTIONS":
            await send({"type": "http.response.start", "status": 200, "headers": _OPTIONS_HEADERS})
            await send({"type": "http.response.body", "body": b""})
            return
        if self._openapi is not None and method == "GET" and scope["path"] == "/openapi.json":
            await _send_document(send, self._openapi)
            return
        status = 200
        try:
            handler, request = self._prepare(body, complete, has_version, scope)
            if handler in self._offloaded and _has_running_loop():
                # Writes wait for the node's writer, and a consistency walk can be long: run
                # them off the event loop so that other requests are answered meanwhile.
                payload = await asyncio.to_thread(handler, request, self._context)
            else:
                payload = handler(request, self._context)
        except ApiError as error:
            status = error.status
            payload = {"error": error.message}
        except Exception as error:  # a fault of the node, never of the request
            log.exception("internal error while answering a request")
            status = 500
            payload = {"exception": str(error) or type(error).__name__}
        await _send_json(send, scope, status, payload, start)

    def _prepare(
        self, body: bytes, complete: bool, has_version: bool, scope: Scope
    ) -> tuple[Handler, Request]:
        if not has_version:
            raise BadRequest("Invalid API Version")
        # A body no longer than the limit in bytes is no longer in UTF-16 units either.
        if not complete or (len(body) > self._max_body and body_length(body) > self._max_body):
            raise BadRequest("Request too long")
        request = parse_request(body)
        command = request.get("command")
        if type(command) is not str:
            if command is None:
                raise BadRequest(NO_COMMAND)
            raise BadRequest(
                f"Invalid command input: 'command' must be a string, got {json_type(command)}"
            )
        # Before the lookup, so that a remote caller of a limited command pyri does not offer
        # (attachToTangle, ...) gets IRI's 401, not "unknown" (§2.1 steps 4-6).
        if command in self._limited and not self._trusted_peer(scope):
            raise Unauthorized(f"COMMAND {command} is not available on this node")
        handler = self._commands.get(command)
        if handler is None:
            if not command:
                raise BadRequest("Command can not be null or empty")
            raise BadRequest(f"Command [{command}] is unknown")
        return handler, request

    def _trusted_peer(self, scope: Scope) -> bool:
        # Trust is by TCP peer address only; proxy headers are ignored, as in IRI (§1.7).
        client = scope.get("client")
        if not client:
            return False  # e.g. a Unix socket: no address to trust
        host = client[0]
        if host in self._trusted:
            return True
        normalised = normalise_peer(host)
        return normalised is not None and normalised in self._trusted


def _has_running_loop() -> bool:
    # A test driver may step the coroutine without an event loop; then there is nothing to
    # keep free and the handler simply runs inline.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def _read_body(receive: Receive, keep_limit: int) -> tuple[bytes | None, bool]:
    """The whole body (None if the client disconnected) and whether all of it was kept."""
    message = await receive()
    if message["type"] != "http.request":
        return None, False
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body, True  # the common case: one message
    chunks = [body]
    size = len(body)
    while message.get("more_body", False):
        message = await receive()
        if message["type"] != "http.request":
            return None, False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= keep_limit:
            chunks.append(chunk)
    if size > keep_limit:
        return b"", False
    return b"".join(chunks), True


async def _send_json(
    send: Send,
    scope: Scope,
    status: int,
    payload: dict[str, object],
    start: int,
    extra_headers: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    # duration is the last field and excludes serialisation, as in IRI (§1.5, §1.6).
    payload["duration"] = (perf_counter_ns() - start) // 1_000_000
    try:
        data = orjson.dumps(payload)
    except TypeError as error:  # a handler returned something JSON cannot hold: a node fault
        log.exception("unserialisable response")
        status = 500
        data = orjson.dumps({"exception": str(error), "duration": payload["duration"]})
    base = _JSON_HEADERS_H2 if scope.get("http_version") == "2" else _JSON_HEADERS_H1
    headers = [*base, *extra_headers, (b"content-length", str(len(data)).encode("ascii"))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def _send_document(send: Send, document: bytes) -> None:
    headers = (
        (b"content-type", b"application/json"),
        (b"access-control-allow-origin", b"*"),
        (b"content-length", str(len(document)).encode("ascii")),
    )
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": document})


async def _other_scope(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        # Nothing to start or stop: the backend's lifetime belongs to the node.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 1008})
