"""getTips as in IRI 1.8.1-1.8.5 (iri-api-reference §4.6); 1.8.6 removed it, pyri keeps it."""

from __future__ import annotations

from typing import Final

from pyri.api.context import Context
from pyri.api.params import Request

NAME: Final = "getTips"


def handle(request: Request, context: Context) -> dict[str, object]:
    return {"hashes": context.backend.tips()}
