"""``pyri run``: start the node and keep it running until SIGINT or SIGTERM.

The main process owns the database as its single writer: it ingests, applies milestones, and
serves store/broadcast calls of the API workers over a local socket. The API itself runs in
``--api-workers`` granian worker processes, each reading the same LMDB database read-only.

A "database in use" flag is set at start and cleared on a clean shutdown; finding it set at
start means the last run crashed, and the ledger is then verified against the stored state diffs
before anything else happens.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import multiprocessing
import os
import secrets
import signal
import socket
import sys
import tempfile
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Final

from pyri import collector
from pyri.api.config import ApiConfig
from pyri.consensus.ledger import Ledger, LedgerError, initialize
from pyri.consensus.snapshot_files import (
    SnapshotState,
    read_global_snapshot,
    read_local_snapshot,
)
from pyri.consensus.tangle import Tangle, TangleConfig
from pyri.errors import PyriError
from pyri.node.config import NodeConfig, is_local_snapshot
from pyri.node.write_counter import WriteCounter
from pyri.node.writer import Writer, WriterServer
from pyri.storage import open_engine, schema
from pyri.storage.engine import KVEngine
from pyri.trinary import NULL_HASH

_LOG: Final = logging.getLogger("pyri.node")
_NON_TESTNET_MWM_FLOOR: Final = 13


def load_snapshot(config: NodeConfig) -> SnapshotState | None:
    """The snapshot ``--snapshot`` names: a global snapshot file, or the base path of IRI local
    snapshot files (``BASE.snapshot.meta`` and ``BASE.snapshot.state``)."""
    if config.snapshot is None:
        return None
    if is_local_snapshot(config.snapshot):
        return read_local_snapshot(config.snapshot)
    coordinator = config.coordinator
    return read_global_snapshot(
        config.snapshot,
        index=coordinator.milestone_start_index,
        timestamp=coordinator.snapshot_time,
    )


def tangle_config(
    config: NodeConfig, entry_points: frozenset[str] = frozenset(), timestamp: int | None = None
) -> TangleConfig:
    coordinator = config.coordinator
    mwm = coordinator.mwm if config.testnet else max(coordinator.mwm, _NON_TESTNET_MWM_FLOOR)
    return TangleConfig(
        mwm=mwm,
        # The lower bound of the timestamp rule is the snapshot's time (§3.2).
        snapshot_timestamp_s=coordinator.snapshot_time if timestamp is None else timestamp,
        solid_entry_points=frozenset({NULL_HASH}) | entry_points,
    )


def api_config(config: NodeConfig) -> ApiConfig:
    extra: dict[str, object] = {}
    if config.remote_limit_api is not None:
        extra["remote_limit_api"] = frozenset(config.remote_limit_api)
    if config.remote_trusted_api_hosts is not None:
        extra["remote_trusted_api_hosts"] = frozenset(config.remote_trusted_api_hosts)
    return ApiConfig(
        max_body_length=config.max_body_length,
        max_requests_list=config.max_requests_list,
        max_find_transactions=config.max_find_transactions,
        max_get_trytes=config.max_get_trytes,
        remote_auth=config.remote_auth,
        api_tokens=frozenset(config.api_tokens),
        openapi_path=config.openapi_path,
        testnet=config.testnet,
        milestone_start_index=config.coordinator.milestone_start_index,
        **extra,  # type: ignore[arg-type]
    )


def _mark_in_use(engine: KVEngine) -> bool:
    """Set the in-use flag; True if it was already set (the last run did not shut down)."""
    with engine.read() as view:
        crashed = view.get(schema.NODE_META, schema.META_DB_IN_USE) is not None
    with engine.write() as batch:
        batch.put(schema.NODE_META, schema.META_DB_IN_USE, b"\x01")
    return crashed


def _clear_in_use(engine: KVEngine) -> None:
    with engine.write() as batch:
        batch.delete(schema.NODE_META, schema.META_DB_IN_USE)


def open_node(config: NodeConfig) -> tuple[KVEngine, Tangle, Ledger, IO[str]]:
    """Open the database, start the ledger from the snapshot, recover after a crash."""
    config.db_path.mkdir(parents=True, exist_ok=True)
    lock = _lock_database(config.db_path)
    engine = open_engine(config.db_path)
    coordinator = config.coordinator
    crashed = _mark_in_use(engine)
    state = load_snapshot(config)
    entry_points = frozenset(state.solid_entry_points) if state is not None else frozenset()
    timestamp = coordinator.snapshot_time if state is None else state.timestamp
    tangle = Tangle(engine, tangle_config(config, entry_points, timestamp))
    initialize(tangle, coordinator, state)
    ledger = Ledger(tangle, coordinator, report=lambda text: _LOG.error("%s", text))
    if crashed:
        _LOG.warning("the last run did not shut down cleanly: verifying the ledger")
        problems = ledger.verify()
        if problems:
            for problem in problems[:20]:
                _LOG.error("ledger verification: %s", problem)
            raise LedgerError(
                f"the ledger does not match its stored state diffs ({len(problems)} problems)"
            )
        _LOG.warning("ledger verified at milestone %d", ledger.status().solid_index)
    ledger.rescan()
    return engine, tangle, ledger, lock


def _lock_database(path: Path) -> IO[str]:
    """Make this process the database's only writer while the returned file stays open (LMDB
    itself would let a second node write the same files)."""
    handle = (path / "pyri.lock").open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise LedgerError(f"the database at {path} is in use by another pyri process") from None
    return handle


def _bind_address(host: str) -> str:
    return {"localhost": "127.0.0.1", "": "0.0.0.0"}.get(host, host)


def run(config: NodeConfig) -> int:
    """Start the writer process, wait until its ledger is ready, then serve the API until
    SIGINT/SIGTERM, and stop the writer cleanly."""
    _setup_logging()
    problem = _port_problem(_bind_address(config.api_host), config.port)
    if problem is not None:
        print(f"pyri run: {problem}", file=sys.stderr)
        return 1
    # One socket name per database: a run killed with SIGKILL leaves its socket behind, and the
    # next run on the same database replaces it instead of leaving litter.
    digest = hashlib.sha1(str(config.db_path.resolve()).encode()).hexdigest()[:16]
    socket_path = Path(tempfile.gettempdir()) / f"pyri-writer-{digest}.sock"
    # The writer's count of writes, which API workers read to reuse answers (write_counter.py).
    counter_path = socket_path.with_suffix(".count")
    key = secrets.token_bytes(32)
    # The writer is a spawned process, not a thread: the API workers are forked from this
    # process, and LMDB must not be open in a process that forks.
    context = multiprocessing.get_context("spawn")
    parent_end, child_end = context.Pipe()
    process = context.Process(
        target=_writer_main,
        args=(config.to_json(), str(socket_path), str(counter_path), key, child_end),
        name="pyri-writer",
    )
    process.start()
    child_end.close()
    try:
        status, message = parent_end.recv()
    except EOFError:
        status, message = "error", "the writer process died during start-up"
    if status != "ready":
        process.join(timeout=10)
        print(f"pyri run: {message}", file=sys.stderr)
        return 1
    from pyri.node import worker

    os.environ[worker.ENV_CONFIG] = config.to_json()
    os.environ[worker.ENV_SOCKET] = str(socket_path)
    os.environ[worker.ENV_COUNTER] = str(counter_path)
    os.environ[worker.ENV_KEY] = key.hex()
    try:
        _serve(config)
    finally:
        _LOG.info("shutting down")
        with contextlib.suppress(OSError):
            parent_end.send(("stop", None))
        process.join(timeout=30)
        if process.is_alive():
            process.terminate()
        with contextlib.suppress(OSError):
            socket_path.unlink()
    return 0 if process.exitcode == 0 else 1


def _port_problem(address: str, port: int) -> str | None:
    """Why the API cannot listen on ``address:port``, or None. Checked before anything starts,
    so that a taken port is one clear line instead of a server's traceback."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as error:
            shown = f"[{address}]" if family == socket.AF_INET6 else address
            return f"cannot listen on {shown}:{port}: {error.strerror or error}"
    return None


def _setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )


def _writer_main(
    config_json: str, socket_path: str, counter_path: str, key: bytes, control: Connection
) -> None:
    """The writer process: database, ledger, milestone processing, the store/broadcast socket."""
    _setup_logging()
    collector.tune_for_bulk_writes()
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    config = NodeConfig.from_json(config_json)
    try:
        engine, tangle, ledger, lock = open_node(config)
    except PyriError as error:
        control.send(("error", str(error)))
        return
    # Created only now that this process holds the database lock: a second node started on
    # the same database must not replace the count the running node's workers read.
    counter = WriteCounter.create(Path(counter_path))
    writer = Writer(tangle, ledger, counter=counter)
    server = WriterServer(writer, Path(socket_path), key)
    try:
        writer.process()
        writer.start()
        server.start()
        status = ledger.status()
        _LOG.info(
            "ledger at milestone %d (snapshot %d); coordinator %s",
            status.solid_index,
            status.snapshot_index,
            config.coordinator.address,
        )
        control.send(("ready", None))

        def wait_for_parent() -> None:
            with contextlib.suppress(EOFError, OSError):
                control.recv()
            stop.set()

        threading.Thread(target=wait_for_parent, daemon=True).start()
        stop.wait()
    finally:
        writer.stop()
        server.close()
        counter.close()
        Path(counter_path).unlink(missing_ok=True)
        _clear_in_use(engine)
        engine.close()
        lock.close()
        _LOG.info("database closed cleanly")


def _serve(config: NodeConfig) -> None:
    if config.api_server == "uvicorn":
        _serve_uvicorn(config)
    else:
        _serve_granian(config)


def _serve_uvicorn(config: NodeConfig) -> None:
    import uvicorn

    address = _bind_address(config.api_host)
    _LOG.info(
        "API on http://%s:%d (uvicorn, %d worker(s))", address, config.port, config.api_workers
    )
    # uvicorn stops on SIGINT/SIGTERM by itself and returns.
    uvicorn.run(
        "pyri.node.worker:create",
        factory=True,
        host=address,
        port=config.port,
        workers=config.api_workers,
        log_level="warning",
        access_log=False,
    )


def _serve_granian(config: NodeConfig) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    address = _bind_address(config.api_host)
    _LOG.info("API on http://%s:%d (%d worker(s))", address, config.port, config.api_workers)
    server = Granian(
        "pyri.node.worker:create",
        address=address,
        port=config.port,
        interface=Interfaces.ASGI,
        workers=config.api_workers,
        factory=True,
        log_enabled=False,
        backlog=2048,
    )

    # Granian stops its workers on SIGINT/SIGTERM and returns; the node then shuts down.
    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve()
