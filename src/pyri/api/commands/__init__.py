"""The commands pyri serves, one module each, and the table the transport dispatches on.

IRI's other built-in commands (getNeighbors, addNeighbors, removeNeighbors,
getTransactionsToApprove, attachToTangle, interruptAttachingToTangle) are not offered yet: they
get IRI's answer to an unknown command, ``Command [<name>] is unknown`` (400), after the
``--remote-limit-api`` check, which (by default) answers remote callers of the limited ones with
401 first, as IRI's order of checks does (iri-api-reference §2.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from pyri.api.commands import (
    broadcast_transactions,
    check_consistency,
    find_transactions,
    get_balances,
    get_inclusion_states,
    get_missing_transactions,
    get_node_api_configuration,
    get_node_info,
    get_tips,
    get_trytes,
    store_transactions,
    were_addresses_spent_from,
)
from pyri.api.context import Handler

COMMANDS: Final[Mapping[str, Handler]] = MappingProxyType(
    {
        module.NAME: module.handle
        for module in (
            get_balances,
            get_node_info,
            get_node_api_configuration,
            get_trytes,
            find_transactions,
            get_inclusion_states,
            were_addresses_spent_from,
            check_consistency,
            get_tips,
            get_missing_transactions,
            store_transactions,
            broadcast_transactions,
        )
    }
)
