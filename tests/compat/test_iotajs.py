"""iota.js (``@iota/core`` 1.0.0-beta.30, ``@iota/curl`` 1.0.0-beta.19, from npm) against a
real ``pyri run``, through ``js/client.js``. iota.js omits ``threshold`` in getBalances and
``tips`` in getInclusionStates, strips address checksums and pads tags itself, and parses
balances with ``parseInt``."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from pyri.crypto.checksum import add_checksum
from tests.compat.conftest import JS
from tests.e2e.node import LoadedNode
from tests.e2e.tangles import TAG, UNKNOWN_HASH

NAMES = ("alice", "alice1", "bob", "bob1", "carol", "carol1", "dave", "erin", "frank", "filler")
TIMEOUT_S = 60


def run(node_js: str, node: LoadedNode, *calls: list[Any]) -> list[Any]:
    """The results of iota.js calls, in order; an error is returned as {"error": message}."""
    completed = subprocess.run(
        [node_js, str(JS / "client.js"), f"http://127.0.0.1:{node.process.port}"],
        input=json.dumps(list(calls)),
        capture_output=True,
        text=True,
        cwd=JS,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)
    assert len(results) == len(calls)
    return [result.get("ok", result) for result in results]


def test_get_node_info(node_js: str, compat_node: LoadedNode) -> None:
    s = compat_node.scenario
    (info,) = run(node_js, compat_node, ["getNodeInfo"])
    assert info["latestSolidSubtangleMilestone"] == s.milestone_hashes[3]
    assert info["latestSolidSubtangleMilestoneIndex"] == 3
    assert info["latestMilestoneIndex"] == 4
    assert info["appName"] == "pyri"


def test_get_balances(node_js: str, compat_node: LoadedNode) -> None:
    s = compat_node.scenario
    addresses = [s.address(name) for name in NAMES]
    tips = [s.bundles["t3"].tail_hash, s.bundles["t4a"].tail_hash]
    double_spend = [s.bundles["t4a"].tail_hash, s.bundles["t4b"].tail_hash]
    plain, checksummed, through_tips, inconsistent, unknown = run(
        node_js,
        compat_node,
        ["getBalances", addresses],
        ["getBalances", [add_checksum(a) for a in addresses]],
        ["getBalances", addresses, tips],
        ["getBalances", addresses, double_spend],
        ["getBalances", addresses, [UNKNOWN_HASH]],
    )
    expected = [int(b) for b in s.balances(3, addresses)]
    assert plain["balances"] == expected
    assert plain["references"] == [s.milestone_hashes[3]]
    assert plain["milestoneIndex"] == 3
    assert checksummed["balances"] == expected
    by_name = dict(zip(NAMES, through_tips["balances"], strict=True))
    assert (by_name["carol"], by_name["carol1"], by_name["erin"]) == (0, 200, 100)
    assert (by_name["dave"], by_name["frank"], by_name["alice1"]) == (0, 200, 700)
    assert through_tips["references"] == tips
    assert through_tips["milestoneIndex"] == 3
    assert inconsistent == {"error": "Request error: Tips are not consistent"}
    assert unknown == {"error": f"Request error: Tip not found: {UNKNOWN_HASH}"}


def test_find_transactions(node_js: str, compat_node: LoadedNode) -> None:
    s = compat_node.scenario
    carol = s.address("carol")
    t3 = s.bundles["t3"]
    by_address, by_bundle, by_tag, intersection = run(
        node_js,
        compat_node,
        ["findTransactions", {"addresses": [add_checksum(carol)]}],
        ["findTransactions", {"bundles": [t3.bundle_hash]}],
        ["findTransactions", {"tags": [TAG]}],
        ["findTransactions", {"addresses": [carol], "bundles": [t3.bundle_hash]}],
    )
    assert set(by_address) == {h for h, tx in compat_node.stored.items() if tx.address == carol}
    assert set(by_bundle) == set(t3.hashes)
    assert by_tag == [s.bundles["tagged"].tail_hash]
    assert set(intersection) == {t3.transactions[1].hash, t3.transactions[2].hash}


def test_get_trytes(node_js: str, compat_node: LoadedNode) -> None:
    t1 = compat_node.scenario.bundles["t1"]
    (trytes,) = run(node_js, compat_node, ["getTrytes", [*t1.hashes, UNKNOWN_HASH]])
    assert trytes == [tx.trytes for tx in t1.transactions] + ["9" * 2673]


def test_get_inclusion_states(node_js: str, compat_node: LoadedNode) -> None:
    s = compat_node.scenario
    names = ("t1", "t2", "tagged", "t3", "x")
    (states,) = run(
        node_js,
        compat_node,
        ["getInclusionStates", [s.bundles[name].tail_hash for name in names]],
    )
    assert states == [True, True, True, False, False]
