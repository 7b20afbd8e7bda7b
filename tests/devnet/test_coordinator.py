"""The coordinator against a fake node made of pyri's consensus rules: milestones apply in
order, only consistent tips are approved, and a restart resumes at the right index without
ever signing an index twice."""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from pyri.crypto.sponge import SpongeMode
from pyri.devnet.client import NodeClient
from pyri.devnet.coordinator import Coordinator, CoordinatorSettings, IssuedMilestone
from pyri.devnet.errors import CoordinatorError, NodeUnavailable
from pyri.devnet.files import read_json, write_json
from pyri.devnet.genesis import FUNDED_KEYS, WORKLOAD_SEEDS, genesis_addresses, genesis_balances
from pyri.devnet.spam import Spammer, SpamSettings
from pyri.devnet.wallet import Account, Wallet
from pyri.model.bundle import SUPPLY
from tests.devnet.conftest import KeysFactory, NodeFactory
from tests.devnet.fake_node import FakeNode

SETTINGS = CoordinatorSettings(interval=0.0, mwm=1, apply_timeout=5.0, poll=0.01)


def _coordinator(
    keys_factory: KeysFactory, node_factory: NodeFactory, directory: Path
) -> tuple[FakeNode, Coordinator]:
    keys = keys_factory(5, 1, SpongeMode.CURLP27)
    node, url = node_factory(keys, genesis_balances(), mwm=1)
    return node, Coordinator(NodeClient(url), keys, directory, SETTINGS)


def test_milestones_are_applied_in_order(
    coordinator_keys: KeysFactory, fake_node: NodeFactory, tmp_path: Path
) -> None:
    node, coordinator = _coordinator(coordinator_keys, fake_node, tmp_path)
    issued: list[IssuedMilestone] = []
    assert coordinator.run(threading.Event(), count=4, on_issue=issued.append) == 4
    assert [m.index for m in issued] == [1, 2, 3, 4]
    assert all(m.applied for m in issued)
    assert [index for index, _ in node.applied] == [1, 2, 3, 4]
    assert not node.failures
    assert coordinator.last_issued() == 4
    assert node.records[4] == issued[-1].hash


def test_restart_resumes_at_the_next_index(
    coordinator_keys: KeysFactory, fake_node: NodeFactory, tmp_path: Path
) -> None:
    _node, coordinator = _coordinator(coordinator_keys, fake_node, tmp_path)
    coordinator.run(threading.Event(), count=2)
    again = Coordinator(coordinator.client, coordinator.keys, tmp_path, SETTINGS)
    milestone = again.issue()
    assert milestone is not None and milestone.index == 3 and milestone.applied
    # Without its state file it follows the node's latest milestone.
    (tmp_path / "state.json").unlink()
    fresh = Coordinator(coordinator.client, coordinator.keys, tmp_path, SETTINGS).issue()
    assert fresh is not None and fresh.index == 4


def test_a_recorded_milestone_is_sent_again_not_signed_again(
    coordinator_keys: KeysFactory, fake_node: NodeFactory, tmp_path: Path
) -> None:
    node, coordinator = _coordinator(coordinator_keys, fake_node, tmp_path)
    coordinator.run(threading.Event(), count=1)
    # The node goes away after milestone 2 is recorded and before it is sent.
    node.unavailable = True
    stopped = threading.Event()
    stopped.set()
    with pytest.raises(NodeUnavailable):
        coordinator._send(["9" * 2673], stopped)
    node.unavailable = False
    state = read_json(tmp_path / "state.json")
    original = coordinator.keys.tree.root
    assert state["address"] == original

    node.unavailable = True
    with pytest.raises(NodeUnavailable):
        coordinator.issue(stopped)
    node.unavailable = False
    recorded = read_json(tmp_path / "state.json")
    # Whether the crash came before or after the record was written, the next run is right.
    restarted = Coordinator(coordinator.client, coordinator.keys, tmp_path, SETTINGS)
    milestone = restarted.issue()
    assert milestone is not None and milestone.applied
    if recorded["last_index"] == 2:
        assert milestone.resent and milestone.hash == recorded["last_hash"]
    assert node.records[2] == read_json(tmp_path / "state.json")["last_hash"]
    assert [index for index, _ in node.applied] == [1, 2]


def test_resend_after_a_lost_send(
    coordinator_keys: KeysFactory, fake_node: NodeFactory, tmp_path: Path
) -> None:
    node, coordinator = _coordinator(coordinator_keys, fake_node, tmp_path)
    coordinator.run(threading.Event(), count=1)
    sent: list[list[str]] = []
    client = coordinator.client

    class Dropping(NodeClient):
        def send(self, trytes: Sequence[str]) -> None:
            sent.append(list(trytes))
            raise NodeUnavailable("dropped")

    stopped = threading.Event()
    stopped.set()
    dropping = Coordinator(Dropping(client.url), coordinator.keys, tmp_path, SETTINGS)
    with pytest.raises(NodeUnavailable):
        dropping.issue(stopped)
    assert read_json(tmp_path / "state.json")["last_index"] == 2
    milestone = Coordinator(client, coordinator.keys, tmp_path, SETTINGS).issue()
    assert milestone is not None and milestone.resent and milestone.index == 2
    assert read_json(tmp_path / "state.json")["trytes"] == sent[0]
    assert node.records[2] == milestone.hash


def test_node_of_another_coordinator_or_an_older_database(
    coordinator_keys: KeysFactory, fake_node: NodeFactory, tmp_path: Path
) -> None:
    _node, coordinator = _coordinator(coordinator_keys, fake_node, tmp_path)
    stranger = Coordinator(
        coordinator.client, coordinator_keys(3, 1, SpongeMode.CURLP27), tmp_path / "x", SETTINGS
    )
    with pytest.raises(CoordinatorError, match="trusts coordinator"):
        stranger.issue()
    write_json(
        tmp_path / "state.json",
        {"address": coordinator.keys.address, "last_index": 5, "last_hash": "9" * 81, "trytes": []},
    )
    with pytest.raises(CoordinatorError, match="only up to 0"):
        coordinator.issue()


def test_one_coordinator_per_directory(
    coordinator_keys: KeysFactory, fake_node: NodeFactory, tmp_path: Path
) -> None:
    _, coordinator = _coordinator(coordinator_keys, fake_node, tmp_path)
    second = Coordinator(coordinator.client, coordinator.keys, tmp_path)
    with (
        coordinator.lock(),
        pytest.raises(CoordinatorError, match="another coordinator"),
        second.lock(),
    ):
        pass


def _workload(url: str, seed: int, settings: SpamSettings) -> Spammer:
    accounts = [Account(name, s, security) for name, s, security in WORKLOAD_SEEDS]
    wallet = Wallet(
        accounts, initial_keys={"genesis": FUNDED_KEYS + 1}, reserved={genesis_addresses()[0]}
    )
    return Spammer(NodeClient(url), wallet, settings, rng=random.Random(seed))


def test_only_consistent_tips_are_confirmed(
    coordinator_keys: KeysFactory, fake_node: NodeFactory, tmp_path: Path
) -> None:
    node, coordinator = _coordinator(coordinator_keys, fake_node, tmp_path)
    url = coordinator.client.url
    spammer = _workload(
        url,
        3,
        SpamSettings(
            mwm=1, double_spend_share=0.5, message_share=0.2, reattach_share=0.2, reattach_after=0.0
        ),
    )
    coordinator.issue()  # the first milestone makes the node synchronised
    for _ in range(4):
        spammer.refresh()
        for _ in range(3):
            spammer.step()
        milestone = coordinator.issue()
        assert milestone is not None and milestone.applied
    spammer.refresh()
    assert not node.failures
    report = spammer.report()
    pairs = report.double_spends()
    assert pairs, "the workload sent no double spend"
    for first, second in pairs:
        assert not (first.confirmed and second.confirmed)
    assert any(first.confirmed or second.confirmed for first, second in pairs)
    assert report.count("value", confirmed=True) > 0
    for transfer in report.transfers:
        if transfer.kind != "message":
            assert len(transfer.confirmed_tails) <= 1  # a reattached spend is taken once
    # The ledger is the snapshot plus the confirmed transfers, and still holds the supply.
    expected = dict(genesis_balances())
    for address, change in report.confirmed_changes().items():
        expected[address] = expected.get(address, 0) + change
    assert {a: b for a, b in expected.items() if b} == node.ledger
    assert sum(node.ledger.values()) == SUPPLY
