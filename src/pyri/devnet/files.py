"""Small files the devnet keeps between runs (coordinator state, wallet state, metadata), written
so that a crash at any instant leaves either the old or the new content, never half of it."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_atomically(path: Path, data: bytes, *, private: bool = False) -> None:
    """Replace ``path`` with ``data``: a synced temporary file renamed over it. ``private``
    makes the file readable by its owner only (seeds)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file private; only seeds should stay so.
        os.chmod(temporary, 0o600 if private else 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    # The rename itself must survive a crash too: sync the directory entry.
    with contextlib.suppress(OSError):
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def write_json(path: Path, value: Any, *, private: bool = False) -> None:
    text = json.dumps(value, indent=2, sort_keys=True) + "\n"
    write_atomically(path, text.encode("utf-8"), private=private)


def read_json(path: Path) -> Any:
    """The JSON value in ``path``; OSError or ValueError when it is missing or malformed."""
    return json.loads(path.read_text(encoding="utf-8"))
