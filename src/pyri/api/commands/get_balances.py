"""getBalances (iri-api-reference §3, design.md "The getBalances contract" and differences 1-4,
7, 8).

Parameters are read in IRI's order, so an invalid address is reported before a bad threshold
(§2.6): ``addresses``, ``tips``, ``threshold``, then pyri's ``milestoneIndex``.
"""

from __future__ import annotations

from typing import Final

from pyri.api.context import Context
from pyri.api.errors import BadRequest
from pyri.api.params import AddressList, OptionalIndex, Request, Threshold, TryteList

NAME: Final = "getBalances"

ADDRESSES: Final = AddressList("addresses")
# Absent, null and [] all mean "no tips" (design.md, difference 4).
TIPS: Final = TryteList("tips", optional=True)
THRESHOLD: Final = Threshold()
MILESTONE_INDEX: Final = OptionalIndex("milestoneIndex")


def handle(request: Request, context: Context) -> dict[str, object]:
    limit = context.config.max_requests_list
    addresses = ADDRESSES.read(request, limit)
    tips = TIPS.read(request, limit)
    # Validated for the client's sake, then ignored: IRI 1.8.6 dropped it and it never
    # influenced a balance (§3.3).
    THRESHOLD.read(request)
    milestone_index = MILESTONE_INDEX.read(request)
    backend = context.backend
    if milestone_index is not None:
        if tips:
            # A past milestone's ledger and today's tips describe different states; answering
            # either one would silently ignore half of the request.
            raise BadRequest("Invalid parameters: 'milestoneIndex' cannot be combined with 'tips'")
        result = backend.balances_at(addresses, milestone_index)
        references = [result.milestone_hash]
    elif tips:
        result = backend.balances_through_tips(addresses, tips)
        # The tips exactly as given, order and duplicates kept (§3.2).
        references = tips
    else:
        result = backend.balances(addresses)
        references = [result.milestone_hash]
    return {
        # Decimal strings: a balance may exceed what a JavaScript number holds exactly.
        "balances": list(map(str, result.balances)),
        "references": references,
        "milestoneIndex": result.milestone_index,
    }
