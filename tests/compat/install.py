"""Install the IRI client libraries the compatibility tests drive: ``make compat-deps``.

Run it with the virtual environment's Python (``.venv/bin/python tests/compat/install.py``):

* PyOTA 2.1.0 with ``--no-deps`` (its ``pysha3`` does not build on Python 3.11), then its other
  requirements (``requirements.txt`` beside this file), then a stub ``pysha3`` distribution so
  that PyOTA's start-up requirement check passes; the ``sha3`` module itself comes from
  ``shims/``, which the tests put on ``sys.path``;
* iota.js from ``js/package-lock.json`` with ``npm ci`` into ``js/node_modules``.

Each part is skipped when it is already in place, so a second run takes a moment. When a
registry or npm is not reachable the script says so and exits 0: the compatibility tests then
skip, naming what is missing.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path
from typing import Final

HERE: Final = Path(__file__).resolve().parent
REQUIREMENTS: Final = HERE / "requirements.txt"
JS: Final = HERE / "js"
JS_STAMP: Final = JS / "node_modules" / ".pyri-lock-sha256"
PYOTA: Final = "PyOTA==2.1.0"
PINNED: Final = {"PyOTA": "2.1.0", "phx-filters": "2.0.2", "phx-class-registry": "3.0.5"}
STUB_NAME: Final = "pysha3"
STUB_VERSION: Final = "1.0.2"
TIMEOUT_S: Final = 600


def _say(message: str) -> None:
    print(f"compat-deps: {message}", flush=True)


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _requirements() -> list[str]:
    lines = REQUIREMENTS.read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def _python_ready() -> bool:
    if any(_installed(name) != version for name, version in PINNED.items()):
        return False
    if _installed(STUB_NAME) is None:
        return False
    names = [r.split("=")[0].split(">")[0].split("<")[0].strip() for r in _requirements()]
    return all(_installed(name) is not None for name in names)


def _pip(*args: str) -> bool:
    # Few retries and a short timeout: without a registry, fail fast and let the tests skip.
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--retries",
        "1",
        "--timeout",
        "30",
        *args,
    ]
    try:
        subprocess.run(command, check=True, timeout=TIMEOUT_S)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        _say(f"pip failed ({error}); the PyOTA compatibility tests will skip")
        return False
    return True


def _write_stub() -> None:
    """A ``pysha3`` dist-info without code: PyOTA's ``pkg_resources.require('PyOTA')`` only
    checks that the distribution is there. RECORD lists the files, so pip can remove it."""
    site = Path(sysconfig.get_paths()["purelib"])
    info = site / f"{STUB_NAME}-{STUB_VERSION}.dist-info"
    info.mkdir(exist_ok=True)
    files = {
        "METADATA": (
            f"Metadata-Version: 2.1\nName: {STUB_NAME}\nVersion: {STUB_VERSION}\n"
            "Summary: Stub for pyri's compatibility tests; sha3 comes from tests/compat/shims\n"
        ),
        "INSTALLER": "pyri-compat\n",
    }
    for name, text in files.items():
        (info / name).write_text(text)
    record = [f"{info.name}/{name},," for name in [*files, "RECORD"]]
    (info / "RECORD").write_text("\n".join(record) + "\n")


def install_python() -> None:
    if _python_ready():
        _say("PyOTA 2.1.0 already installed")
        return
    _say("installing PyOTA 2.1.0 (without pysha3) and its other requirements")
    # The stub first, so that pip sees PyOTA's requirement on pysha3 met.
    if _pip("--no-deps", PYOTA):
        _write_stub()
        _pip("-r", str(REQUIREMENTS))


def _lock_digest() -> str:
    return hashlib.sha256((JS / "package-lock.json").read_bytes()).hexdigest()


def install_js() -> None:
    digest = _lock_digest()
    if JS_STAMP.is_file() and JS_STAMP.read_text().strip() == digest:
        _say("iota.js already installed")
        return
    npm = shutil.which("npm")
    if npm is None:
        _say("npm not found; the iota.js compatibility tests will skip")
        return
    _say("installing iota.js (npm ci)")
    command = [
        npm,
        "ci",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        "--fetch-retries=1",
        "--fetch-timeout=30000",
    ]
    try:
        subprocess.run(command, cwd=JS, check=True, timeout=TIMEOUT_S)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        _say(f"npm ci failed ({error}); the iota.js compatibility tests will skip")
        return
    JS_STAMP.write_text(digest + "\n")


def main() -> int:
    install_python()
    install_js()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
