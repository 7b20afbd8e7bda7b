"""getInclusionStates with IRI 1.8.6's semantics (iri-api-reference §4.10): a transaction is
included iff a milestone confirmed it; ``tips`` is not read at all (fix #1685), so clients that
still send it, or send anything there, are served."""

from __future__ import annotations

from typing import Final

from pyri.api.commands.sync import require_synchronized
from pyri.api.context import Context
from pyri.api.params import Request, TryteList

NAME: Final = "getInclusionStates"

TRANSACTIONS: Final = TryteList("transactions")


def handle(request: Request, context: Context) -> dict[str, object]:
    # IRI checks sync before reading any parameter.
    require_synchronized(context)
    transactions = TRANSACTIONS.read(request, context.config.max_requests_list)
    return {"states": context.backend.inclusion_states(transactions)}
