"""The devnet subcommands through ``pyri``'s entry point."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyri.cli import main
from pyri.crypto.sponge import SpongeMode
from pyri.devnet import runner
from pyri.devnet.balances import human
from pyri.devnet.coordinator import IssuedMilestone
from pyri.devnet.genesis import GENESIS_SEED, DevnetConfig, genesis_addresses, genesis_balances
from pyri.devnet.runner import MILESTONE_LINE, _Reporter, curl_example
from tests.devnet.conftest import KeysFactory, NodeFactory


def test_help_lists_the_commands_without_loading_numba() -> None:
    code = (
        "import sys; from pyri.cli import build_parser; build_parser().format_help(); "
        "print('numba' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
    help_text = subprocess.run(
        [sys.executable, "-m", "pyri.cli", "--help"], capture_output=True, text=True
    ).stdout
    for command in ("coordinator", "spam", "devnet", "balances"):
        assert command in help_text


def test_devnet_init(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "net"
    assert main(["devnet", "init", "--dir", str(directory), "--depth", "3", "--mwm", "4"]) == 0
    config = DevnetConfig.load(directory)
    assert config.tree.depth == 3 and config.mwm == 4
    assert "created" in capsys.readouterr().out
    assert main(["devnet", "--dir", str(directory), "init"]) == 0
    assert "already there" in capsys.readouterr().out


def test_coordinator_tree_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["coordinator", "--dir", str(tmp_path), "--depth", "2", "--mode", "kerl", "--tree-only"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "--testnet-coordinator-signature-mode KERL --milestone-keys 2" in out
    # Same directory, other shape: refused with a message, not a traceback.
    assert main(["coordinator", "--dir", str(tmp_path), "--depth", "3", "--tree-only"]) == 1
    assert "holds a key tree of depth 2" in capsys.readouterr().err


def test_balances_table(
    coordinator_keys: KeysFactory, fake_node: NodeFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    _, url = fake_node(coordinator_keys(3, 1, SpongeMode.CURLP27), genesis_balances())
    addresses = genesis_addresses()[:2]
    assert main(["balances", *addresses, "--node", url]) == 0
    out = capsys.readouterr().out
    assert "milestone 0" in out
    assert addresses[0] in out  # never cut short
    assert f"{genesis_balances()[addresses[0]]:,}" in out
    assert main(["balances", addresses[0], "--node", url, "--at", "5"]) == 1
    assert "pyri balances:" in capsys.readouterr().err


def test_human_units() -> None:
    assert human(0) == "0 i"
    assert human(999) == "999 i"
    assert human(1_500_000) == "1.50 Mi"
    assert human(2_779_530_283_277_761) == "2.78 Pi"


def test_node_log_lines_and_the_curl_example() -> None:
    line = (
        "2026-01-01 00:00:00,000 INFO "
        "milestone 12 applied: 34 transactions confirmed, 5 addresses changed"
    )
    match = MILESTONE_LINE.search(line)
    assert match is not None and match.groups() == ("12", "34", "5")
    example = curl_example("http://localhost:14265", "A" * 81)
    assert example.startswith("curl -s http://localhost:14265 -X POST")
    assert "'X-IOTA-API-Version: 1'" in example and '"addresses": ["' + "A" * 81 in example


def test_reporter_prints_each_milestone_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "NODE_LINE_GRACE", 0.05)
    lines: list[str] = []
    reporter = _Reporter(lines.append)
    reporter.node_line(3, 10, 2)
    reporter.node_line(3, 10, 2)
    milestone = IssuedMilestone(4, "A" * 81, 2, 3, 0.1, True, 0.2)
    reporter.issued(milestone)  # no node line follows: the coordinator's view is printed
    deadline = time.monotonic() + 5
    while len(lines) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(lines) == 2
    assert "milestone     3    10 transactions confirmed" in lines[0]
    assert "milestone     4  applied, approves 2 tips" in lines[1]


def test_spam_with_seeds_writes_a_report(
    coordinator_keys: KeysFactory,
    fake_node: NodeFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, url = fake_node(coordinator_keys(3, 1, SpongeMode.CURLP27), genesis_balances())
    report = tmp_path / "report.json"
    argv = ["spam", "--node", url, "--seed", f"{GENESIS_SEED}:2", "--seed", "A" * 81 + ":1"]
    argv += ["--scan", "3", "--rate", "50", "--count", "3", "--mwm", "1", "--report", str(report)]
    argv += ["--random-seed", "7", "--state", str(tmp_path / "wallet.json")]
    assert main(argv) == 0
    data = json.loads(report.read_text())
    assert data["sent"] >= 3
    assert "sent" in capsys.readouterr().out
    assert (tmp_path / "wallet.json").exists()
    assert main(["spam", "--node", url]) == 1
    assert "--dir DEVNET or at least one --seed" in capsys.readouterr().err
