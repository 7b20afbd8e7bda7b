"""getTrytes (iri-api-reference §4.9)."""

from __future__ import annotations

from typing import Final

from pyri.api.context import Context
from pyri.api.errors import BadRequest
from pyri.api.params import TRANSACTION_TRYTES, Request, TryteList

NAME: Final = "getTrytes"

HASHES: Final = TryteList("hashes")
# IRI answers an unknown hash with the all-zero transaction, never null (§4.9, §7).
UNKNOWN: Final = "9" * TRANSACTION_TRYTES


def handle(request: Request, context: Context) -> dict[str, object]:
    config = context.config
    hashes = HASHES.read(request, config.max_requests_list)
    # One result per hash, so the result limit can be checked before the lookup; it is only
    # reachable when --max-requests-list is above --max-get-trytes.
    if len(hashes) > config.max_get_trytes:
        raise BadRequest(
            f"Could not complete request: {len(hashes)} transactions requested, more than "
            f"the limit of {config.max_get_trytes} (--max-get-trytes)"
        )
    found = context.backend.get_trytes(hashes)
    return {"trytes": [UNKNOWN if trytes is None else trytes for trytes in found]}
