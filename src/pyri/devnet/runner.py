"""``pyri devnet``: a private tangle in one command.

It creates the devnet directory if needed (``genesis``), starts a node on it (``pyri run -c
DIR/pyri.ini --port N`` as a child process, its output kept in ``DIR/node.log``), then runs the
coordinator and a gentle workload in two threads (their proof of work runs in compiled code
that releases the GIL), and prints one line per milestone. Ctrl-C stops the three in order
(workload, coordinator, node) and everything stays in the directory, so the next run continues
the same tangle.

The number of transactions each milestone confirmed is the node's own: it logs
``milestone <index> applied: <n> transactions confirmed, <m> addresses changed``; should a
node not log that, the line is printed from what the coordinator saw.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from pyri.devnet.client import NodeClient
from pyri.devnet.coordinator import Coordinator, CoordinatorSettings, IssuedMilestone
from pyri.devnet.errors import DevnetError, NodeUnavailable
from pyri.devnet.genesis import init_devnet
from pyri.devnet.milestones import CoordinatorKeys
from pyri.devnet.seeds import seed_file
from pyri.devnet.spam import Spammer, SpamSettings

MILESTONE_LINE: Final = re.compile(
    r"milestone (\d+) applied: (\d+) transactions? confirmed, (\d+) address(?:es)? changed"
)
NODE_START_TIMEOUT: Final = 120.0  # a first start may compile the numba kernels
NODE_STOP_TIMEOUT: Final = 20.0
# How long to wait for the node's own line about a milestone before printing the coordinator's.
NODE_LINE_GRACE: Final = 2.0

Print = Callable[[str], None]


def node_command(config_path: Path, port: int, extra: tuple[str, ...] = ()) -> list[str]:
    """``pyri run`` through this interpreter, so the node runs from the same install."""
    return [
        sys.executable,
        "-m",
        "pyri.cli",
        "run",
        "-c",
        str(config_path),
        "--port",
        str(port),
        *extra,
    ]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def curl_example(url: str, address: str) -> str:
    body = json.dumps({"command": "getBalances", "addresses": [address]})
    return (
        f"curl -s {url} -X POST -H 'Content-Type: application/json' "
        f"-H 'X-IOTA-API-Version: 1' -d '{body}'"
    )


class NodeProcess:
    """A ``pyri run`` child writing its output straight to a log file (so that it keeps
    logging whatever becomes of the devnet process), and a thread that follows the file and
    passes milestone lines to a callback."""

    def __init__(
        self, command: list[str], log_path: Path, on_milestone: Callable[[int, int, int], None]
    ) -> None:
        self.command = command
        self.log_path = log_path
        self._on_milestone = on_milestone
        self._process: subprocess.Popen[bytes] | None = None
        self._follower: threading.Thread | None = None
        self._done = threading.Event()

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(
                f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(self.command)}\n".encode()
            )
            offset = log.tell()
            # Its own session: Ctrl-C reaches only the devnet, which then stops the node in
            # order (workload, coordinator, node), and the node's group can be killed at once.
            self._process = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._follower = threading.Thread(
            target=self._follow, args=(offset,), name="node-log", daemon=True
        )
        self._follower.start()

    def _follow(self, offset: int) -> None:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            pending = b""
            while True:
                chunk = log.readline()
                if not chunk:
                    if self._done.wait(0.1):
                        return
                    continue
                pending += chunk
                if not pending.endswith(b"\n"):
                    continue  # a line still being written
                line, pending = pending.decode("utf-8", "replace"), b""
                match = MILESTONE_LINE.search(line)
                if match:
                    self._on_milestone(*(int(g) for g in match.groups()))

    @property
    def pid(self) -> int:
        return self._process.pid if self._process is not None else -1

    def exited(self) -> int | None:
        """The exit code once the node has stopped, else None."""
        return None if self._process is None else self._process.poll()

    def stop(self, timeout: float = NODE_STOP_TIMEOUT) -> int | None:
        """Ask the node to stop (SIGTERM: it finishes the batch in progress and closes its
        database), and kill its whole process group (writer, API workers) if it does not."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5.0)
        self._done.set()
        if self._follower is not None:
            self._follower.join(timeout=2.0)
        return process.returncode

    def tail(self, lines: int = 20) -> str:
        try:
            return "".join(self.log_path.read_text(encoding="utf-8").splitlines(True)[-lines:])
        except OSError:
            return ""


@dataclass
class _Reporter:
    """One line per milestone, from the node's log line or, failing that, the coordinator."""

    echo: Print
    spammer: Spammer | None = None
    printed: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _workload(self) -> str:
        if self.spammer is None:
            return ""
        # Only what was sent: the workload learns what got confirmed on its own schedule.
        return f"  (workload: {len(self.spammer.report().transfers)} bundles sent)"

    def node_line(self, index: int, confirmed: int, changed: int) -> None:
        with self.lock:
            if index in self.printed:
                return
            self.printed.add(index)
        self.echo(
            f"milestone {index:>5}  {confirmed:>4} transactions confirmed, "
            f"{changed:>3} addresses changed{self._workload()}"
        )

    def issued(self, milestone: IssuedMilestone) -> None:
        def fallback() -> None:
            with self.lock:
                if milestone.index in self.printed:
                    return
                self.printed.add(milestone.index)
            state = "applied" if milestone.applied else "NOT applied yet"
            self.echo(
                f"milestone {milestone.index:>5}  {state}, approves {milestone.tips} tips"
                f"{self._workload()}"
            )

        timer = threading.Timer(NODE_LINE_GRACE, fallback)
        timer.daemon = True
        timer.start()


@dataclass(frozen=True)
class RunOptions:
    port: int = 14265
    interval: float | None = None
    rate: float = 0.5
    spam: bool = True
    mwm: int | None = None
    workers: int = 1
    node_args: tuple[str, ...] = ()


def _wait_for_node(client: NodeClient, node: NodeProcess, timeout: float) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        code = node.exited()
        if code is not None:
            raise DevnetError(
                f"the node exited with code {code} while starting; last lines of "
                f"{node.log_path}:\n{node.tail()}"
            )
        with contextlib.suppress(NodeUnavailable):
            client.node_info()
            return
        time.sleep(0.25)
    raise DevnetError(f"the node did not answer within {timeout:.0f} s; see {node.log_path}")


@contextlib.contextmanager
def _signals(echo: Print) -> Iterator[Callable[[], None]]:
    """SIGTERM stops the devnet as cleanly as Ctrl-C. The context yields ``shielding``: once
    called, a further Ctrl-C or SIGTERM (an impatient second Ctrl-C, or ``timeout``, which
    signals its child and then its whole group) no longer interrupts the shutdown, which would
    leave the node running."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    def patience(signum: int, frame: object) -> None:
        echo("still stopping ...")

    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGTERM, interrupt)

    def shielding() -> None:
        for sig in previous:
            signal.signal(sig, patience)

    try:
        yield shielding
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_devnet(directory: Path, options: RunOptions, echo: Print = print) -> int:
    """Init if needed, then node + coordinator + workload until Ctrl-C. Returns an exit code."""
    started = time.monotonic()
    config, created = init_devnet(directory, port=options.port, workers=options.workers)
    if created:
        echo(
            f"created devnet in {directory}: coordinator key tree ({config.tree.describe()}) "
            f"built in {time.monotonic() - started:.1f} s"
        )
    else:
        echo(f"continuing devnet in {directory}")
    if port_in_use(options.port):
        raise DevnetError(f"port {options.port} is in use; pick another with --port")
    url = f"http://localhost:{options.port}"
    client = NodeClient(url, timeout=30.0)
    stop = threading.Event()
    failures: list[BaseException] = []
    reporter = _Reporter(echo)
    node = NodeProcess(
        node_command(config.ini_path, options.port, options.node_args),
        config.node_log_path,
        reporter.node_line,
    )
    threads: list[threading.Thread] = []

    def guarded(name: str, work: Callable[[], object]) -> threading.Thread:
        def body() -> None:
            try:
                work()
            except BaseException as error:  # reported by the main thread, which stops all
                failures.append(error)
                stop.set()

        thread = threading.Thread(target=body, name=name, daemon=True)
        threads.append(thread)
        return thread

    with _signals(echo) as shield:
        try:
            node.start()
            _wait_for_node(client, node, NODE_START_TIMEOUT)
            keys = CoordinatorKeys.open(
                config.coordinator_dir / "tree", seed_file(config.coordinator_dir / "seed")
            )
            mwm = options.mwm if options.mwm is not None else config.mwm
            interval = options.interval if options.interval is not None else config.interval
            coordinator = Coordinator(
                client,
                keys,
                config.coordinator_dir,
                CoordinatorSettings(interval=interval, mwm=mwm),
                log=lambda message: echo(f"coordinator: {message}"),
            )
            echo(f"node         {url}  (pid {node.pid}, log {config.node_log_path})")
            echo(f"coordinator  {keys.address}")
            echo(f"             a milestone every {interval:g} s, MWM {mwm}")
            if options.spam:
                wallet = config.wallet()
                spammer = Spammer(
                    client,
                    wallet,
                    # A wallet reattaches what stayed unconfirmed for two milestones.
                    SpamSettings(rate=options.rate, mwm=mwm, reattach_after=2 * interval),
                    log=lambda message: echo(f"workload: {message}"),
                )
                reporter.spammer = spammer
                seeds = directory / "devnet.json"
                echo(f"workload     {options.rate:g} bundles/s from the seeds in {seeds}")
            echo("")
            echo("Try:")
            echo(f"  {curl_example(url, config.reserve_address)}")
            echo(f"  pyri balances {config.reserve_address} --node {url}")
            echo("")
            guarded("coordinator", lambda: coordinator.run(stop, on_issue=reporter.issued)).start()
            if options.spam:
                guarded("workload", lambda: spammer.run(stop)).start()
            while not stop.wait(0.5):
                if node.exited() is not None:
                    raise DevnetError(
                        f"the node exited with code {node.exited()}; last lines of "
                        f"{node.log_path}:\n{node.tail()}"
                    )
        except KeyboardInterrupt:
            shield()
            echo("stopping ...")
        finally:
            shield()
            stop.set()
            try:
                for thread in reversed(threads):
                    thread.join(timeout=30.0)
            finally:
                node.stop()
    if failures:
        error = failures[0]
        if isinstance(error, DevnetError):
            raise error
        raise DevnetError(f"{type(error).__name__}: {error}") from error
    echo(f"stopped; `pyri devnet --dir {directory}` continues this tangle")
    return 0
