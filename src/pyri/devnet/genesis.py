"""``pyri devnet init``: a new private network in one directory.

    DIR/devnet.json        what was chosen: accounts, coordinator shape, MWM, interval
    DIR/snapshot.txt       the genesis ledger: the whole supply on addresses of a known seed
    DIR/pyri.ini           a node configuration bound to this coordinator and snapshot
    DIR/coordinator/       the coordinator's seed (private), key tree and state
    DIR/wallet.json        the workload's wallet state (written once it runs)
    DIR/db/                the node's database (written by ``pyri run``)

The genesis seed is public on purpose (it is printed in docs/devnet.md): anyone on the devnet
may spend from it. Its key 0 holds most of the supply and is never touched by the workload, so
the balance a user looks up first stays put; keys 1..8 fund the workload. The workload also
sends to two more public seeds, used at security 1 and 3, so that every security level is in
play. The coordinator's seed, in contrast, is random and stays in ``coordinator/seed``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pyri.consensus.snapshot_files import global_snapshot_state, write_global_snapshot
from pyri.crypto.sponge import SpongeMode
from pyri.devnet.bundle_builder import Clock
from pyri.devnet.errors import DevnetError
from pyri.devnet.files import read_json, write_atomically, write_json
from pyri.devnet.merkle_tree import TreeSpec
from pyri.devnet.milestones import CoordinatorKeys
from pyri.devnet.seeds import named_seed, seed_file
from pyri.devnet.wallet import Account, Wallet, address_of
from pyri.model.bundle import SUPPLY

FORMAT_VERSION: Final = 1
GENESIS_SEED: Final = named_seed("PYRI9DEVNET9GENESIS9SEED")
WORKLOAD_SEEDS: Final = (
    ("genesis", GENESIS_SEED, 2),
    ("alice", named_seed("PYRI9DEVNET9ALICE9SEED"), 1),
    ("carol", named_seed("PYRI9DEVNET9CAROL9SEED"), 3),
)
FUNDED_KEYS: Final = 8
"""Genesis keys 1..8 each hold FUNDING; key 0 holds the rest (the reserve)."""
FUNDING: Final = 10**14  # 100 Ti
# A node refuses transactions attached before the snapshot time; a minute of slack keeps a
# clock that steps back a little from refusing the devnet's first transactions.
TIMESTAMP_SLACK: Final = 60

DEFAULT_DEPTH: Final = 14
DEFAULT_SECURITY: Final = 1
DEFAULT_MODE: Final = SpongeMode.CURLP27
DEFAULT_MWM: Final = 9
DEFAULT_INTERVAL: Final = 5.0
DEFAULT_PORT: Final = 14265


@dataclass(frozen=True)
class DevnetConfig:
    """A devnet directory's choices (``devnet.json``)."""

    directory: Path
    accounts: tuple[Account, ...]
    tree: TreeSpec
    coordinator_address: str
    mwm: int
    interval: float
    snapshot_timestamp: int
    balances: dict[str, int]

    @property
    def coordinator_dir(self) -> Path:
        return self.directory / "coordinator"

    @property
    def ini_path(self) -> Path:
        return self.directory / "pyri.ini"

    @property
    def snapshot_path(self) -> Path:
        return self.directory / "snapshot.txt"

    @property
    def wallet_path(self) -> Path:
        return self.directory / "wallet.json"

    @property
    def node_log_path(self) -> Path:
        return self.directory / "node.log"

    @property
    def reserve_address(self) -> str:
        """Genesis key 0: most of the supply, never spent by the workload."""
        return address_of(GENESIS_SEED, 0, 2)

    def wallet(self) -> Wallet:
        """The workload's wallet: the devnet's accounts, the funded genesis keys known from the
        start, the reserve left alone, its state in ``wallet.json``."""
        return Wallet(
            self.accounts,
            self.wallet_path,
            initial_keys={"genesis": FUNDED_KEYS + 1},
            reserved={self.reserve_address},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "accounts": [a.to_json() for a in self.accounts],
            "coordinator": {
                "address": self.coordinator_address,
                "depth": self.tree.depth,
                "security": self.tree.security,
                "mode": self.tree.mode.value,
            },
            "mwm": self.mwm,
            "interval": self.interval,
            "snapshot_timestamp": self.snapshot_timestamp,
            "genesis_balances": self.balances,
        }

    @classmethod
    def load(cls, directory: Path) -> DevnetConfig:
        path = directory / "devnet.json"
        try:
            data = read_json(path)
            coordinator = data["coordinator"]
            return cls(
                directory=directory,
                accounts=tuple(Account.from_json(a) for a in data["accounts"]),
                tree=TreeSpec(
                    int(coordinator["depth"]),
                    int(coordinator["security"]),
                    SpongeMode.parse(str(coordinator["mode"])),
                ),
                coordinator_address=str(coordinator["address"]),
                mwm=int(data["mwm"]),
                interval=float(data["interval"]),
                snapshot_timestamp=int(data["snapshot_timestamp"]),
                balances={str(a): int(b) for a, b in data["genesis_balances"].items()},
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise DevnetError(f"{path}: not a devnet description: {error}") from None


def genesis_addresses() -> list[str]:
    """Genesis keys 0..FUNDED_KEYS at security 2."""
    return [address_of(GENESIS_SEED, k, 2) for k in range(FUNDED_KEYS + 1)]


def genesis_balances() -> dict[str, int]:
    """The snapshot: FUNDING on keys 1..8, the rest of the supply on key 0."""
    addresses = genesis_addresses()
    balances = {address: FUNDING for address in addresses[1:]}
    balances[addresses[0]] = SUPPLY - FUNDING * FUNDED_KEYS
    return balances


def ini_text(config: DevnetConfig, port: int) -> str:
    """The ``[IRI]`` section binding ``pyri run -c pyri.ini`` to this devnet; relative paths
    are relative to the ini file's folder."""
    tree = config.tree
    return "\n".join(
        [
            "# Written by `pyri devnet init`: a node for this devnet.",
            "#   pyri run -c pyri.ini",
            "[IRI]",
            f"PORT = {port}",
            "API_HOST = localhost",
            "TESTNET = true",
            f"MWM = {config.mwm}",
            "DB_PATH = db",
            "SNAPSHOT = snapshot.txt",
            f"SNAPSHOT_TIMESTAMP = {config.snapshot_timestamp}",
            "MILESTONE_START = 0",
            f"TESTNET_COORDINATOR = {config.coordinator_address}",
            f"TESTNET_COORDINATOR_SECURITY_LEVEL = {tree.security}",
            f"TESTNET_COORDINATOR_SIGNATURE_MODE = {tree.mode.value}",
            f"MILESTONE_KEYS = {tree.depth}",
            "",
        ]
    )


def init_devnet(
    directory: Path,
    *,
    tree: TreeSpec | None = None,
    mwm: int = DEFAULT_MWM,
    interval: float = DEFAULT_INTERVAL,
    port: int = DEFAULT_PORT,
    seed: str | None = None,
    workers: int = 1,
    progress: bool = True,
    clock: Clock = time.time,
) -> tuple[DevnetConfig, bool]:
    """Create the devnet in ``directory``, or load the one there. Returns it and whether it
    was created now. An existing devnet keeps its choices (its tree is finished if a previous
    init was interrupted)."""
    if (directory / "devnet.json").exists():
        config = DevnetConfig.load(directory)
        keys = CoordinatorKeys.build(
            config.coordinator_dir / "tree",
            seed_file(config.coordinator_dir / "seed"),
            config.tree,
            workers=workers,
            progress=progress,
        )
        if keys.address != config.coordinator_address:
            raise DevnetError(f"{directory}: the coordinator tree does not match devnet.json")
        return config, False
    spec = tree if tree is not None else TreeSpec(DEFAULT_DEPTH, DEFAULT_SECURITY, DEFAULT_MODE)
    if not 0 <= mwm <= 243:
        raise DevnetError(f"MWM must lie in 0..243, got {mwm}")
    if spec.depth < 1:
        raise DevnetError("the coordinator tree needs depth 1 or more (milestone 1 uses key 1)")
    coordinator_dir = directory / "coordinator"
    keys = CoordinatorKeys.build(
        coordinator_dir / "tree",
        seed_file(coordinator_dir / "seed", seed),
        spec,
        workers=workers,
        progress=progress,
    )
    config = DevnetConfig(
        directory=directory,
        accounts=tuple(Account(name, s, security) for name, s, security in WORKLOAD_SEEDS),
        tree=spec,
        coordinator_address=keys.address,
        mwm=mwm,
        interval=interval,
        snapshot_timestamp=int(clock()) - TIMESTAMP_SLACK,
        balances=genesis_balances(),
    )
    # The snapshot writer refuses a state a node would refuse (not summing to the supply).
    state = global_snapshot_state(config.balances, index=0, timestamp=config.snapshot_timestamp)
    write_global_snapshot(state, config.snapshot_path)
    write_atomically(config.ini_path, ini_text(config, port).encode("ascii"))
    # devnet.json last: its presence means the directory is complete.
    write_json(directory / "devnet.json", config.to_json())
    return config, True
