"""``pyri import``: both file formats, hash checks, and an import killed half way and re-run."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyri.consensus.tangle import Tangle, TangleConfig
from pyri.importer import DEFAULT_BATCH, import_files, parse_line
from pyri.model.transaction import Transaction, parse_batch
from pyri.storage import open_engine
from pyri.trinary import NULL_HASH
from tests.consensus.txgen import transaction_trytes

ROOT = Path(__file__).resolve().parents[1]


def _transactions(count: int, seed: int) -> list[Transaction]:
    """``count`` transactions; every tenth approves its predecessor, so some have approvees
    that arrive in the same file."""
    rng = random.Random(seed)
    first = parse_batch([transaction_trytes(rng=rng) for _ in range(count)])
    trytes = []
    for position, tx in enumerate(first):
        assert isinstance(tx, Transaction)
        if position % 10 == 9:
            previous = first[position - 1]
            assert isinstance(previous, Transaction)
            trytes.append(transaction_trytes(previous.hash, NULL_HASH, rng=rng))
        else:
            trytes.append(tx.trytes)
    return [tx for tx in parse_batch(trytes) if isinstance(tx, Transaction)]


def _stored_hashes(path: Path) -> set[str]:
    engine = open_engine(path)
    try:
        with Tangle(engine).read() as reader:
            from pyri.storage import schema

            keys = [key for key, _ in reader.view.iterate(schema.TRANSACTIONS)]
            return set(schema.hashes_from_keys(keys))
    finally:
        engine.close()


def test_parse_line_formats() -> None:
    trytes = "A" * 2673
    assert parse_line(trytes).trytes == trytes
    dmp = parse_line(f"{'B' * 81},{trytes},1234")
    assert (dmp.trytes, dmp.given_hash) == (trytes, "B" * 81)
    assert parse_line(f"{'B' * 81},{trytes},0,1234").trytes == trytes
    assert parse_line(f"{'B' * 80},{trytes}").problem == "the first field is not an 81-tryte hash"
    assert parse_line(f"{'B' * 81},{trytes},x").problem == "'x' is not an integer"
    assert parse_line("a,b,c,d,e").problem == "expected 2 to 4 comma-separated fields, got 5"


def test_import_both_formats_with_checks(tmp_path: Path) -> None:
    transactions = _transactions(30, seed=1)
    raw = tmp_path / "raw.txt"
    raw.write_text("\n".join(tx.trytes for tx in transactions[:10]) + "\n\n")
    dump = tmp_path / "export.dmp"
    lines = [f"{tx.hash},{tx.trytes},{i}" for i, tx in enumerate(transactions[10:20])]
    lines += [f"{tx.hash},{tx.trytes},0,{i}" for i, tx in enumerate(transactions[20:29])]
    lines.append(f"{transactions[0].hash},{transactions[29].trytes}")  # hash does not match
    lines.append("not a transaction")
    lines.append(f"{transactions[3].hash},{transactions[3].trytes}")  # already in raw.txt
    dump.write_text("\n".join(lines) + "\n")
    engine = open_engine(tmp_path / "db")
    tangle = Tangle(engine, TangleConfig(mwm=0))
    summary = import_files(tangle, [raw, dump], batch_size=7, progress=False)
    engine.close()
    assert summary.lines == 32
    assert summary.accepted == 29
    assert summary.known == 1
    assert dict(summary.rejected) == {
        "hash does not match the trytes": 1,
        "malformed trytes": 1,
    }
    assert _stored_hashes(tmp_path / "db") == {tx.hash for tx in transactions[:29]}


@pytest.mark.parametrize("dump_format", [False, True])
def test_killed_import_reruns_to_the_exact_set(tmp_path: Path, dump_format: bool) -> None:
    transactions = _transactions(3000, seed=2)
    source = tmp_path / ("big.dmp" if dump_format else "big.txt")
    with source.open("w") as handle:
        for tx in transactions:
            handle.write(f"{tx.hash},{tx.trytes},7\n" if dump_format else tx.trytes + "\n")
    db = tmp_path / "db"
    command = [
        sys.executable,
        "-m",
        "pyri.cli",
        "import",
        str(source),
        "--db-path",
        str(db),
        "--mwm",
        "0",
        "--batch",
        "100",
        "--no-progress",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Kill it once some batches have landed, while it is still importing.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        if (db / "data.mdb").exists() and (db / "data.mdb").stat().st_size > 2_000_000:
            break
        time.sleep(0.05)
    assert child.poll() is None, "the import finished before it could be interrupted"
    child.send_signal(signal.SIGKILL)
    child.wait()
    partial = _stored_hashes(db)
    assert 0 < len(partial) < len(transactions)
    assert len(partial) % 100 == 0  # whole batches only
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert "already known" in done.stdout
    assert _stored_hashes(db) == {tx.hash for tx in transactions}


def test_the_import_help_names_the_default_batch_and_a_bad_batch_is_refused(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    shown = subprocess.run(
        [sys.executable, "-m", "pyri.cli", "import", "--help"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"(default {DEFAULT_BATCH})" in " ".join(shown.stdout.split())
    source = tmp_path / "one.txt"
    source.write_text("")
    refused = subprocess.run(
        [sys.executable, "-m", "pyri.cli", "import", str(source), "--batch", "0"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2
    assert refused.stderr == "pyri import: --batch must be at least 1\n"
