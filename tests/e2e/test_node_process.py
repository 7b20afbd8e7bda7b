"""``pyri run`` as a process: several API workers over one database, a clean stop and restart,
and a crash (SIGKILL of every node process) in the middle of applying milestones (issue 5,
"pyri run"; design.md, "Errors and data safety")."""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import select
import signal
import socket
import threading
import time
from typing import Any

from pyri.consensus.ledger import read_status
from pyri.storage import open_engine
from tests.consensus.milestone_builder import build_milestone
from tests.e2e.conftest import NodeFactory
from tests.e2e.node import LOOPBACK, ApiClient, NodeProcess, load, wait_for
from tests.e2e.tangles import (
    Scenario,
    coordinator,
    head_first,
    main_scenario,
    message_tree,
    milestone_stream,
    trytes_of,
)

NAMES = ("alice", "alice1", "bob", "bob1", "carol", "carol1", "dave", "erin", "frank", "filler")


def answers(client: ApiClient, scenario: Scenario, stored: list[str]) -> dict[str, Any]:
    """What a client sees of the node's state: getBalances (with and without tips, at every
    milestone), the milestone indexes, tips, missing transactions and every stored transaction."""
    wanted = [scenario.address(name) for name in NAMES if name in scenario.names]
    result: dict[str, Any] = {}

    def ok(command: str, **params: Any) -> dict[str, Any]:
        body = client.ok(command, **params)
        del body["duration"]
        return body

    result["balances"] = ok("getBalances", addresses=wanted)
    if "t3" in scenario.bundles:
        tips = [scenario.bundles["t3"].tail_hash, scenario.bundles["t4a"].tail_hash]
        result["through tips"] = ok("getBalances", addresses=wanted, tips=tips)
    for index in range(scenario.solid_index + 1):
        result[f"at {index}"] = ok("getBalances", addresses=wanted, milestoneIndex=index)
    info = ok("getNodeInfo")
    result["info"] = {
        key: info[key]
        for key in (
            "latestMilestone",
            "latestMilestoneIndex",
            "latestSolidSubtangleMilestone",
            "latestSolidSubtangleMilestoneIndex",
            "milestoneStartIndex",
            "lastSnapshottedMilestoneIndex",
            "tips",
            "transactionsToRequest",
        )
    }
    result["tips"] = sorted(ok("getTips")["hashes"])
    result["missing"] = ok("getMissingTransactions")["hashes"]
    result["trytes"] = ok("getTrytes", hashes=stored)["trytes"]
    result["spent"] = ok("wereAddressesSpentFrom", addresses=wanted)
    return result


def test_two_api_workers(nodes: NodeFactory) -> None:
    s = main_scenario()
    node = nodes("workers", s, ["--api-workers", "2"])
    node.start()
    # Every store goes from whichever worker took it to the one writer.
    loaded = load(node, s)
    assert "(2 worker(s))" in node.log_text()
    wanted = [s.address(name) for name in NAMES]
    expected = s.balances(3, wanted)
    tips = [s.bundles["t3"].tail_hash]
    problems: list[str] = []

    def reader() -> None:
        client = ApiClient(node.port)
        for _ in range(20):
            body = client.ok("getBalances", addresses=wanted)
            if body["balances"] != expected or body["milestoneIndex"] != 3:
                problems.append(f"no tips: {body}")
            body = client.ok("getBalances", addresses=wanted, tips=tips)
            if body["references"] != tips or body["milestoneIndex"] != 3:
                problems.append(f"tips: {body}")
            if client.ok("getNodeInfo")["latestSolidSubtangleMilestoneIndex"] != 3:
                problems.append("getNodeInfo")

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert problems == []
    hashes = list(loaded.stored)
    assert loaded.client.ok("getTrytes", hashes=hashes)["trytes"] == [
        loaded.stored[h].trytes for h in hashes
    ]
    assert node.stop() == 0, node.log_tail()


def test_restart_keeps_everything(nodes: NodeFactory) -> None:
    s = main_scenario()
    node = nodes("restart", s)
    node.start()
    loaded = load(node, s)
    stored = list(loaded.stored)
    before = answers(node.client, s, stored)
    assert before["info"]["latestSolidSubtangleMilestoneIndex"] == 3
    assert node.stop() == 0, node.log_tail()
    assert "database closed cleanly" in node.run_log(0)
    node.start()
    assert answers(node.client, s, stored) == before
    log = node.run_log(1)
    assert "did not shut down cleanly" not in log
    assert "ledger at milestone 3 (snapshot 0)" in log
    # SIGINT stops the node as cleanly as SIGTERM.
    assert node.stop(signal.SIGINT) == 0, node.log_tail()
    assert "database closed cleanly" in node.run_log(1)


def _applied(node: NodeProcess, start: int) -> list[int]:
    """Indexes of the 'milestone <i> applied' lines the node logged during start ``start``."""
    return [int(i) for i in re.findall(r"milestone (\d+) applied: ", node.run_log(start))]


def test_crash_while_applying_milestones(nodes: NodeFactory) -> None:
    """Every milestone of the stream waits for the first transfer; once it arrives the writer
    applies all of them in one go, and the node is killed (SIGKILL, every process at once) as
    soon as the second one is committed. After a restart it verifies the ledger, finds it at
    exactly the milestone committed last, applies the rest, and every balance at every
    milestone equals the uninterrupted computation.

    The test watches the commits by reading the node's LMDB database itself, read-only, as the
    API workers do: the node's only API worker is busy with the very call that applies the
    milestones, and the node logs them only once all are applied."""
    stream = milestone_stream()
    s = stream.scenario
    node = nodes("crash", s)
    node.start()
    client = node.client
    for transfer, milestone in zip(stream.transfers[1:], stream.milestones[1:], strict=True):
        client.store(head_first(transfer, milestone))
    client.store(head_first(stream.milestones[0]))
    info = client.ok("getNodeInfo")
    assert info["latestMilestoneIndex"] == stream.length  # all recorded, none solid
    assert info["latestSolidSubtangleMilestoneIndex"] == 0

    def send_first_transfer() -> None:
        # The node dies while answering this call.
        with contextlib.suppress(OSError, http.client.HTTPException):
            client.call("storeTransactions", trytes=trytes_of(head_first(stream.transfers[0])))

    engine = open_engine(node.db_path, readonly=True)
    try:

        def committed() -> int:
            with engine.read() as view:
                return read_status(view).solid_index

        sender = threading.Thread(target=send_first_transfer, daemon=True)
        sender.start()
        deadline = time.monotonic() + 30
        while committed() < 2:
            assert time.monotonic() < deadline, "the milestones were not applied"
            time.sleep(0.0002)
        node.crash()
        at_crash = committed()
    finally:
        engine.close()
    sender.join(timeout=30)
    assert "database closed cleanly" not in node.log_text()

    node.start()
    log = node.run_log(1)
    assert "the last run did not shut down cleanly: verifying the ledger" in log
    # The ledger is exactly at the last milestone committed before the crash.
    assert f"ledger verified at milestone {at_crash}\n" in log, log
    # The rest is applied at start, in order.
    wait_for(
        lambda: client.ok("getNodeInfo")["latestSolidSubtangleMilestoneIndex"] == stream.length,
        what="the remaining milestones",
    )
    assert _applied(node, 1) == list(range(at_crash + 1, stream.length + 1))
    wanted = stream.addresses
    for i in range(stream.length + 1):
        body = client.ok("getBalances", addresses=wanted, milestoneIndex=i)
        assert body["balances"] == s.balances(i, wanted), i
        assert body["references"] == [s.milestone_hashes[i]]
    body = client.ok("getBalances", addresses=wanted)
    assert body["balances"] == s.balances(stream.length, wanted)
    assert body["references"] == [s.milestone_hashes[stream.length]]
    senders = [s.address(f"sara{i}") for i in range(stream.length + 1)]
    spent = client.ok("wereAddressesSpentFrom", addresses=senders)["states"]
    assert spent == [True] * stream.length + [False]
    assert node.stop() == 0, node.log_tail()


def test_reads_are_answered_while_a_write_is_in_progress(nodes: NodeFactory) -> None:
    """A write with a tiny body that keeps the writer busy: one transaction that completes the
    cone of a milestone over 2,000 waiting transactions, which the writer then marks solid and
    confirms within the same call. A read sent meanwhile must not wait for it."""
    stream = milestone_stream()
    gate, layers = message_tree(1024)
    root = layers[-1][0]
    milestone = build_milestone(coordinator(), 1, trunk=root.hash, branch=root.hash)
    node = nodes("busy", stream.scenario)
    node.start()
    waiting = [tx for layer in layers for tx in layer]
    for start in range(0, len(waiting), 350):
        node.client.store(waiting[start : start + 350])
    node.client.store(head_first(milestone))
    writer = http.client.HTTPConnection(LOOPBACK, node.port, timeout=60)
    try:
        writer.request(
            "POST",
            "/",
            body=json.dumps({"command": "storeTransactions", "trytes": [gate.trytes]}),
            headers={"X-IOTA-API-Version": "1", "Content-Type": "application/json"},
        )
        time.sleep(0.05)  # the node took the small request in at once and is busy with it
        node.client.ok("getNodeInfo")
        # An ordering check, not a timing one: when the read has been answered, the write must
        # still be in progress (its answer not yet on the socket). A worker that blocked on the
        # write would answer the read only after the write's answer was sent.
        write_still_running = not select.select([writer.sock], [], [], 0)[0]
        reply = writer.getresponse()
        written = json.loads(reply.read())
    finally:
        writer.close()
    assert reply.status == 200, written
    assert node.client.ok("getNodeInfo")["latestSolidSubtangleMilestoneIndex"] == 1
    assert node.stop() == 0, node.log_tail()
    assert write_still_running, f"the read waited for the write ({written['duration']} ms)"


def test_a_busy_port_is_reported_plainly(nodes: NodeFactory) -> None:
    node = nodes("busy-port", main_scenario())
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        node.port = taken.getsockname()[1]
        code = node.run_to_exit()
    log = node.run_log(0)
    assert code != 0
    assert f"{LOOPBACK}:{node.port}" in log
    assert "Traceback" not in log, log
