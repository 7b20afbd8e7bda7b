"""A real ``pyri run`` process on a free loopback port, and a small HTTP client (stdlib only).

``NodeProcess`` starts the node in its own session (so that the node, its writer and its API
workers form one process group), waits until getNodeInfo answers, and stops it with SIGTERM,
falling back to SIGKILL after STOP_TIMEOUT_S. ``crash`` kills the whole group at once with
SIGKILL, as a power cut would. Everything the node logs goes to ``node.log`` in its directory.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pyri.model.transaction import Transaction
from tests.e2e.tangles import Scenario, node_flags, trytes_of

REPO: Final = Path(__file__).resolve().parents[2]
START_TIMEOUT_S: Final = 60.0  # the first start compiles the numba kernels if the cache is cold
STOP_TIMEOUT_S: Final = 15.0
REQUEST_TIMEOUT_S: Final = 30.0
POLL_S: Final = 0.05
LOOPBACK: Final = "127.0.0.1"
PORT_ATTEMPTS: Final = 3


class PortTaken(Exception):
    """The node could not listen on its port: someone took it after ``free_port`` chose it."""


def free_port() -> int:
    """A TCP port nobody listens on right now, on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def __str__(self) -> str:
        return f"HTTP {self.status}: {self.body[:500]!r}"


class ApiClient:
    """Requests to one node. A new connection per request, so that nothing is retried or hidden:
    a dropped connection fails the test. ``source`` binds the client side to another loopback
    address (127.0.0.2 is not one of the node's trusted hosts)."""

    def __init__(
        self,
        port: int,
        *,
        host: str = LOOPBACK,
        source: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = REQUEST_TIMEOUT_S,
    ) -> None:
        self.port = port
        self.host = host
        self.source = source
        self.headers = dict(headers or {})
        self.timeout = timeout

    def with_headers(self, headers: Mapping[str, str]) -> ApiClient:
        return ApiClient(
            self.port,
            host=self.host,
            source=self.source,
            headers={**self.headers, **headers},
            timeout=self.timeout,
        )

    def request(
        self,
        body: bytes | str | Mapping[str, object] | None,
        *,
        method: str = "POST",
        path: str = "/",
        version: str | None = "1",
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """One request; ``version=None`` leaves out X-IOTA-API-Version; a mapping body is sent
        as JSON."""
        if isinstance(body, Mapping):
            data: bytes | None = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body
        sent = {"Content-Type": "application/json", **self.headers, **(headers or {})}
        if version is not None:
            sent["X-IOTA-API-Version"] = version
        source = None if self.source is None else (self.source, 0)
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=self.timeout, source_address=source
        )
        try:
            connection.request(method, path, body=data, headers=sent)
            reply = connection.getresponse()
            payload = reply.read()
            return Response(reply.status, {k.lower(): v for k, v in reply.getheaders()}, payload)
        finally:
            connection.close()

    def call(self, command: str, **params: object) -> Response:
        return self.request({"command": command, **params})

    def ok(self, command: str, **params: object) -> dict[str, Any]:
        """The JSON body of a command that must succeed (200 with an integer duration)."""
        response = self.call(command, **params)
        assert response.status == 200, f"{command}: {response}"
        body: dict[str, Any] = response.json
        assert_duration(body)
        return body

    def store(self, transactions: Sequence[Transaction]) -> None:
        body = self.ok("storeTransactions", trytes=trytes_of(transactions))
        assert list(body) == ["duration"]


def assert_duration(body: Mapping[str, Any]) -> None:
    duration = body.get("duration")
    assert type(duration) is int and duration >= 0, body
    assert list(body)[-1] == "duration", body


def assert_error(response: Response, status: int, message: str, *, key: str = "error") -> None:
    """``response`` is exactly ``{key: message, "duration": n}`` with ``status``."""
    assert response.status == status, str(response)
    assert response.headers.get("content-type") == "application/json", response.headers
    assert response.headers.get("access-control-allow-origin") == "*", response.headers
    body = response.json
    assert list(body) == [key, "duration"], body
    assert body[key] == message
    assert_duration(body)


class NodeProcess:
    """``pyri run`` with a database in ``directory``; ``flags`` are passed after the port,
    host and database flags."""

    def __init__(self, directory: Path, flags: Sequence[str], *, port: int | None = None) -> None:
        self.directory = directory
        self.flags = list(flags)
        self.port = free_port() if port is None else port
        self.db_path = directory / "db"
        self.log_path = directory / "node.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def client(self) -> ApiClient:
        return ApiClient(self.port)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "pyri.cli",
            "run",
            "--port",
            str(self.port),
            "--api-host",
            LOOPBACK,
            "--db-path",
            str(self.db_path),
            *self.flags,
        ]

    def start(self) -> None:
        """Start the node and wait until it answers getNodeInfo (with any status: nodes that
        want credentials answer 401). Another process may take the chosen free port before the
        node binds it; the node then starts again on another one."""
        assert not self.running, "the node is already running"
        for attempt in range(PORT_ATTEMPTS):
            self._spawn()
            try:
                self._wait_ready()
                break
            except PortTaken:
                if attempt == PORT_ATTEMPTS - 1:
                    raise AssertionError(f"no free port in {PORT_ATTEMPTS} attempts") from None
                self.port = free_port()
        self.starts += 1

    def run_to_exit(self, timeout: float = START_TIMEOUT_S) -> int:
        """For a node that must not start: run it and return its exit code."""
        self._spawn()
        assert self.process is not None
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.crash()
            raise AssertionError(f"pyri run still runs after {timeout} s") from None
        self._reap_group()
        return code

    def _spawn(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        source = str(REPO / "src")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH")) if p)
        env.pop("PYRI_API_TOKEN", None)
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts}: {' '.join(self.command())}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                cwd=self.directory,
                start_new_session=True,
            )

    def _wait_ready(self) -> None:
        probe = ApiClient(self.port, timeout=5)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                self._reap_group()
                if "Address already in use" in self.run_log(self.starts):
                    raise PortTaken
                raise AssertionError(
                    f"pyri run exited with {self.process.returncode} during start-up:\n"
                    + self.log_tail()
                )
            try:
                probe.call("getNodeInfo")
                return
            except (OSError, http.client.HTTPException):
                time.sleep(POLL_S)
        self.crash()
        raise AssertionError(
            f"pyri run did not answer within {START_TIMEOUT_S} s:\n" + self.log_tail()
        )

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """``signum`` (SIGTERM), then SIGKILL after STOP_TIMEOUT_S; the node's exit code."""
        process = self.process
        assert process is not None, "the node was never started"
        if process.poll() is None:
            process.send_signal(signum)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._kill_group()
                process.wait(timeout=STOP_TIMEOUT_S)
        self._reap_group()
        return process.returncode

    def crash(self) -> None:
        """SIGKILL every process of the node at once: main process, writer, API workers."""
        process = self.process
        if process is None:
            return
        self._kill_group()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT_S)
        self._reap_group()

    def _kill_group(self) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def _reap_group(self) -> None:
        """Wait until no process of the node's group is left (the writer and the workers end
        after the main process); kill stragglers after STOP_TIMEOUT_S."""
        assert self.process is not None
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while _group_alive(self.process.pid):
            if time.monotonic() > deadline:
                self._kill_group()
                deadline = time.monotonic() + STOP_TIMEOUT_S
            time.sleep(POLL_S)

    def run_log(self, start: int) -> str:
        """What the node logged during its start number ``start`` (0 = the first)."""
        blocks = re.split(r"^--- start ", self.log_text(), flags=re.MULTILINE)
        mine = [block for block in blocks if block.startswith(f"{start}: ")]
        return mine[-1] if mine else ""

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class LoadedNode:
    """A running node and everything that was stored into it through the API."""

    process: NodeProcess
    scenario: Scenario
    stored: dict[str, Transaction]

    @property
    def client(self) -> ApiClient:
        return self.process.client

    def store(self, transactions: Sequence[Transaction]) -> None:
        self.client.store(transactions)
        self.stored.update((tx.hash, tx) for tx in transactions)

    def broadcast(self, transactions: Sequence[Transaction]) -> None:
        body = self.client.ok("broadcastTransactions", trytes=trytes_of(transactions))
        assert list(body) == ["duration"]
        self.stored.update((tx.hash, tx) for tx in transactions)

    def expected_tips(self) -> set[str]:
        approved = {
            h for tx in self.stored.values() for h in (tx.trunk_transaction, tx.branch_transaction)
        }
        return set(self.stored) - approved


def scenario_node(
    directory: Path, scenario: Scenario, extra_flags: Sequence[str] = (), *, ini: str = ""
) -> NodeProcess:
    """A node (not started) that starts from ``scenario``'s snapshot; with ``ini``, the text of
    an ``[IRI]`` ini file passed with ``-c``."""
    directory.mkdir(parents=True, exist_ok=True)
    snapshot = directory / "snapshot.txt"
    scenario.write_snapshot(snapshot)
    flags = [*node_flags(snapshot), *extra_flags]
    if ini:
        ini_path = directory / "pyri.ini"
        ini_path.write_text(ini)
        flags = ["-c", str(ini_path), *flags]
    return NodeProcess(directory, flags)


def load(process: NodeProcess, scenario: Scenario) -> LoadedNode:
    """Store every batch of ``scenario`` into the running node, in order."""
    node = LoadedNode(process, scenario, {})
    for batch in scenario.batches:
        node.store(batch)
    return node


def wait_for(predicate: Any, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(POLL_S)
