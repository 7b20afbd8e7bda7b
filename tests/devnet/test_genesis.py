"""``pyri devnet init``: a snapshot a node accepts, an ini file that binds a node to the new
coordinator, and a directory that is kept, not overwritten, on the next run."""

from __future__ import annotations

from pathlib import Path

from pyri.consensus.snapshot_files import read_global_snapshot
from pyri.crypto.sponge import SpongeMode
from pyri.devnet.genesis import (
    FUNDED_KEYS,
    GENESIS_SEED,
    DevnetConfig,
    genesis_addresses,
    init_devnet,
)
from pyri.devnet.merkle_tree import TreeSpec
from pyri.devnet.wallet import address_of
from pyri.model.bundle import SUPPLY
from pyri.node.config import parse_cli

SPEC = TreeSpec(3, 1, SpongeMode.CURLP27)


def test_init_writes_a_snapshot_with_the_whole_supply(tmp_path: Path) -> None:
    config, created = init_devnet(tmp_path, tree=SPEC, mwm=3, progress=False)
    assert created
    state = read_global_snapshot(config.snapshot_path, index=0, timestamp=config.snapshot_timestamp)
    assert state.total == SUPPLY
    assert dict(state.balances) == config.balances
    # Every funded address belongs to the public genesis seed (security 2).
    assert set(state.balances) == set(genesis_addresses())
    assert genesis_addresses()[0] == address_of(GENESIS_SEED, 0, 2) == config.reserve_address
    assert len(state.balances) == FUNDED_KEYS + 1


def test_ini_binds_a_node_to_the_coordinator(tmp_path: Path) -> None:
    config, _ = init_devnet(tmp_path, tree=SPEC, mwm=3, port=15123, progress=False)
    node = parse_cli(["-c", str(config.ini_path)])
    coordinator = node.coordinator
    assert node.testnet and node.port == 15123
    assert coordinator.address == config.coordinator_address
    assert coordinator.security == 1
    assert coordinator.signature_mode is SpongeMode.CURLP27
    assert coordinator.depth == 3
    assert coordinator.mwm == 3
    assert coordinator.milestone_start_index == 0
    assert coordinator.snapshot_time == config.snapshot_timestamp
    assert node.snapshot == config.snapshot_path
    assert node.db_path == tmp_path / "db"


def test_second_init_keeps_the_devnet(tmp_path: Path) -> None:
    first, _ = init_devnet(tmp_path, tree=SPEC, mwm=3, progress=False)
    snapshot = first.snapshot_path.read_bytes()
    second, created = init_devnet(tmp_path, tree=TreeSpec(4, 2, SpongeMode.KERL), progress=False)
    assert not created
    assert second == DevnetConfig.load(tmp_path) == first
    assert second.snapshot_path.read_bytes() == snapshot
    assert (tmp_path / "coordinator" / "seed").stat().st_mode & 0o077 == 0
