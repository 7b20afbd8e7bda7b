"""The devnet end to end: a real ``pyri run`` node on a loopback port, the coordinator and the
workload against it for a few dozen milestones, the node restarted in the middle, then the
coordinator restarted; then every confirmed balance is checked against an independent replay of
the node's own milestones and transactions, and against the transfers the workload reports
confirmed.

Skipped, saying so, when ``pyri run`` is not available (``pyri run --help`` fails).
"""

from __future__ import annotations

import contextlib
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pyri.crypto.sponge import SpongeMode
from pyri.devnet.client import NodeClient
from pyri.devnet.coordinator import Coordinator, CoordinatorSettings, IssuedMilestone
from pyri.devnet.errors import NodeUnavailable
from pyri.devnet.genesis import DevnetConfig, init_devnet
from pyri.devnet.merkle_tree import TreeSpec
from pyri.devnet.milestones import CoordinatorKeys
from pyri.devnet.runner import NodeProcess, node_command
from pyri.devnet.seeds import seed_file
from pyri.devnet.spam import MESSAGE_ADDRESS, Spammer, SpamSettings
from pyri.model.bundle import SUPPLY
from tests.devnet.replay import Replay
from tests.e2e.node import free_port

LOOPBACK = "127.0.0.1"
MWM = 2
PHASES = (12, 24, 36)  # node restart after the first, coordinator restart after the second


def _pyri_run_available() -> bool:
    probe = subprocess.run(
        [sys.executable, "-m", "pyri.cli", "run", "--help"], capture_output=True, timeout=60
    )
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    not _pyri_run_available(), reason="pyri run is not available yet (pyri run --help fails)"
)


class Node:
    """``pyri run -c DIR/pyri.ini`` on a fixed loopback port, restartable."""

    def __init__(self, config: DevnetConfig, port: int) -> None:
        self.config = config
        self.port = port
        self.client = NodeClient(f"http://{LOOPBACK}:{port}", timeout=30)
        self.logged: list[int] = []
        self.process: NodeProcess | None = None

    def start(self) -> None:
        command = node_command(self.config.ini_path, self.port, ("--api-host", LOOPBACK))
        self.process = NodeProcess(command, self.config.node_log_path, self._line)
        self.process.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.exited() is None, f"node exited:\n{self.process.tail()}"
            try:
                self.client.node_info()
                return
            except NodeUnavailable:
                time.sleep(0.1)
        raise AssertionError(f"node did not start:\n{self.process.tail()}")

    def _line(self, index: int, confirmed: int, changed: int) -> None:
        self.logged.append(index)

    def stop(self) -> None:
        assert self.process is not None
        code = self.process.stop()
        assert code == 0, f"node exited with {code}:\n{self.process.tail()}"

    def ensure_stopped(self) -> None:
        """For teardown: stop the node if a failed assertion left it running."""
        if self.process is not None and self.process.exited() is None:
            self.process.stop()

    def solid_index(self) -> int:
        return self.client.node_info().latest_solid_milestone_index


class Worker:
    """Runs ``work(stop)`` in a thread; ``stop`` joins it and re-raises what it raised."""

    def __init__(self, work: Callable[[threading.Event], object]) -> None:
        self.stop_event = threading.Event()
        self.error: BaseException | None = None

        def body() -> None:
            try:
                work(self.stop_event)
            except BaseException as error:
                self.error = error

        self.thread = threading.Thread(target=body, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error


def _wait_for(node: Node, index: int, workers: list[Worker], timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker in workers:
            assert worker.error is None, repr(worker.error)
        try:
            if node.solid_index() >= index:
                return
        except NodeUnavailable:
            pass
        time.sleep(0.1)
    raise AssertionError(f"milestone {index} not applied within {timeout} s")


@pytest.fixture
def teardown() -> Iterator[list[Callable[[], object]]]:
    """Actions run after the test whatever happened (no node outlives a failed assertion)."""
    actions: list[Callable[[], object]] = []
    yield actions
    for action in reversed(actions):
        with contextlib.suppress(Exception):
            action()


def test_devnet_end_to_end(tmp_path: Path, teardown: list[Callable[[], object]]) -> None:
    started = time.monotonic()
    port = free_port()
    config, _ = init_devnet(
        tmp_path, tree=TreeSpec(7, 1, SpongeMode.CURLP27), mwm=MWM, port=port, progress=False
    )
    node = Node(config, port)
    teardown.append(node.ensure_stopped)
    node.start()
    keys = CoordinatorKeys.open(
        config.coordinator_dir / "tree", seed_file(config.coordinator_dir / "seed")
    )
    settings = CoordinatorSettings(interval=0.3, mwm=MWM, apply_timeout=20, poll=0.02)
    issued: list[IssuedMilestone] = []

    def coordinate(stop: threading.Event) -> None:
        coordinator = Coordinator(node.client, keys, config.coordinator_dir, settings)
        coordinator.run(stop, on_issue=issued.append)

    wallet = config.wallet()
    spam_settings = SpamSettings(
        rate=12,
        mwm=MWM,
        message_share=0.15,
        double_spend_share=0.2,
        reattach_share=0.15,
        reattach_after=0.5,
    )
    spammer = Spammer(node.client, wallet, spam_settings, rng=random.Random(2026))
    workers = [Worker(coordinate), Worker(spammer.run)]
    teardown.append(lambda: [worker.stop() for worker in workers])

    # Phase 1, then the node restarts under the running coordinator and workload.
    _wait_for(node, PHASES[0], workers)
    node.stop()
    time.sleep(0.5)  # the coordinator and the workload meet a node that is away
    node.start()
    after_restart = node.solid_index()
    assert after_restart >= PHASES[0], "the node lost applied milestones in its restart"

    # Phase 2, then the coordinator restarts from its directory.
    _wait_for(node, PHASES[1], workers)
    workers[0].stop()
    last_before = max(m.index for m in issued)
    resumed_from = len(issued)
    workers[0] = Worker(coordinate)

    # Phase 3; then the workload stops and two more milestones confirm what it sent last.
    _wait_for(node, PHASES[2], workers)
    workers[1].stop()
    final_target = node.solid_index() + 2
    _wait_for(node, final_target, workers[:1])
    workers[0].stop()
    spammer.refresh(force=True)
    report = spammer.report()
    assert issued[resumed_from].index == last_before + 1, "the coordinator skipped an index"

    # Every index from 1 to the latest has exactly one milestone, and the node applied them all.
    info = node.client.node_info()
    latest = info.latest_solid_milestone_index
    assert latest == info.latest_milestone_index >= final_target
    replay = Replay(node.client, dict(config.balances))
    candidates = node.client.find_transactions(addresses=[keys.address])
    replay.fetch(candidates)
    tails: dict[int, list[str]] = {}
    for tx_hash in candidates:
        tx = replay.transactions[tx_hash]
        assert tx is not None
        if tx.current_index == 0:
            tails.setdefault(tx.milestone_index, []).append(tx_hash)
    assert sorted(tails) == list(range(1, latest + 1))
    assert all(len(hashes) == 1 for hashes in tails.values()), "an index was signed twice"
    # The log is read by another thread, which may not have reached the newest line yet.
    deadline = time.monotonic() + 10
    while not set(range(1, latest + 1)) <= set(node.logged) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(range(1, latest + 1)) - set(node.logged) == set()

    # The independent replay, milestone by milestone, against getBalances at each milestone.
    addresses = set(config.balances) | set(wallet.addresses())
    # The null address (sibling and merge transactions) cannot be searched; the walk fetches
    # those as it meets them.
    replay.prefetch(addresses | {keys.address, MESSAGE_ADDRESS})
    for index in range(1, latest + 1):
        replay.apply(index, tails[index][0])
        addresses |= set(replay.balances)
        listed = sorted(addresses)
        at = node.client.get_balances(listed, milestone_index=index)
        assert at.milestone_index == index
        expected = [replay.history[index].get(a, 0) for a in listed]
        assert at.balances == expected, f"balances after milestone {index} differ"
    listed = sorted(addresses)
    confirmed = node.client.balances_of(listed)
    assert confirmed == {a: replay.balances.get(a, 0) for a in listed}
    assert sum(replay.balances.values()) == SUPPLY
    assert sum(confirmed.values()) == SUPPLY

    # No double spend confirmed twice; no value bundle counted twice.
    pairs = report.double_spends()
    assert pairs, "the workload sent no double spend"
    counted = replay.bundles_confirmed()
    for first, second in pairs:
        assert not (counted.get(first.bundle) and counted.get(second.bundle))
        assert not (first.confirmed and second.confirmed)
    for transfer in report.transfers:
        if transfer.diff:
            assert counted.get(transfer.bundle, 0) <= 1
        # The workload's view (getInclusionStates) is the replay's, attachment by attachment.
        assert set(transfer.confirmed_tails) == {t for t in transfer.tails if t in replay.confirmed}

    # Each funded address follows the transfers the workload reports confirmed.
    expected_balances = dict(config.balances)
    for address, change in report.confirmed_changes().items():
        expected_balances[address] = expected_balances.get(address, 0) + change
    wallet_addresses = sorted(set(wallet.addresses()) | set(config.balances))
    assert {a: confirmed[a] for a in wallet_addresses} == {
        a: expected_balances.get(a, 0) for a in wallet_addresses
    }
    assert report.count("value", confirmed=True) >= 10
    assert report.count("message", confirmed=True) >= 1

    print(
        f"e2e: {latest} milestones, {len(report.transfers)} bundles, "
        f"{report.count('value', confirmed=True)} transfers confirmed, {len(pairs)} double spends, "
        f"{sum(len(t.tails) - 1 for t in report.transfers)} reattachments, "
        f"{len(replay.confirmed)} tails confirmed, {time.monotonic() - started:.1f} s"
    )
    node.stop()


def _read_until(process: subprocess.Popen[str], pattern: str, lines: list[str]) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + 40
    for line in process.stdout:
        lines.append(line)
        if pattern in line:
            return
        assert time.monotonic() < deadline, "".join(lines)
    raise AssertionError(f"pyri devnet ended before {pattern!r}:\n{''.join(lines)}")


def test_pyri_devnet_command_stops_on_ctrl_c_and_continues(tmp_path: Path) -> None:
    port = free_port()
    init_devnet(tmp_path, tree=TreeSpec(6, 1, SpongeMode.CURLP27), mwm=MWM, progress=False)
    command = [sys.executable, "-m", "pyri.cli", "devnet", "--dir", str(tmp_path)]
    command += ["--port", str(port), "--interval", "0.3", "--rate", "4"]
    reached = 0
    for _ in range(2):
        lines: list[str] = []
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            _read_until(process, "curl -s http://localhost:", lines)
            target = f"milestone {reached + 3:>5}"
            _read_until(process, target, lines)
            process.send_signal(signal.SIGINT)
            output, _ = process.communicate(timeout=40)
        finally:
            if process.poll() is None:
                process.kill()
        text = "".join(lines) + output
        assert process.returncode == 0, text
        assert "continuing devnet" in text
        assert "stopped; `pyri devnet" in text, text
        indexes = [int(m.group(1)) for m in re.finditer(r"^milestone +(\d+) ", text, re.M)]
        # The second run goes on from where the first stopped: no index twice, none skipped.
        assert indexes == list(range(reached + 1, reached + 1 + len(indexes))), text
        reached = indexes[-1]
        with socket.socket() as probe:
            assert probe.connect_ex((LOOPBACK, port)) != 0, "the node is still listening"
