"""PyOTA 2.1.0 (from PyPI) against a real ``pyri run``: the calls a wallet makes around
getBalances. PyOTA always sends ``"threshold": 100``, ``tips`` with getInclusionStates, strips
address checksums itself, and turns every non-2xx answer into ``BadApiResponse``."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from pyri.trinary import NULL_HASH
from tests.e2e.node import LoadedNode, NodeProcess, scenario_node
from tests.e2e.tangles import TAG, UNKNOWN_HASH, main_scenario

NAMES = ("alice", "alice1", "bob", "bob1", "carol", "carol1", "dave", "erin", "frank", "filler")


@pytest.fixture(scope="module")
def api(iota: ModuleType, compat_node: LoadedNode) -> Any:
    return iota.Iota(f"http://127.0.0.1:{compat_node.process.port}")


def _addresses(iota: ModuleType, node: LoadedNode) -> list[Any]:
    return [iota.Address(node.scenario.address(name)) for name in NAMES]


def test_get_node_info(iota: ModuleType, api: Any, compat_node: LoadedNode) -> None:
    s = compat_node.scenario
    info = api.get_node_info()
    assert info["latestSolidSubtangleMilestone"] == iota.TransactionHash(s.milestone_hashes[3])
    assert info["latestSolidSubtangleMilestoneIndex"] == 3
    assert info["latestMilestone"] == iota.TransactionHash(s.milestones[4][0].hash)
    assert info["latestMilestoneIndex"] == 4
    assert info["coordinatorAddress"] == s.milestones[1][0].address
    assert info["appName"] == "pyri"


def test_get_balances_without_tips(iota: ModuleType, api: Any, compat_node: LoadedNode) -> None:
    s = compat_node.scenario
    addresses = _addresses(iota, compat_node)
    expected = [int(b) for b in s.balances(3, [str(a) for a in addresses])]
    result = api.get_balances(addresses)
    assert result["balances"] == expected
    assert result["references"] == [iota.TransactionHash(s.milestone_hashes[3])]
    assert result["milestoneIndex"] == 3
    # Addresses with their checksum: PyOTA strips it before sending.
    result = api.get_balances([a.with_valid_checksum() for a in addresses], threshold=50)
    assert result["balances"] == expected


def test_get_balances_with_tips(iota: ModuleType, api: Any, compat_node: LoadedNode) -> None:
    s = compat_node.scenario
    addresses = _addresses(iota, compat_node)
    tips = [iota.TransactionHash(s.bundles[name].tail_hash) for name in ("t3", "t4a")]
    result = api.get_balances(addresses, tips=tips)
    by_name = dict(zip(NAMES, result["balances"], strict=True))
    assert by_name["carol"] == 0 and by_name["carol1"] == 200 and by_name["erin"] == 100
    assert by_name["dave"] == 0 and by_name["frank"] == 200
    assert by_name["alice1"] == 700
    assert result["references"] == tips
    assert result["milestoneIndex"] == 3
    double_spend = [iota.TransactionHash(s.bundles[name].tail_hash) for name in ("t4a", "t4b")]
    with pytest.raises(iota.BadApiResponse, match="400 response from node: Tips are not"):
        api.get_balances(addresses, tips=double_spend)
    with pytest.raises(iota.BadApiResponse, match=f"Tip not found: {UNKNOWN_HASH}"):
        api.get_balances(addresses, tips=[iota.TransactionHash(UNKNOWN_HASH)])


def test_find_transactions(iota: ModuleType, api: Any, compat_node: LoadedNode) -> None:
    s = compat_node.scenario
    carol = s.address("carol")
    expected = {h for h, tx in compat_node.stored.items() if tx.address == carol}
    result = api.find_transactions(addresses=[iota.Address(carol).with_valid_checksum()])
    assert {str(h) for h in result["hashes"]} == expected
    t3 = s.bundles["t3"]
    result = api.find_transactions(bundles=[iota.BundleHash(t3.bundle_hash)])
    assert {str(h) for h in result["hashes"]} == set(t3.hashes)
    result = api.find_transactions(tags=[iota.Tag(TAG.encode())])
    assert result["hashes"] == [iota.TransactionHash(s.bundles["tagged"].tail_hash)]
    result = api.find_transactions(
        approvees=[iota.TransactionHash(t3.tail_hash)], addresses=[iota.Address(carol)]
    )
    assert result["hashes"] == []


def test_get_trytes(iota: ModuleType, api: Any, compat_node: LoadedNode) -> None:
    t1 = compat_node.scenario.bundles["t1"]
    hashes = [iota.TransactionHash(h) for h in (*t1.hashes, UNKNOWN_HASH)]
    result = api.get_trytes(hashes)
    assert [str(t) for t in result["trytes"]] == [tx.trytes for tx in t1.transactions] + [
        "9" * 2673
    ]
    # PyOTA's bundle reader on top of getTrytes: it checks the signatures with Kerl.
    (bundle,) = api.get_bundles(iota.TransactionHash(t1.tail_hash))["bundles"]
    assert [str(tx.hash) for tx in bundle] == list(t1.hashes)


def test_get_inclusion_states(iota: ModuleType, api: Any, compat_node: LoadedNode) -> None:
    s = compat_node.scenario
    names = ("t1", "t2", "tagged", "t3", "x")
    transactions = [iota.TransactionHash(s.bundles[name].tail_hash) for name in names]
    tips = [iota.TransactionHash(s.milestone_hashes[3])]
    result = api.get_inclusion_states(transactions, tips)
    assert result["states"] == [True, True, True, False, False]


USER = "compat"
PASSWORD = "pyota-secret"


@pytest.fixture(scope="module")
def guarded(iota: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    node = scenario_node(
        tmp_path_factory.mktemp("compat-auth"),
        main_scenario(),
        ["--remote-auth", f"{USER}:{PASSWORD}"],
    )
    node.start()
    try:
        yield node
    finally:
        code = node.stop()
    assert code == 0, node.log_tail()


def test_basic_auth(iota: ModuleType, guarded: NodeProcess) -> None:
    adapter = iota.HttpAdapter
    uri = f"http://127.0.0.1:{guarded.port}"
    api = iota.Iota(adapter(uri, authentication=(USER, PASSWORD)))
    address = iota.Address(main_scenario().address("alice"))
    result = api.get_balances([address])
    assert result["balances"] == [1000]
    assert result["references"] == [iota.TransactionHash(NULL_HASH)]
    wrong = iota.Iota(adapter(uri, authentication=(USER, "wrong")))
    with pytest.raises(iota.BadApiResponse, match="401 response from node"):
        wrong.get_balances([address])
    with pytest.raises(iota.BadApiResponse, match="401 response from node"):
        iota.Iota(uri).get_node_info()
