"""Access to the shared test vectors (../shared/vectors, or the folder named by PYRI_VECTORS).

The vectors are read where they lie and never copied into the repository. Where the folder is
absent, every vector-driven test is skipped with a message that says so.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

_DEFAULT = Path(__file__).resolve().parents[1] / ".." / "shared" / "vectors"


def vectors_dir() -> Path:
    return Path(os.environ.get("PYRI_VECTORS", str(_DEFAULT))).resolve()


@cache
def _load(name: str) -> dict[str, Any] | None:
    path = vectors_dir() / f"{name}.json"
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def load_vectors(name: str) -> dict[str, Any]:
    """The whole vector file ``name``.json; skips the calling test when it is missing."""
    data = _load(name)
    if data is None:
        pytest.skip(f"test vectors missing: {vectors_dir() / (name + '.json')} (set PYRI_VECTORS)")
    return data


def cases(name: str, kind: str | None = None) -> list[Any]:
    """Cases of a vector file (of one ``kind``) as pytest parameters with readable ids. When the
    file is missing, one skipped parameter says so, so that the gap shows in the report."""
    data = _load(name)
    if data is None:
        reason = f"test vectors missing: {vectors_dir() / (name + '.json')} (set PYRI_VECTORS)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="missing")]
    selected = [c for c in data["cases"] if kind is None or c.get("kind") == kind]
    return [
        pytest.param(case, id=str(case.get("id", f"{kind or name}-{i}")))
        for i, case in enumerate(selected)
    ]


def seed_trytes(seed: str) -> str:
    """Seeds shorter than 81 trytes are right-padded with 9s, as iota.js and PyOTA do."""
    return seed.ljust(81, "9")
