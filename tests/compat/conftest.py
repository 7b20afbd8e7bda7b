"""Fixtures of the client compatibility tests: a real ``pyri run`` loaded with the main
end-to-end tangle (``tests.e2e.tangles.main_scenario``), and the client libraries, which
``make compat-deps`` (``tests/compat/install.py``) installs. A client that is not installed
makes its tests skip, saying how to install it."""

from __future__ import annotations

import importlib
import json
import shutil
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Final

import pytest

from tests.e2e.node import LoadedNode, load, scenario_node
from tests.e2e.tangles import main_scenario

HERE: Final = Path(__file__).resolve().parent
SHIMS: Final = HERE / "shims"
JS: Final = HERE / "js"
PYOTA_VERSION: Final = "2.1.0"
IOTA_CORE_VERSION: Final = "1.0.0-beta.30"
INSTALL_HINT: Final = "run `make compat-deps` (tests/compat/install.py)"


@pytest.fixture(scope="session")
def compat_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedNode]:
    process = scenario_node(tmp_path_factory.mktemp("compat"), main_scenario())
    process.start()
    try:
        node = load(process, main_scenario())
        yield node
    finally:
        code = process.stop()
    assert code == 0, f"pyri run exited with {code}:\n{process.log_tail()}"


@pytest.fixture(scope="session")
def iota() -> ModuleType:
    """PyOTA's ``iota`` package, imported with ``shims/`` (its ``sha3``) on sys.path."""
    if str(SHIMS) not in sys.path:
        sys.path.insert(0, str(SHIMS))
    try:
        with warnings.catch_warnings():
            # PyOTA reads its version through pkg_resources, which newer setuptools deprecate.
            warnings.simplefilter("ignore", DeprecationWarning)
            module = importlib.import_module("iota")
    except Exception as error:  # ImportError, or pkg_resources' DistributionNotFound
        pytest.skip(f"PyOTA {PYOTA_VERSION} is not usable ({error!r}): {INSTALL_HINT}")
    version = getattr(module, "__version__", None)
    if version != PYOTA_VERSION:
        pytest.skip(f"PyOTA {PYOTA_VERSION} is needed, found {version}: {INSTALL_HINT}")
    return module


@pytest.fixture(scope="session")
def node_js() -> str:
    """The ``node`` executable, with iota.js installed in ``js/node_modules``."""
    executable = shutil.which("node")
    if executable is None:
        pytest.skip("node (Node.js) is not installed: the iota.js tests need it")
    package = JS / "node_modules" / "@iota" / "core" / "package.json"
    if not package.is_file():
        pytest.skip(f"iota.js is not installed in {JS / 'node_modules'}: {INSTALL_HINT}")
    version = json.loads(package.read_text()).get("version")
    if version != IOTA_CORE_VERSION:
        pytest.skip(f"@iota/core {IOTA_CORE_VERSION} is needed, found {version}: {INSTALL_HINT}")
    return executable
