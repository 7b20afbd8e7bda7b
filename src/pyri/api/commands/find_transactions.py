"""findTransactions (iri-api-reference §4.8): the intersection across the criteria given.

IRI prefixed every error of this command with ``com.iota.iri.service.ValidationException: ``
and answered 500; pyri answers 400 with the plain message (design.md, differences 1 and 6).
"""

from __future__ import annotations

from typing import Final

from pyri.api.context import Context
from pyri.api.errors import BadRequest
from pyri.api.params import HashSet, Request, TagSet

NAME: Final = "findTransactions"

# IRI's order of reading them.
BUNDLES: Final = HashSet("bundles")
ADDRESSES: Final = HashSet("addresses", addresses=True)
TAGS: Final = TagSet("tags")
APPROVEES: Final = HashSet("approvees")


def handle(request: Request, context: Context) -> dict[str, object]:
    config = context.config
    limit = config.max_requests_list
    bundles = BUNDLES.read(request, limit)
    addresses = ADDRESSES.read(request, limit)
    tags = TAGS.read(request, limit)
    approvees = APPROVEES.read(request, limit)
    if bundles is None and addresses is None and tags is None and approvees is None:
        raise BadRequest(
            "Invalid parameters: give at least one of 'bundles', 'addresses', 'tags', 'approvees'"
        )
    hashes = context.backend.find_transactions(
        addresses=addresses, bundles=bundles, tags=tags, approvees=approvees
    )
    if len(hashes) > config.max_find_transactions:
        # 400, unlike the 500 of an over-long request list in IRI (§2.7).
        raise BadRequest(
            f"Could not complete request: {len(hashes)} transactions match, more than the "
            f"limit of {config.max_find_transactions} (--max-find-transactions)"
        )
    return {"hashes": hashes}
