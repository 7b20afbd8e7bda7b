"""checkConsistency (iri-api-reference §4.16). A missing tail or a non-tail is 400 from the
backend (TransactionMissing, NotATail); an inconsistent one is a 200 with ``state: false``."""

from __future__ import annotations

from typing import Final

from pyri.api.commands.sync import require_synchronized
from pyri.api.context import Context
from pyri.api.params import Request, TryteList

NAME: Final = "checkConsistency"

TAILS: Final = TryteList("tails")


def handle(request: Request, context: Context) -> dict[str, object]:
    require_synchronized(context)
    tails = TAILS.read(request, context.config.max_requests_list)
    verdict = context.backend.check_consistency(tails)
    return {"state": verdict.state, "info": verdict.info}
