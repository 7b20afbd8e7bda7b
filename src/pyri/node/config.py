"""The node's settings: IRI's flag names on the command line and in an ini file.

Precedence: built-in defaults (IRI's mainnet, or testnet with ``--testnet``), then the ini file
(``-c FILE``, an ``[IRI]`` section whose keys are the flag names without dashes, in upper snake
case: ``PORT = 14265``), then the command line. A bad value stops the node at startup with a
message naming the flag and the value.
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from pyri.consensus.coordinator import ConfigError, CoordinatorConfig

_FLAG_DEFAULTS: Final[Mapping[str, Any]] = {
    "port": 14265,
    "api_host": "localhost",
    "db_path": None,  # mainnetdb, or testnetdb with --testnet (IRI's defaults)
    "remote_limit_api": None,
    "remote_trusted_api_hosts": None,
    "remote_auth": "",
    "api_token": (),
    "api_workers": 1,
    "api_server": "granian",
    "max_body_length": 1_000_000,
    "max_requests_list": 1000,
    "max_find_transactions": 100_000,
    "max_get_trytes": 10_000,
    "testnet": False,
    "mwm": None,
    "snapshot": None,
    "snapshot_timestamp": None,
    "milestone_start": None,
    "testnet_coordinator": None,
    "testnet_coordinator_security_level": None,
    "testnet_coordinator_signature_mode": None,
    "milestone_keys": None,
    "testnet_no_coo_validation": None,
}

_INT_FLAGS: Final = frozenset(
    {
        "port",
        "api_workers",
        "max_body_length",
        "max_requests_list",
        "max_find_transactions",
        "max_get_trytes",
    }
)
_BOOL_FLAGS: Final = frozenset({"testnet"})
# Passed on to CoordinatorConfig.from_flags, which parses and checks them.
_COORDINATOR_FLAGS: Final = (
    "testnet_coordinator",
    "testnet_coordinator_security_level",
    "testnet_coordinator_signature_mode",
    "milestone_keys",
    "milestone_start",
    "snapshot_timestamp",
    "mwm",
    "testnet_no_coo_validation",
)


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """Everything ``pyri run`` needs, checked."""

    port: int
    api_host: str
    db_path: Path
    coordinator: CoordinatorConfig
    snapshot: Path | None
    remote_limit_api: tuple[str, ...] | None
    remote_trusted_api_hosts: tuple[str, ...] | None
    remote_auth: str
    api_tokens: tuple[str, ...]
    api_workers: int
    api_server: str
    max_body_length: int
    max_requests_list: int
    max_find_transactions: int
    max_get_trytes: int
    testnet: bool
    openapi_path: Path | None = field(default=None)

    def to_json(self) -> str:
        """The settings as JSON, for API worker processes (they rebuild them with from_json)."""
        data = asdict(self)
        data["coordinator"] = _coordinator_flags(self.coordinator)
        return json.dumps(data, default=str)

    @classmethod
    def from_json(cls, text: str) -> NodeConfig:
        data = json.loads(text)
        testnet = bool(data["testnet"])
        data["coordinator"] = CoordinatorConfig.from_flags(testnet, **data["coordinator"])
        for name in ("db_path", "snapshot", "openapi_path"):
            data[name] = None if data[name] is None else Path(data[name])
        for name in ("remote_limit_api", "remote_trusted_api_hosts", "api_tokens"):
            data[name] = None if data[name] is None else tuple(data[name])
        return cls(**data)


def _coordinator_flags(config: CoordinatorConfig) -> dict[str, object]:
    if not config.on_testnet:
        return {}
    return {
        "--testnet-coordinator": config.address,
        "--testnet-coordinator-security-level": config.security,
        "--testnet-coordinator-signature-mode": config.signature_mode.value,
        "--milestone-keys": config.depth,
        "--milestone-start": config.milestone_start_index,
        "--snapshot-timestamp": config.snapshot_time,
        "--mwm": config.mwm,
        "--testnet-no-coo-validation": config.skip_validation,
    }


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """``pyri run``'s flags: IRI's names, plus pyri's ``--api-token`` and ``--api-workers``."""
    add = parser.add_argument
    add("-c", "--config", metavar="INI", help="ini file with an [IRI] section of flag values")
    add("--port", "-p", help="API port (14265)")
    add("--api-host", help="API host to bind (localhost)")
    add("--db-path", help="database directory (mainnetdb, testnetdb with --testnet)")
    add("--testnet", nargs="?", const="true", help="testnet rules and coordinator flags")
    add("--mwm", help="minimum weight magnitude (testnet only; 9)")
    add("--snapshot", help="global snapshot file (ADDRESS;BALANCE or ADDRESS:BALANCE lines)")
    add("--snapshot-timestamp", help="snapshot time in seconds (testnet only)")
    add("--milestone-start", help="index of the snapshot milestone (testnet only)")
    add("--testnet-coordinator", help="coordinator address (testnet only)")
    add("--testnet-coordinator-security-level", help="coordinator security level (1)")
    add("--testnet-coordinator-signature-mode", help="CURLP27, CURLP81 or KERL (CURLP27)")
    add("--milestone-keys", help="coordinator Merkle depth (testnet only; 22)")
    add("--testnet-no-coo-validation", nargs="?", const="true", help="skip milestone signatures")
    add("--remote-limit-api", help="commands refused to remote callers (comma separated)")
    add("--remote-trusted-api-hosts", help="hosts allowed the limited commands (comma separated)")
    add("--remote-auth", help="HTTP Basic credentials user:password")
    add("--api-token", action="append", help="accepted Bearer token (repeatable)")
    add("--api-workers", help="API worker processes reading the database (1)")
    add("--api-server", choices=("granian", "uvicorn"), help="ASGI server for the API (granian)")
    add("--max-body-length", help="largest request body in characters (1000000)")
    add("--max-requests-list", help="longest list parameter (1000)")
    add("--max-find-transactions", help="most hashes findTransactions returns (100000)")
    add("--max-get-trytes", help="most transactions getTrytes returns (10000)")


def _ini_values(path: Path) -> dict[str, object]:
    parser = configparser.ConfigParser()
    try:
        with path.open() as handle:
            parser.read_file(handle)
    except (OSError, configparser.Error) as error:
        raise ConfigError("-c", str(path), f"cannot read the ini file: {error}") from None
    values: dict[str, object] = {}
    for section in parser.sections():
        for key, value in parser.items(section):
            name = key.strip().lstrip("-").lower().replace("-", "_")
            if name not in _FLAG_DEFAULTS:
                raise ConfigError(f"[{section}] {key.upper()}", value, "is not a pyri run setting")
            if name in ("db_path", "snapshot") and value and not Path(value).is_absolute():
                value = str(path.parent / value)
            values[name] = value
    return values


def _as_bool(flag: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ConfigError(flag, value, "must be true or false")


def _as_int(flag: str, value: object) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(flag, value, "must be an integer") from None
    if number < 0:
        raise ConfigError(flag, value, "must not be negative")
    return number


def _as_list(value: object) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return tuple(part.strip() for part in str(value).replace(" ", ",").split(",") if part.strip())


def load_config(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> NodeConfig:
    """Defaults, then the ini file, then the command line."""
    values: dict[str, object] = dict(_FLAG_DEFAULTS)
    if getattr(args, "config", None):
        values.update(_ini_values(Path(args.config)))
    for name in _FLAG_DEFAULTS:
        given = getattr(args, name, None)
        if given is not None:
            values[name] = given
    testnet = _as_bool("--testnet", values["testnet"])
    coordinator_flags = {
        "--" + name.replace("_", "-"): values[name]
        for name in _COORDINATOR_FLAGS
        if values[name] is not None
    }
    coordinator = CoordinatorConfig.from_flags(testnet, **coordinator_flags)
    for name in _INT_FLAGS:
        values[name] = _as_int("--" + name.replace("_", "-"), values[name])
    if not 0 < int(str(values["port"])) < 65536:
        raise ConfigError("--port", values["port"], "must be between 1 and 65535")
    if int(str(values["api_workers"])) < 1:
        raise ConfigError("--api-workers", values["api_workers"], "must be at least 1")
    db_path = values["db_path"] or ("testnetdb" if testnet else "mainnetdb")
    snapshot = values["snapshot"]
    if snapshot is not None and not (
        Path(str(snapshot)).is_file() or is_local_snapshot(Path(str(snapshot)))
    ):
        raise ConfigError(
            "--snapshot",
            snapshot,
            "is neither a snapshot file nor the base of local snapshot files",
        )
    tokens = _as_list(values["api_token"]) if values["api_token"] else ()
    env_token = environ.get("PYRI_API_TOKEN")
    if env_token:
        tokens = (*tokens, env_token)
    limit = values["remote_limit_api"]
    trusted = values["remote_trusted_api_hosts"]
    return NodeConfig(
        port=int(str(values["port"])),
        api_host=str(values["api_host"]),
        db_path=Path(str(db_path)),
        coordinator=coordinator,
        snapshot=None if snapshot is None else Path(str(snapshot)),
        remote_limit_api=None if limit is None else _as_list(limit),
        remote_trusted_api_hosts=None if trusted is None else _as_list(trusted),
        remote_auth=str(values["remote_auth"] or ""),
        api_tokens=tokens,
        api_workers=int(str(values["api_workers"])),
        api_server=_server(values["api_server"]),
        max_body_length=int(str(values["max_body_length"])),
        max_requests_list=int(str(values["max_requests_list"])),
        max_find_transactions=int(str(values["max_find_transactions"])),
        max_get_trytes=int(str(values["max_get_trytes"])),
        testnet=testnet,
        openapi_path=_openapi_path(),
    )


def _server(value: object) -> str:
    name = str(value).strip().lower()
    if name not in ("granian", "uvicorn"):
        raise ConfigError("--api-server", value, "must be granian or uvicorn")
    return name


def is_local_snapshot(path: Path) -> bool:
    """Whether ``path`` is the base path of IRI local snapshot files."""
    return Path(f"{path}.snapshot.meta").is_file() and Path(f"{path}.snapshot.state").is_file()


def _openapi_path() -> Path | None:
    # The document is kept in the repository (docs/openapi.json) and shipped beside the
    # package when installed from a checkout.
    candidate = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"
    return candidate if candidate.is_file() else None


def parse_cli(argv: Sequence[str]) -> NodeConfig:
    """For tests: the config ``pyri run`` would build from ``argv``."""
    parser = argparse.ArgumentParser(prog="pyri run")
    add_run_arguments(parser)
    return load_config(parser.parse_args(list(argv)))
