"""The sync check that getInclusionStates and checkConsistency run first (iri-api-reference
§4, preamble)."""

from __future__ import annotations

from typing import Final

from pyri.api.context import Context
from pyri.api.errors import BadRequest

NOT_SYNCHRONIZED: Final = (
    "This operation cannot be executed: The subtangle has not been updated yet."
)


def require_synchronized(context: Context) -> None:
    if not context.backend.is_synchronized():
        raise BadRequest(NOT_SYNCHRONIZED)
