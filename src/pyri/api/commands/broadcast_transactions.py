"""broadcastTransactions (iri-api-reference §4.15): the transactions enter the ingest pipeline
as if received from a neighbour; invalid ones are dropped without a word, as in IRI."""

from __future__ import annotations

from typing import Final

from pyri.api.context import Context
from pyri.api.params import TRANSACTION_TRYTES, Request, TryteList

NAME: Final = "broadcastTransactions"

TRYTES: Final = TryteList("trytes", length=TRANSACTION_TRYTES)


def handle(request: Request, context: Context) -> dict[str, object]:
    trytes = TRYTES.read(request, context.config.max_requests_list)
    context.backend.broadcast_transactions(trytes)
    return {}
