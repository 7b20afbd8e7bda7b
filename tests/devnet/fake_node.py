"""A small in-process IRI-API node for the devnet tests, on a loopback port.

It is made of pyri's consensus functions over a ``MemoryReader`` (the same rules ``pyri run``
applies, without storage, workers or gossip): storeTransactions/broadcastTransactions check the
weight, store, propagate solidity and apply every milestone that validates (§6.2) and can be
applied (§7.2), strictly in index order; checkConsistency is the §7.9 walk with IRI's sync
check; the rest answers from the dictionaries. ``unavailable`` makes it drop connections, as a
restarting node would; ``failures`` lists milestones that could not be applied (a coordinator
bug if ever non-empty).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pyri.consensus.confirmation import MilestoneEffect, MilestoneFailure, milestone_effect
from pyri.consensus.coordinator import CoordinatorConfig
from pyri.consensus.ledger_view import TipsDiff, tails_consistent
from pyri.consensus.milestone import validate_milestone
from pyri.errors import TrinaryError
from pyri.model.transaction import Transaction
from pyri.trinary import NULL_HASH
from tests.consensus.memory_reader import MemoryReader

NOT_SYNCED = "This operation cannot be executed: The subtangle has not been updated yet."


class ApiError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class FakeNode:
    def __init__(
        self, config: CoordinatorConfig, balances: Mapping[str, int], *, mwm: int = 0
    ) -> None:
        self.config = config
        self.mwm = mwm
        self.reader = MemoryReader({NULL_HASH: 0})
        self.ledger = {a: b for a, b in balances.items() if b}
        self.history: dict[int, dict[str, int]] = {0: dict(self.ledger)}
        self.latest = 0
        self.latest_hash = NULL_HASH
        self.records: dict[int, str] = {}
        self.approved: set[str] = set()
        self.spent: set[str] = set()
        self.applied: list[tuple[int, int]] = []  # (index, transactions confirmed)
        self.failures: list[MilestoneFailure] = []
        self.unavailable = False
        self._parsed: dict[str, Transaction] = {}
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- HTTP ----------------------------------------------------------------------------------

    def start(self) -> str:
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                if node.unavailable:
                    self.close_connection = True
                    return  # no answer at all: the client sees the connection drop
                status, answer = node.handle(body)
                data = json.dumps({**answer, "duration": 0}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def handle(self, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        command = str(body.get("command"))
        method = getattr(self, f"_cmd_{command}", None)
        if method is None:
            return 400, {"error": f"Command [{command}] is unknown"}
        try:
            with self.lock:
                return 200, method(body)
        except ApiError as error:
            return error.status, {"error": str(error)}

    # --- state -----------------------------------------------------------------------------------

    def balances(self, addresses: Iterable[str]) -> dict[str, int]:
        return {a: self.ledger[a] for a in addresses if a in self.ledger}

    @property
    def latest_milestone(self) -> int:
        return max(self.records, default=0)

    def _synced(self) -> None:
        if self.latest == 0 or self.latest < self.latest_milestone - 1:
            raise ApiError(NOT_SYNCED)

    def _ingest(self, items: list[str], *, strict: bool) -> None:
        parsed: list[Transaction] = []
        for item in items:
            # storeTransactions and broadcastTransactions get the same trytes: parse them once.
            tx = self._parsed.get(item)
            if tx is None:
                try:
                    tx = self._parsed[item] = Transaction.from_trytes(item)
                except TrinaryError as error:
                    raise ApiError(f"Error: {error}") from None
            if tx.weight_magnitude < self.mwm:
                if strict:
                    raise ApiError("Error: Invalid transaction hash")
                continue
            parsed.append(tx)
        for tx in parsed:
            if tx.hash not in self.reader.transactions:
                self.reader.add(tx)
                self.approved.update((tx.trunk_transaction, tx.branch_transaction))
        self._propagate_solidity()
        self._apply_milestones()

    def _propagate_solidity(self) -> None:
        changed = True
        while changed:
            changed = False
            for tx_hash, tx in self.reader.transactions.items():
                if not self.reader.is_solid(tx_hash) and all(
                    self.reader.is_solid(h) for h in (tx.trunk_transaction, tx.branch_transaction)
                ):
                    self.reader.set_solid(tx_hash)
                    changed = True

    def _apply_milestones(self) -> None:
        while True:
            index = self.latest + 1
            for tx in list(self.reader.transactions.values()):
                if tx.address != self.config.address or tx.current_index != 0:
                    continue
                if tx.milestone_index != index:
                    if tx.milestone_index > index:
                        self._record(tx)
                    continue
                if not self._record(tx) or not self.reader.is_solid(tx.hash):
                    continue
                outcome = milestone_effect(
                    self.reader, tx.hash, index, self.balances, self.latest, 0
                )
                if isinstance(outcome, MilestoneEffect):
                    self._commit(outcome)
                    break
                if isinstance(outcome, MilestoneFailure):
                    self.failures.append(outcome)
            else:
                return

    def _record(self, tx: Transaction) -> bool:
        verdict = validate_milestone(
            tx,
            self.reader.transaction,
            self.config,
            known_index_hash=self.records.get(tx.milestone_index),
        )
        if verdict.records_index:
            self.records[tx.milestone_index] = tx.hash
        return verdict.valid

    def _commit(self, effect: MilestoneEffect) -> None:
        self.reader.cache_verdicts(effect.verdicts_to_cache)
        self.spent.update(effect.spent_addresses)
        self.reader.set_snapshot_index(effect.confirmed, effect.index)
        for address, balance in effect.balances.items():
            if balance:
                self.ledger[address] = balance
            else:
                self.ledger.pop(address, None)
        self.latest = effect.index
        self.latest_hash = effect.hash
        self.history[effect.index] = dict(self.ledger)
        self.applied.append((effect.index, len(effect.confirmed)))

    # --- commands --------------------------------------------------------------------------------

    def _cmd_getNodeInfo(self, body: Mapping[str, Any]) -> dict[str, Any]:
        latest_milestone = self.latest_milestone
        return {
            "appName": "fake",
            "appVersion": "0",
            "latestMilestone": self.records.get(latest_milestone, NULL_HASH),
            "latestMilestoneIndex": latest_milestone,
            "latestSolidSubtangleMilestone": self.latest_hash,
            "latestSolidSubtangleMilestoneIndex": self.latest,
            "lastSnapshottedMilestoneIndex": 0,
            "coordinatorAddress": self.config.address,
            "tips": len(self._tips()),
        }

    def _tips(self) -> list[str]:
        return [h for h in self.reader.transactions if h not in self.approved]

    def _cmd_getTips(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return {"hashes": self._tips()}

    def _cmd_checkConsistency(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self._synced()
        tails = list(body["tails"])
        for tail in tails:
            tx = self.reader.transaction(tail)
            if tx is None:
                raise ApiError(f"Invalid transaction, missing: {tail}")
            if tx.current_index != 0:
                raise ApiError(f"Invalid transaction, not a tail: {tail}")
        view = tails_consistent(
            self.reader, tails, latest_index=self.latest, balances=self.balances
        )
        if isinstance(view, TipsDiff):
            return {"state": True, "info": ""}
        return {"state": False, "info": view.detail}

    def _cmd_getTrytes(self, body: Mapping[str, Any]) -> dict[str, Any]:
        found = [self.reader.transaction(h) for h in body["hashes"]]
        return {"trytes": [tx.trytes if tx else "9" * 2673 for tx in found]}

    def _cmd_findTransactions(self, body: Mapping[str, Any]) -> dict[str, Any]:
        addresses = set(body.get("addresses") or [])
        bundles = set(body.get("bundles") or [])
        hashes = [
            h
            for h, tx in self.reader.transactions.items()
            if (not addresses or tx.address in addresses) and (not bundles or tx.bundle in bundles)
        ]
        return {"hashes": hashes}

    def _cmd_getBalances(self, body: Mapping[str, Any]) -> dict[str, Any]:
        index = body.get("milestoneIndex")
        ledger = self.ledger if index is None else self.history[int(index)]
        return {
            "balances": [str(ledger.get(a, 0)) for a in body["addresses"]],
            "references": [self.latest_hash],
            "milestoneIndex": self.latest if index is None else int(index),
        }

    def _cmd_getInclusionStates(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self._synced()
        metas = [self.reader.meta(h) for h in body["transactions"]]
        return {"states": [bool(m and m.snapshot_index > 0) for m in metas]}

    def _cmd_wereAddressesSpentFrom(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return {"states": [a in self.spent for a in body["addresses"]]}

    def _cmd_storeTransactions(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self._ingest(list(body["trytes"]), strict=True)
        return {}

    def _cmd_broadcastTransactions(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self._ingest(list(body["trytes"]), strict=False)
        return {}
