"""The one error type of the API layer.

Handlers return a value or raise an ``ApiError``; ``app.py`` is the only place that turns errors
into HTTP responses. Anything else a handler raises is a fault of the node and becomes 500
(iri-api-reference §1.5); bad input must never get there (design.md, difference 1).
"""

from __future__ import annotations

from typing import ClassVar

from pyri.errors import PyriError


class ApiError(PyriError):
    """A request the node answers with an error body; ``str(error)`` is the client's message
    and ``status`` the HTTP status (400 unless a subclass says otherwise)."""

    status: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ApiError):
    """400 ``{"error": ...}``: the request is malformed, a parameter is invalid, or the node
    cannot answer what was asked (unknown tip, inconsistent tips, ...)."""

    status: ClassVar[int] = 400


class Unauthorized(ApiError):
    """401 ``{"error": ...}``: credentials are missing or wrong (Bearer token or
    ``--remote-auth``), or the command is limited for this caller (iri-api-reference §1.7)."""

    status: ClassVar[int] = 401
