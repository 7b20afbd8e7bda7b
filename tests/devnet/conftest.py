"""Fixtures of the devnet tests: coordinator key trees (built once per session) and a fake
node on a loopback port."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from pyri.consensus.coordinator import CoordinatorConfig
from pyri.crypto.sponge import SpongeMode
from pyri.devnet.merkle_tree import TreeSpec
from pyri.devnet.milestones import CoordinatorKeys
from tests.devnet.fake_node import FakeNode

COORDINATOR_SEED = "PYRI9TEST9COORDINATOR9SEED".ljust(81, "9")

KeysFactory = Callable[[int, int, SpongeMode], CoordinatorKeys]
NodeFactory = Callable[..., tuple[FakeNode, str]]


@pytest.fixture(scope="session")
def coordinator_keys(tmp_path_factory: pytest.TempPathFactory) -> KeysFactory:
    """``coordinator_keys(depth, security, mode)``: a key tree, built once per session."""
    built: dict[tuple[int, int, SpongeMode], CoordinatorKeys] = {}

    def make(depth: int, security: int, mode: SpongeMode) -> CoordinatorKeys:
        key = (depth, security, mode)
        if key not in built:
            directory = tmp_path_factory.mktemp(f"tree-{mode.value}-{security}-{depth}")
            spec = TreeSpec(depth, security, mode)
            built[key] = CoordinatorKeys.build(directory, COORDINATOR_SEED, spec, progress=False)
        return built[key]

    return make


def node_config(keys: CoordinatorKeys, mwm: int = 0) -> CoordinatorConfig:
    """A testnet configuration trusting ``keys``, as ``pyri devnet init`` writes it."""
    spec = keys.spec
    return CoordinatorConfig.from_flags(
        True,
        **{
            "--testnet-coordinator": keys.address,
            "--testnet-coordinator-security-level": spec.security,
            "--testnet-coordinator-signature-mode": spec.mode.value,
            "--milestone-keys": spec.depth,
            "--milestone-start": 0,
            "--mwm": mwm,
        },
    )


@pytest.fixture
def fake_node() -> Iterator[NodeFactory]:
    """``fake_node(keys, balances, mwm=...)``: a started FakeNode and its URL."""
    started: list[FakeNode] = []

    def make(
        keys: CoordinatorKeys, balances: Mapping[str, int], *, mwm: int = 0
    ) -> tuple[FakeNode, str]:
        node = FakeNode(node_config(keys, mwm), balances, mwm=mwm)
        url = node.start()
        started.append(node)
        return node, url

    yield make
    for node in started:
        node.stop()


def directory_of(keys: CoordinatorKeys) -> Path:
    return keys.tree.directory
