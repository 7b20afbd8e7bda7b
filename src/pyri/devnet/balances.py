"""``pyri balances``: getBalances as a table, for people who would rather not write curl.

``--tips`` asks for the balances as those tips see them (confirmed plus their unconfirmed
cones); ``--at`` asks for the balances right after an earlier milestone (pyri's
``milestoneIndex`` extension of getBalances; IRI nodes do not know it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from rich.console import Console
from rich.table import Table

from pyri.devnet.client import Balances, NodeClient

_UNITS: Final = (("Pi", 10**15), ("Ti", 10**12), ("Gi", 10**9), ("Mi", 10**6), ("Ki", 10**3))


def human(iotas: int) -> str:
    """``1234567`` -> ``1.23 Mi``: the largest IOTA unit that keeps the number >= 1."""
    for unit, size in _UNITS:
        if abs(iotas) >= size:
            return f"{iotas / size:.2f} {unit}"
    return f"{iotas} i"


def fetch(
    client: NodeClient,
    addresses: Sequence[str],
    *,
    tips: Sequence[str] = (),
    at: int | None = None,
) -> Balances:
    return client.get_balances(addresses, tips=tips or None, milestone_index=at)


def render(addresses: Sequence[str], result: Balances, console: Console) -> None:
    where = f"milestone {result.milestone_index}"
    table = Table(title=f"Balances at {where}", title_justify="left")
    # Addresses are folded, never cut: a shortened address cannot be copied.
    table.add_column("address", overflow="fold", min_width=27)
    table.add_column("iotas", justify="right", no_wrap=True)
    table.add_column("", justify="right", no_wrap=True)
    for address, balance in zip(addresses, result.balances, strict=True):
        table.add_row(address, f"{balance:,}", human(balance))
    if len(addresses) > 1:
        total = sum(result.balances)
        table.add_section()
        table.add_row("total", f"{total:,}", human(total))
    console.print(table)
    for reference in result.references:
        console.print(f"reference {reference}", style="dim", soft_wrap=True)
