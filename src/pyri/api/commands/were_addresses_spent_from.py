"""wereAddressesSpentFrom (iri-api-reference §4.17); checksummed addresses are accepted as in
getBalances (design.md, difference 3)."""

from __future__ import annotations

from typing import Final

from pyri.api.context import Context
from pyri.api.params import AddressList, Request

NAME: Final = "wereAddressesSpentFrom"

ADDRESSES: Final = AddressList("addresses")


def handle(request: Request, context: Context) -> dict[str, object]:
    addresses = ADDRESSES.read(request, context.config.max_requests_list)
    return {"states": context.backend.were_addresses_spent_from(addresses)}
