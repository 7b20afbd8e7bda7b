"""A small client for the IRI 1.8 HTTP API, standard library only: POST a JSON command with
``X-IOTA-API-Version: 1``, read the JSON answer, raise ``ApiCallError`` for an error answer and
``NodeUnavailable`` when nothing answers.

One connection per call: the devnet runs against a node on the same machine, where connecting
costs less than keeping connections healthy across node restarts.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pyri.devnet.errors import ApiCallError, NodeUnavailable

DEFAULT_NODE: Final = "http://localhost:14265"
# IRI's default --max-requests-list is 1000; half of it leaves room for nodes set lower.
BATCH: Final = 500


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """The parts of getNodeInfo the devnet tools read."""

    app_name: str
    app_version: str
    latest_milestone: str
    latest_milestone_index: int
    latest_solid_milestone: str
    latest_solid_milestone_index: int
    snapshot_index: int
    coordinator_address: str
    tips: int

    @property
    def has_applied_milestone(self) -> bool:
        """Whether the ledger is past its snapshot: only then do checkConsistency and
        getInclusionStates answer (IRI's sync check, api-reference §4)."""
        return self.latest_solid_milestone_index > self.snapshot_index


@dataclass(frozen=True, slots=True)
class Balances:
    balances: list[int]
    references: list[str]
    milestone_index: int


def _chunks(items: Sequence[str], size: int = BATCH) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class NodeClient:
    """Calls one node. Thread-safe: it keeps no connection between calls."""

    def __init__(self, url: str = DEFAULT_NODE, *, timeout: float = 30.0, token: str = "") -> None:
        parts = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"node URL must look like http://host:port, got {url!r}")
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._path = parts.path or "/"
        self._timeout = timeout
        self._token = token

    def call(self, command: str, **params: Any) -> dict[str, Any]:
        """Send ``command`` with ``params``; the decoded answer on 200."""
        body = json.dumps({"command": command, **params}).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "X-IOTA-API-Version": "1",
            "Content-Length": str(len(body)),
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = kind(self._host, self._port, timeout=self._timeout)
        try:
            connection.request("POST", self._path, body=body, headers=headers)
            response = connection.getresponse()
            status, raw = response.status, response.read()
        except (OSError, http.client.HTTPException) as error:
            # Refused, reset, timed out, or the node closed mid-answer: nobody (or nobody
            # healthy) is there; callers that run for long wait and try again.
            raise NodeUnavailable(f"{command}: no answer from {self.url}: {error}") from None
        finally:
            connection.close()
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = {"error": raw[:200].decode("utf-8", "replace")}
        if status != 200:
            message = answer.get("error") or answer.get("exception") or f"HTTP {status}"
            raise ApiCallError(command, status, str(message))
        if not isinstance(answer, dict):
            raise ApiCallError(command, status, f"answer is not a JSON object: {raw[:200]!r}")
        return answer

    # --- commands ----------------------------------------------------------------------------

    def node_info(self) -> NodeInfo:
        a = self.call("getNodeInfo")
        return NodeInfo(
            app_name=str(a.get("appName", "")),
            app_version=str(a.get("appVersion", "")),
            latest_milestone=str(a["latestMilestone"]),
            latest_milestone_index=int(a["latestMilestoneIndex"]),
            latest_solid_milestone=str(a["latestSolidSubtangleMilestone"]),
            latest_solid_milestone_index=int(a["latestSolidSubtangleMilestoneIndex"]),
            snapshot_index=int(a.get("lastSnapshottedMilestoneIndex", 0)),
            coordinator_address=str(a.get("coordinatorAddress", "")),
            tips=int(a.get("tips", 0)),
        )

    def tips(self) -> list[str]:
        return [str(h) for h in self.call("getTips")["hashes"]]

    def check_consistency(self, tails: Sequence[str]) -> tuple[bool, str]:
        answer = self.call("checkConsistency", tails=list(tails))
        return bool(answer["state"]), str(answer.get("info", ""))

    def get_trytes(self, hashes: Sequence[str]) -> list[str]:
        trytes: list[str] = []
        for chunk in _chunks(hashes):
            trytes += [str(t) for t in self.call("getTrytes", hashes=list(chunk))["trytes"]]
        return trytes

    def find_transactions(
        self,
        *,
        addresses: Sequence[str] | None = None,
        bundles: Sequence[str] | None = None,
        approvees: Sequence[str] | None = None,
    ) -> list[str]:
        params: dict[str, list[str]] = {}
        for name, values in (
            ("addresses", addresses),
            ("bundles", bundles),
            ("approvees", approvees),
        ):
            if values is not None:
                params[name] = list(values)
        return [str(h) for h in self.call("findTransactions", **params)["hashes"]]

    def get_balances(
        self,
        addresses: Sequence[str],
        *,
        tips: Sequence[str] | None = None,
        milestone_index: int | None = None,
    ) -> Balances:
        params: dict[str, Any] = {"addresses": list(addresses)}
        if tips:
            params["tips"] = list(tips)
        if milestone_index is not None:
            params["milestoneIndex"] = milestone_index
        answer = self.call("getBalances", **params)
        return Balances(
            balances=[int(b) for b in answer["balances"]],
            references=[str(r) for r in answer.get("references", [])],
            milestone_index=int(answer["milestoneIndex"]),
        )

    def balances_of(self, addresses: Sequence[str]) -> dict[str, int]:
        """Confirmed balances of any number of addresses (several calls if needed)."""
        result: dict[str, int] = {}
        for chunk in _chunks(list(dict.fromkeys(addresses))):
            result.update(zip(chunk, self.get_balances(chunk).balances, strict=True))
        return result

    def inclusion_states(self, hashes: Sequence[str]) -> list[bool]:
        states: list[bool] = []
        for chunk in _chunks(hashes):
            states += [
                bool(s) for s in self.call("getInclusionStates", transactions=list(chunk))["states"]
            ]
        return states

    def were_addresses_spent_from(self, addresses: Sequence[str]) -> list[bool]:
        states: list[bool] = []
        for chunk in _chunks(addresses):
            answer = self.call("wereAddressesSpentFrom", addresses=list(chunk))
            states += [bool(s) for s in answer["states"]]
        return states

    def store_transactions(self, trytes: Sequence[str]) -> None:
        self.call("storeTransactions", trytes=list(trytes))

    def broadcast_transactions(self, trytes: Sequence[str]) -> None:
        self.call("broadcastTransactions", trytes=list(trytes))

    def send(self, trytes: Sequence[str]) -> None:
        """storeTransactions, then broadcastTransactions, as IRI's clients do: the store reports
        a rejected transaction; the broadcast feeds the transactions to the node's pipeline,
        which is where IRI notices a coordinator's milestone (§3.4)."""
        self.store_transactions(trytes)
        self.broadcast_transactions(trytes)
