"""getMissingTransactions (iri-api-reference §4.7)."""

from __future__ import annotations

from typing import Final

from pyri.api.context import Context
from pyri.api.params import Request

NAME: Final = "getMissingTransactions"


def handle(request: Request, context: Context) -> dict[str, object]:
    return {"hashes": context.backend.missing_transactions()}
