"""getNodeAPIConfiguration (iri-api-reference §4.2): the effective API limits."""

from __future__ import annotations

from typing import Final

from pyri.api.context import Context
from pyri.api.params import Request

NAME: Final = "getNodeAPIConfiguration"


def handle(request: Request, context: Context) -> dict[str, object]:
    config = context.config
    return {
        "maxFindTransactions": config.max_find_transactions,
        "maxRequestsList": config.max_requests_list,
        "maxGetTrytes": config.max_get_trytes,
        "maxBodyLength": config.max_body_length,
        "testNet": config.testnet,
        "milestoneStartIndex": config.milestone_start_index,
    }
