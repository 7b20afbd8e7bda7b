"""The errors the devnet tools raise on purpose; each names what went wrong and what to do."""

from __future__ import annotations

from pyri.errors import PyriError


class DevnetError(PyriError):
    """Base class of the devnet tools' deliberate errors."""


class NodeUnavailable(DevnetError):
    """The node does not answer at all (connection refused, reset, timed out): it is not
    running yet, restarting, or the URL is wrong. Callers that run for long retry."""


class ApiCallError(DevnetError):
    """The node answered a command with an error: ``status`` is the HTTP status and
    ``message`` the ``error`` (400, 401) or ``exception`` (500) text of the answer."""

    def __init__(self, command: str, status: int, message: str) -> None:
        super().__init__(f"{command}: HTTP {status}: {message}")
        self.command = command
        self.status = status
        self.message = message


class KeyTreeError(DevnetError):
    """A coordinator key tree cannot be built or loaded: bad parameters, a directory holding a
    tree of another seed or shape, or damaged files."""


class CoordinatorError(DevnetError):
    """The coordinator cannot go on: the node trusts another coordinator address, the key tree
    is used up, or its state file disagrees with the node."""


class WalletError(DevnetError):
    """A transfer cannot be built: no funded input, a bad seed, or a bad amount."""
