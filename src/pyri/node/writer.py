"""The node's single writer: every transaction enters the Tangle here, and every milestone is
applied here, one at a time.

API worker processes hand their storeTransactions and broadcastTransactions calls to the writer
over a local socket (``WriterServer``/``WriterClient``, standard ``multiprocessing.connection``:
framed, authenticated with a per-run key); in-process callers use ``Writer`` directly. Each call
returns after its batch is committed, so an acknowledged transaction survives any crash.

In its spare time the writer judges the bundles (value and zero-value) that ingest has made
solid, a bounded chunk at a time (``pyri.consensus.prevalidation``), so that the milestone
confirming them and getBalances with tips find their verdicts cached. Callers come first: a
chunk starts only while no store, broadcast or milestone processing call is waiting (or after a
second of waiting, so that a writer that is never idle still makes progress), never while
milestone processing is due, and the lock is released after each chunk (~40 ms of judging).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Final

from pyri.consensus.ledger import AppliedMilestone, Ledger
from pyri.consensus.prevalidation import CHUNK_SECONDS, CHUNK_TAILS, Chunk, Prevalidator
from pyri.consensus.tangle import IngestResult, IngestStatus, Tangle
from pyri.consensus.validation import check_transaction
from pyri.errors import PyriError, TrinaryError
from pyri.model.transaction import ParsedBatch, Transaction, parse_batch_matrices
from pyri.node.write_counter import WriteCounter

_LOG: Final = logging.getLogger("pyri.node")
# How often the writer re-runs milestone processing when no transactions arrive (a milestone
# can become applicable only through a new transaction, but a failed one is retried).
_IDLE_SECONDS: Final = 1.0
# Prevalidation yields to callers, but not for ever: under a steady stream of calls one chunk
# still runs after this long without one (holding the next call up by one chunk at most).
_MAX_DEFER_SECONDS: Final = 1.0


@dataclass(frozen=True, slots=True)
class Rejection:
    """storeTransactions' answer when one transaction fails validation: nothing was stored."""

    index: int
    tx_hash: str
    reason: str
    detail: str


class WriterError(PyriError):
    """The writer could not be reached or failed; the API answers 500."""


class Writer:
    """Serialises ingest and milestone processing. Thread-safe: callers block until their batch
    is stored and any milestone it completes is applied. ``chunk_tails`` and ``chunk_seconds``
    bound one chunk of spare-time bundle validation (``prevalidate``)."""

    def __init__(
        self,
        tangle: Tangle,
        ledger: Ledger,
        on_applied: Callable[[AppliedMilestone], None] | None = None,
        clock: Callable[[], float] = time.time,
        counter: WriteCounter | None = None,
        *,
        chunk_tails: int = CHUNK_TAILS,
        chunk_seconds: float = CHUNK_SECONDS,
    ) -> None:
        self._tangle = tangle
        self._ledger = ledger
        self._on_applied = on_applied or _log_applied
        self._clock = clock
        # Bumped around every write step, so that API workers know when to read again.
        self._counter = counter or WriteCounter.in_memory()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._prevalidator = Prevalidator(tangle)
        self._chunk_tails = chunk_tails
        self._chunk_seconds = chunk_seconds
        # Calls waiting for the lock or holding it: prevalidation waits while there are any.
        self._callers = 0
        self._callers_lock = threading.Lock()
        self._wake = threading.Event()  # a call ended, or stop: the background loop looks again

    def store(self, trytes: Sequence[str]) -> Rejection | None:
        """storeTransactions: validate every transaction; if one fails, store none and say
        which; otherwise store them all in one atomic batch (iri-consensus-reference §3.4)."""
        batch = parse_batch_matrices(trytes)
        parsed = batch.items
        now_ms = int(self._clock() * 1000)
        config = self._tangle.config
        for index, item in enumerate(parsed):
            if isinstance(item, TrinaryError):
                return Rejection(index, "", "Invalid transaction trytes", str(item))
            problem = check_transaction(
                item,
                mwm=config.mwm,
                snapshot_timestamp_s=config.snapshot_timestamp_s,
                now_ms=now_ms,
                solid_entry_points=config.solid_entry_points,
            )
            if problem is not None:
                return Rejection(index, item.hash, str(problem), problem.detail)
        self._ingest([tx for tx in parsed if isinstance(tx, Transaction)], batch)
        return None

    def broadcast(self, trytes: Sequence[str]) -> list[IngestResult]:
        """broadcastTransactions: invalid transactions are dropped silently."""
        with self._call():
            results = self._tangle.ingest(list(trytes), on_solid_tails=self._prevalidator.add)
            self._after(results)
        return results

    def _ingest(self, transactions: Sequence[Transaction], source: ParsedBatch) -> None:
        with self._call():
            results = self._tangle.ingest_parsed(
                list(transactions), source, on_solid_tails=self._prevalidator.add
            )
            self._after(results)

    @contextmanager
    def _call(self) -> Iterator[None]:
        """One caller's write step: counted as waiting from before it takes the lock until
        after it has released it, so that prevalidation leaves it the lock."""
        with self._callers_lock:
            self._callers += 1
        try:
            with self._lock, self._counter.writing():
                yield
        finally:
            with self._callers_lock:
                self._callers -= 1
            self._wake.set()

    def _after(self, results: Sequence[IngestResult]) -> None:
        # Coordinator transactions go to the milestone stage even when already stored (§3.4).
        self._ledger.note(
            r.transaction
            for r in results
            if r.transaction is not None and r.status is not IngestStatus.REJECTED
        )
        self._ledger.process(self._on_applied)

    def process(self) -> None:
        """Apply the milestones that have become applicable."""
        with self._call():
            self._ledger.process(self._on_applied)

    @property
    def prevalidation_backlog(self) -> int:
        """How many solid tails wait to be judged in spare time."""
        return len(self._prevalidator)

    def prevalidate(self) -> Chunk:
        """One chunk of spare-time bundle validation: at most ``chunk_tails`` queued tails, or
        ``chunk_seconds`` of judging, with the verdicts that may be cached written in one batch
        (a counted write step). The background loop calls this when no caller is waiting."""
        with self._lock:
            return self._prevalidator.run_chunk(
                max_tails=self._chunk_tails,
                max_seconds=self._chunk_seconds,
                writing=self._counter.writing,
            )

    def start(self) -> None:
        """Run in the background as well: milestone processing every second (retries after
        failures) and, in between, prevalidation chunks while no caller waits."""
        self._thread = threading.Thread(target=self._loop, name="pyri-writer", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        clock = time.monotonic
        next_process = clock() + _IDLE_SECONDS
        deferred_since: float | None = None  # since when a chunk has waited for callers
        while not self._stop.is_set():
            self._wake.clear()  # before looking, so that no call's ending goes unnoticed
            now = clock()
            if now >= next_process:
                # Milestones first: no chunk runs while processing is due.
                try:
                    self.process()
                except Exception:  # a fault must not stop the node's writer for good
                    _LOG.exception("milestone processing failed")
                next_process = clock() + _IDLE_SECONDS
                continue
            timeout = next_process - now
            if not len(self._prevalidator):
                deferred_since = None
            elif self._callers == 0 or (
                deferred_since is not None and now - deferred_since >= _MAX_DEFER_SECONDS
            ):
                try:
                    self.prevalidate()
                except Exception:  # its tails are lost: they are judged on demand later
                    _LOG.exception("bundle prevalidation failed")
                deferred_since = None
                continue
            else:
                if deferred_since is None:
                    deferred_since = now
                timeout = min(timeout, deferred_since + _MAX_DEFER_SECONDS - now)
            self._wake.wait(max(0.0, timeout))

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:  # wait for a batch in progress
            pass


def _log_applied(applied: AppliedMilestone) -> None:
    _LOG.info(
        "milestone %d applied: %d transactions confirmed, %d addresses changed",
        applied.index,
        applied.confirmed,
        applied.changed_addresses,
    )


class WriterServer:
    """Accepts store and broadcast calls from API worker processes on a Unix socket."""

    def __init__(self, writer: Writer, path: Path, authkey: bytes) -> None:
        self._writer = writer
        self._path = path
        if path.exists():
            path.unlink()  # left over from a crash: nobody else may write this database
        self._listener = Listener(str(path), family="AF_UNIX", authkey=authkey)
        self._thread = threading.Thread(target=self._accept, name="pyri-ipc", daemon=True)
        self._closed = False

    def start(self) -> None:
        self._thread.start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                connection = self._listener.accept()
            except OSError:
                return
            except Exception:  # a client that fails authentication, for instance
                continue
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: Connection) -> None:
        with connection:
            while True:
                try:
                    operation, trytes = connection.recv()
                except (EOFError, OSError):
                    return
                try:
                    if operation == "store":
                        reply: object = ("ok", self._writer.store(trytes))
                    elif operation == "broadcast":
                        self._writer.broadcast(trytes)
                        reply = ("ok", None)
                    else:
                        reply = ("error", f"unknown operation {operation!r}")
                except Exception as error:
                    _LOG.exception("writer call failed")
                    reply = ("error", f"{type(error).__name__}: {error}")
                try:
                    connection.send(reply)
                except OSError:
                    return

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        if self._path.exists():
            self._path.unlink()


class WriterClient:
    """A worker process's line to the writer: one connection per thread."""

    def __init__(self, path: Path, authkey: bytes) -> None:
        self._path = path
        self._authkey = authkey
        self._local = threading.local()

    def _call(self, operation: str, trytes: Sequence[str]) -> object:
        for attempt in range(2):
            connection: Connection | None = getattr(self._local, "connection", None)
            try:
                if connection is None:
                    connection = Client(str(self._path), family="AF_UNIX", authkey=self._authkey)
                    self._local.connection = connection
                connection.send((operation, list(trytes)))
                status, value = connection.recv()
            except (OSError, EOFError) as error:
                self._local.connection = None
                if attempt:
                    raise WriterError(f"the node's writer is not reachable: {error}") from None
                continue
            if status != "ok":
                raise WriterError(str(value))
            return value
        raise WriterError("the node's writer is not reachable")

    def store(self, trytes: Sequence[str]) -> Rejection | None:
        result = self._call("store", trytes)
        return result if isinstance(result, Rejection) else None

    def broadcast(self, trytes: Sequence[str]) -> None:
        self._call("broadcast", trytes)
