"""storeTransactions (iri-api-reference §4.13; iri-consensus-reference §3.4).

All or nothing: the backend validates every transaction before storing any. Every failure of
this command is 400 with IRI 1.8.6's ``Error: `` prefix, as IRI answered this command's failures
itself (1.8.1-1.8.5 said only ``Invalid trytes input``); pyri adds what exactly failed.
"""

from __future__ import annotations

from typing import Final

from pyri.api.context import Context
from pyri.api.errors import BadRequest
from pyri.api.params import TRANSACTION_TRYTES, Request, TryteList

NAME: Final = "storeTransactions"

TRYTES: Final = TryteList("trytes", length=TRANSACTION_TRYTES)


def handle(request: Request, context: Context) -> dict[str, object]:
    try:
        trytes = TRYTES.read(request, context.config.max_requests_list)
        context.backend.store_transactions(trytes)
    except BadRequest as error:
        raise BadRequest(f"Error: {error.message}") from error
    return {}
