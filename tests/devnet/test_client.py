"""The HTTP client: answers, error answers and a node that is not there."""

from __future__ import annotations

import socket

import pytest

from pyri.crypto.sponge import SpongeMode
from pyri.devnet.client import NodeClient
from pyri.devnet.errors import ApiCallError, NodeUnavailable
from pyri.devnet.genesis import genesis_addresses, genesis_balances
from tests.devnet.conftest import KeysFactory, NodeFactory


def test_answers_and_error_answers(coordinator_keys: KeysFactory, fake_node: NodeFactory) -> None:
    keys = coordinator_keys(3, 1, SpongeMode.CURLP27)
    _, url = fake_node(keys, genesis_balances())
    client = NodeClient(url)
    info = client.node_info()
    assert info.coordinator_address == keys.address
    assert info.latest_solid_milestone_index == 0 and not info.has_applied_milestone
    addresses = genesis_addresses()
    assert client.balances_of(addresses * 300) == genesis_balances()  # batched, deduplicated
    assert client.get_trytes(["A" * 81] * 700) == ["9" * 2673] * 700
    with pytest.raises(ApiCallError) as raised:
        client.check_consistency(["A" * 81])
    assert raised.value.status == 400 and "not been updated yet" in raised.value.message
    with pytest.raises(ApiCallError, match="unknown"):
        client.call("attachToTangle")


def test_no_node() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NodeUnavailable, match="no answer"):
        NodeClient(f"http://127.0.0.1:{port}", timeout=2).node_info()


def test_dropped_connection(coordinator_keys: KeysFactory, fake_node: NodeFactory) -> None:
    node, url = fake_node(coordinator_keys(3, 1, SpongeMode.CURLP27), genesis_balances())
    node.unavailable = True
    with pytest.raises(NodeUnavailable):
        NodeClient(url).tips()


def test_bad_url() -> None:
    with pytest.raises(ValueError, match="http://host:port"):
        NodeClient("ftp://example")
    assert NodeClient("localhost:14265").url == "localhost:14265"
