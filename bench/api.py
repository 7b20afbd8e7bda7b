"""Throughput of pyri's HTTP API on loopback: a real ``pyri run`` node under a closed-loop load
of 64 connections, each figure beside a baseline measured in the same run.

    python bench/api.py                    # a table
    python bench/api.py --json             # one JSON object
    python bench/api.py --loadgen python   # the asyncio load generator even when wrk exists

Two nodes (``--api-workers 1`` and ``--api-workers 2``, each with its own database) listen on
free ports of 127.0.0.1 only, for the whole bench, so that their runs can be interleaved. Each
starts from a small global snapshot (five funded addresses summing to the supply) and is given
three real signed milestones (a Curl-P-27 test coordinator, through storeTransactions), so that
it answers from a ledger at milestone 3.

* getBalances for 1 address, no tips, on one API worker (``--api-workers 1``), beside
  getNodeAPIConfiguration on the same server stack (its handler returns static configuration:
  the cost of the transport, JSON and dispatch alone): req/s, p99 latency, and the ratio.
* The same on one worker, but every request asks for another of 50,000 addresses: a worker
  keeps the answers of its last 4,096 requests (correct until a write, see
  node/write_counter.py), so this run shows the cost of an answer read from the ledger.
* getBalances on two API workers vs one (the load generator shares the machine's two cores).
* getBalances for 1,000 addresses: the server's own ``duration`` field, median of 50 calls on
  one keep-alive connection, beside the same for 1 address.

The load generator is wrk (``apt-get install -y wrk``; the bench installs it itself when it runs
as root and apt-get is there), one thread, 64 connections, 10 s per measured run after a 2 s
warm-up run per configuration; two interleaved rounds of the three runs, the best round of each
reported (the machine is shared). Without wrk, an asyncio closed-loop generator over raw
sockets keeps 64 connections busy instead; the output says which one was used. The nodes are
stopped with SIGTERM at the end, also on errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # tests.consensus.* fixtures

import numpy as np
from tests.consensus.milestone_builder import CoordinatorKeys, build_milestone

from _common import report
from pyri.consensus.snapshot_files import (
    global_snapshot_state,
    write_global_snapshot,
)
from pyri.crypto.sponge import SpongeMode
from pyri.model.bundle import SUPPLY
from pyri.trinary import ALPHABET, NULL_HASH

REPO: Final = Path(__file__).resolve().parents[1]
HOST: Final = "127.0.0.1"
CONNECTIONS: Final = 64
RUN_S: Final = 10
ROUNDS: Final = 2  # interleaved rounds of the three measured runs; the best of each is reported
WARMUP_S: Final = 2
DURATION_CALLS: Final = 50
MANY_ADDRESSES: Final = 1000
# More addresses than an API worker keeps answers for (node/backend.py keeps 4,096), so that
# every request of the "uncached" run reads the ledger.
UNCACHED_ADDRESSES: Final = 50_000
MILESTONES: Final = 3
START_TIMEOUT_S: Final = 90.0
STOP_TIMEOUT_S: Final = 30.0
COORDINATOR_SEED: Final = "PYRI9BENCH9API9COORDINATOR".ljust(81, "9")
COORDINATOR_DEPTH: Final = 4
HEADERS: Final = {"Content-Type": "application/json", "X-IOTA-API-Version": "1"}


# --- the fixture -------------------------------------------------------------------------------


def _address(rng: np.random.Generator) -> str:
    return "".join(ALPHABET[i] for i in rng.integers(0, 27, 80)) + "9"


@dataclass(frozen=True)
class Fixture:
    snapshot: Path
    funded: list[str]
    many: list[str]  # MANY_ADDRESSES addresses, the funded ones among them
    milestones: list[str]  # trytes of milestones 1..MILESTONES
    flags: list[str]


def make_fixture(directory: Path) -> Fixture:
    rng = np.random.default_rng(5)
    funded = [_address(rng) for _ in range(5)]
    amounts = [1_000_000_000_000, 20_000_000_000, 3_000_000_000, 456_789, 1]
    amounts[0] += SUPPLY - sum(amounts)
    snapshot = directory / "snapshot.txt"
    state = global_snapshot_state(dict(zip(funded, amounts, strict=True)), index=0, timestamp=0)
    write_global_snapshot(state, snapshot)
    many = funded + [_address(rng) for _ in range(MANY_ADDRESSES - len(funded))]
    keys = CoordinatorKeys.generate(COORDINATOR_SEED, COORDINATOR_DEPTH, 1, SpongeMode.CURLP27)
    trytes: list[str] = []
    previous = NULL_HASH
    for index in range(1, MILESTONES + 1):
        built = build_milestone(keys, index, trunk=previous, branch=previous)
        trytes += [tx.trytes for tx in reversed(built)]
        previous = built[0].hash
    flags = [
        "--testnet",
        "--mwm",
        "0",
        "--snapshot",
        str(snapshot),
        "--snapshot-timestamp",
        "0",
        "--milestone-start",
        "0",
        "--testnet-coordinator",
        keys.root,
        "--testnet-coordinator-security-level",
        "1",
        "--testnet-coordinator-signature-mode",
        "CURLP27",
        "--milestone-keys",
        str(COORDINATOR_DEPTH),
    ]
    return Fixture(snapshot, funded, many, trytes, flags)


# --- the node ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def call(port: int, body: dict[str, Any], timeout: float = 30.0) -> tuple[int, dict[str, Any]]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("POST", "/", body=json.dumps(body), headers=HEADERS)
        reply = connection.getresponse()
        return reply.status, json.loads(reply.read())
    finally:
        connection.close()


class Node:
    """``pyri run`` in its own session (node, writer and API workers form one process group)."""

    def __init__(self, directory: Path, fixture: Fixture, workers: int) -> None:
        self.port = free_port()
        self.workers = workers
        directory.mkdir(parents=True, exist_ok=True)
        self.log_path = directory / "node.log"
        self.command = [
            sys.executable,
            "-m",
            "pyri.cli",
            "run",
            "--port",
            str(self.port),
            "--api-host",
            HOST,
            "--db-path",
            str(directory / "db"),
            *fixture.flags,
            "--api-workers",
            str(workers),
        ]
        self.process: subprocess.Popen[bytes] | None = None
        self.exit_code: int | None = None

    def start(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO / "src"), env.get("PYTHONPATH")) if p
        )
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pyri run exited at start:\n{self.log()}")
            with contextlib.suppress(OSError, http.client.HTTPException, ValueError):
                if call(self.port, {"command": "getNodeAPIConfiguration"}, 2.0)[0] == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"pyri run did not answer within {START_TIMEOUT_S:.0f} s:\n{self.log()}")

    def stop(self) -> None:
        """SIGTERM, then wait; SIGKILL to the node's own process group only if it hangs."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            self.exit_code = process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            self.exit_code = process.wait()
        # Workers and the writer are children of the node; make sure none outlived it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 0)
            time.sleep(1.0)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    @property
    def closed_cleanly(self) -> bool:
        return self.exit_code == 0 and "database closed cleanly" in self.log()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def wait_for_milestone(port: int, index: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = call(port, {"command": "getNodeInfo"})
        if status == 200 and body["latestSolidSubtangleMilestoneIndex"] >= index:
            return
        time.sleep(0.1)
    raise RuntimeError(f"the node did not reach milestone {index} within {timeout:.0f} s")


# --- load generators ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


_WRK_SCRIPT: Final = """
wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-IOTA-API-Version"] = "1"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\n{{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "errors": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


# Each request asks for another address: a different getBalances body per request, made once in
# Lua before the run (building it per request would spend the load generator's CPU).
_WRK_VARYING: Final = """
local alphabet = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"
local requests = {{}}
local next_request = 0
for n = 0, {count} - 1 do
  local digits, rest = {{}}, n
  for i = 1, 6 do
    local d = rest % 27
    digits[i] = alphabet:sub(d + 1, d + 1)
    rest = math.floor(rest / 27)
  end
  local body = string.format([==[{template}]==], table.concat(digits))
  requests[n + 1] = wrk.format(nil, nil, nil, body)
end
request = function()
  next_request = next_request % {count} + 1
  return requests[next_request]
end
"""


@dataclass(frozen=True)
class Varying:
    """A getBalances request for one address that changes with every request: the prefix and
    six trytes counting up, ``count`` different addresses in turn."""

    prefix: str  # 75 trytes
    count: int

    def body(self, n: int) -> dict[str, Any]:
        digits = "".join(ALPHABET[(n // 27**i) % 27] for i in range(6))
        return {"command": "getBalances", "addresses": [self.prefix + digits]}


def wrk_load(port: int, body: dict[str, Any] | Varying, seconds: int, directory: Path) -> Load:
    script = directory / "load.lua"
    if isinstance(body, Varying):
        template = json.dumps(body.body(0)).replace(body.prefix + "9" * 6, body.prefix + "%s")
        varying = _WRK_VARYING.format(count=body.count, template=template)
        script.write_text(_WRK_SCRIPT.format(body="") + varying)
    else:
        script.write_text(_WRK_SCRIPT.format(body=json.dumps(body)))
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-s", str(script), f"http://{HOST}:{port}/"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = [text for text in output.splitlines() if text.startswith("{")][-1]
    result = json.loads(line)
    return Load(
        result["requests"],
        result["duration_us"] / 1e6,
        result["p50_us"] / 1000,
        result["p99_us"] / 1000,
        result["errors"],
    )


async def _connection_loop(
    port: int,
    requests: Sequence[bytes],
    first: int,
    deadline: float,
    latencies: list[float],
    errors: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    turn = first
    try:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            writer.write(requests[turn % len(requests)])
            turn += CONNECTIONS
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if head[9:12] != b"200":
                errors.append(1)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def _request_bytes(port: int, body: dict[str, Any]) -> bytes:
    data = json.dumps(body).encode()
    return (
        f"POST / HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"X-IOTA-API-Version: 1\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode() + data


async def _python_load_async(port: int, body: dict[str, Any] | Varying, seconds: int) -> Load:
    if isinstance(body, Varying):
        requests = [_request_bytes(port, body.body(n)) for n in range(body.count)]
    else:
        requests = [_request_bytes(port, body)]
    latencies: list[float] = []
    errors: list[int] = []
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(
        *(
            _connection_loop(port, requests, k, deadline, latencies, errors)
            for k in range(CONNECTIONS)
        )
    )
    elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return Load(len(ordered), elapsed, statistics.median(ordered) * 1000, p99 * 1000, len(errors))


def python_load(port: int, body: dict[str, Any] | Varying, seconds: int, directory: Path) -> Load:
    return asyncio.run(_python_load_async(port, body, seconds))


def find_wrk() -> str | None:
    """wrk, installed with apt-get when missing and this runs as root."""
    if shutil.which("wrk") is None and shutil.which("apt-get") and os.geteuid() == 0:
        print("wrk is missing: apt-get install -y wrk ...", file=sys.stderr)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "wrk"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    return shutil.which("wrk")


# --- the run -----------------------------------------------------------------------------------


def median_durations(port: int, body: dict[str, Any], calls: int) -> tuple[float, float]:
    """Median server ``duration`` (ms) and median round trip (ms) over ``calls`` calls on one
    keep-alive connection, after one warm-up call."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    data = json.dumps(body)
    durations: list[int] = []
    trips: list[float] = []
    try:
        for k in range(calls + 1):
            start = time.perf_counter()
            connection.request("POST", "/", body=data, headers=HEADERS)
            reply = connection.getresponse()
            answer = json.loads(reply.read())
            trip = time.perf_counter() - start
            assert reply.status == 200, answer
            if k:
                durations.append(answer["duration"])
                trips.append(trip * 1000)
    finally:
        connection.close()
    return statistics.median(durations), statistics.median(trips)


def main() -> None:
    use_python = "--loadgen" in sys.argv and sys.argv[sys.argv.index("--loadgen") + 1] == "python"
    wrk = None if use_python else find_wrk()
    loadgen = "wrk 4 (1 thread)" if wrk else "asyncio closed loop (raw sockets)"
    load = wrk_load if wrk else python_load
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    trivial_body: dict[str, Any] = {"command": "getNodeAPIConfiguration"}
    with tempfile.TemporaryDirectory(prefix="pyri-bench-api-") as name:
        directory = Path(name)
        fixture = make_fixture(directory)
        one_body: dict[str, Any] = {"command": "getBalances", "addresses": fixture.funded[:1]}
        many_body: dict[str, Any] = {"command": "getBalances", "addresses": fixture.many}
        # Both nodes run for the whole bench (an idle node costs next to nothing), so that their
        # runs can be interleaved: the machine is shared, and interleaving spreads any
        # background load over every configuration alike.
        one = Node(directory / "one-worker", fixture, workers=1)
        two = Node(directory / "two-workers", fixture, workers=2)
        try:
            for node in (one, two):
                node.start()
                status, answer = call(
                    node.port, {"command": "storeTransactions", "trytes": fixture.milestones}
                )
                assert status == 200, answer
            for node in (one, two):
                wait_for_milestone(node.port, MILESTONES)
                status, answer = call(node.port, one_body)
                assert status == 200 and answer["milestoneIndex"] == MILESTONES, answer
                assert int(answer["balances"][0]) > 0, answer
                status, answer = call(node.port, many_body)
                assert status == 200 and len(answer["balances"]) == MANY_ADDRESSES, answer
            uncached = Varying("UNCACHED9" + "9" * 66, UNCACHED_ADDRESSES)
            runs: dict[str, tuple[Node, dict[str, Any] | Varying]] = {
                "trivial": (one, trivial_body),
                "one": (one, one_body),
                "two": (two, one_body),
                "uncached": (one, uncached),
            }
            for node, body in runs.values():
                load(node.port, body, WARMUP_S, directory)
            results: dict[str, list[Load]] = {key: [] for key in runs}
            for _ in range(ROUNDS):
                for key, (node, body) in runs.items():
                    results[key].append(load(node.port, body, RUN_S, directory))
            many_ms, many_trip_ms = median_durations(one.port, many_body, DURATION_CALLS)
            one_ms, one_trip_ms = median_durations(one.port, one_body, DURATION_CALLS)
        finally:
            for node in (one, two):
                node.stop()
        clean = one.closed_cleanly and two.closed_cleanly
    trivial, one_worker, two_workers, uncached_run = (
        max(results[key], key=lambda run: run.rps) for key in ("trivial", "one", "two", "uncached")
    )
    total_s = time.perf_counter() - started

    errors = sum(run.errors for runs_of in results.values() for run in runs_of)
    ratio = one_worker.rps / trivial.rps
    scaling = two_workers.rps / one_worker.rps
    uncached_ratio = uncached_run.rps / trivial.rps
    figures = {
        "loadgen": loadgen,
        "connections": CONNECTIONS,
        "run_s": RUN_S,
        "getbalances_rps": round(one_worker.rps),
        "getbalances_p50_ms": round(one_worker.p50_ms, 2),
        "getbalances_p99_ms": round(one_worker.p99_ms, 2),
        "trivial_rps": round(trivial.rps),
        "trivial_p50_ms": round(trivial.p50_ms, 2),
        "trivial_p99_ms": round(trivial.p99_ms, 2),
        "getbalances_over_trivial": round(ratio, 3),
        "getbalances_uncached_rps": round(uncached_run.rps),
        "getbalances_uncached_p99_ms": round(uncached_run.p99_ms, 2),
        "getbalances_uncached_over_trivial": round(uncached_ratio, 3),
        "getbalances_2workers_rps": round(two_workers.rps),
        "getbalances_2workers_p99_ms": round(two_workers.p99_ms, 2),
        "workers2_over_1": round(scaling, 3),
        "getbalances_1000_duration_ms": many_ms,
        "getbalances_1000_roundtrip_ms": round(many_trip_ms, 2),
        "getbalances_1_duration_ms": one_ms,
        "getbalances_1_roundtrip_ms": round(one_trip_ms, 2),
        "load_errors": errors,
        "node_stopped_cleanly": clean,
        "rounds": ROUNDS,
        "all_rps": {key: [round(run.rps) for run in runs_of] for key, runs_of in results.items()},
        "loadavg_1m_at_start": round(load_at_start, 2),
        "bench_s": round(total_s, 1),
        "targets_met": {
            "getbalances_over_trivial": ratio >= 0.70,
            "workers2_over_1": scaling >= 1.3,
            "getbalances_1000_duration_ms": many_ms <= 5,
        },
    }
    rows = [
        (
            "getBalances 1 addr, 1 worker, req/s",
            f"{one_worker.rps:,.0f}",
            f"{trivial.rps:,.0f} trivial",
            f"{ratio:.2f}",
        ),
        (
            "    p99 latency, ms",
            f"{one_worker.p99_ms:.1f}",
            f"{trivial.p99_ms:.1f} trivial",
            f"{one_worker.p99_ms / trivial.p99_ms:.2f}",
        ),
        (
            "getBalances, another addr each request, req/s",
            f"{uncached_run.rps:,.0f}",
            f"{trivial.rps:,.0f} trivial",
            f"{uncached_ratio:.2f}",
        ),
        (
            "    p99 latency, ms",
            f"{uncached_run.p99_ms:.1f}",
            f"{trivial.p99_ms:.1f} trivial",
            f"{uncached_run.p99_ms / trivial.p99_ms:.2f}",
        ),
        (
            "getBalances 1 addr, 2 workers, req/s",
            f"{two_workers.rps:,.0f}",
            f"{one_worker.rps:,.0f} 1 worker",
            f"{scaling:.2f}x",
        ),
        (
            "    p99 latency, ms",
            f"{two_workers.p99_ms:.1f}",
            f"{one_worker.p99_ms:.1f} 1 worker",
            f"{two_workers.p99_ms / one_worker.p99_ms:.2f}",
        ),
        (
            f"getBalances {MANY_ADDRESSES:,} addr, server duration, ms",
            f"{many_ms:g}",
            f"{one_ms:g} for 1 addr",
            "",
        ),
        (
            "    round trip, ms",
            f"{many_trip_ms:.2f}",
            f"{one_trip_ms:.2f} for 1 addr",
            f"{many_trip_ms / one_trip_ms:.1f}x",
        ),
    ]
    report("pyri API on loopback, 64 connections", rows, figures)
    if "--json" in sys.argv:
        return
    checks: Sequence[tuple[str, bool, str]] = [
        ("getBalances / trivial >= 0.70", ratio >= 0.70, f"{ratio:.2f}"),
        ("2 workers / 1 worker >= 1.3", scaling >= 1.3, f"{scaling:.2f}"),
        ("1,000-address duration <= 5 ms", many_ms <= 5, f"{many_ms:g} ms"),
    ]
    for label, met, value in checks:
        print(f"target {label}: {value}, {'met' if met else 'MISSED'}")
    print(
        f"load generator: {loadgen}, {CONNECTIONS} connections, {RUN_S} s per run after a "
        f"{WARMUP_S} s warm-up, {ROUNDS} interleaved rounds (trivial, getBalances on 1 worker, "
        f"on 2 workers, on 1 worker for another of {UNCACHED_ADDRESSES:,} addresses each "
        f"request so that no answer comes from the worker's cache), best round shown; "
        f"req/s of every round: {figures['all_rps']}; "
        f"{errors} errors or non-200 answers; load average at start {load_at_start:.2f} (the "
        f"machine is shared). Trivial endpoint: "
        f"getNodeAPIConfiguration (its handler returns static configuration). Durations: "
        f"median of {DURATION_CALLS} calls on one keep-alive connection (server 'duration' "
        f"is whole ms, as IRI's). Nodes: pyri run on {HOST}, ledger at milestone {MILESTONES}; "
        f"stopped with SIGTERM {'cleanly' if clean else 'NOT cleanly'}."
        f" Whole bench: {total_s:.0f} s."
    )


if __name__ == "__main__":
    main()
