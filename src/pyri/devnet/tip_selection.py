"""Choosing what to approve without getTransactionsToApprove: tips from getTips, kept only if
checkConsistency accepts them together (api-reference §4.16).

checkConsistency judges a list of tails as the node will judge a milestone that approves them:
every unconfirmed bundle in their past cones must be valid (with the extra rules, which are
stricter than milestone application), and their combined effect must not overdraw any address.
A milestone that approves only tails passing that check together can therefore be applied.

Tips arrive as hashes; tails are what may be approved (§5.6 a), and the oldest are the ones
closest to falling below max depth, so candidates are read once with getTrytes, non-tails are
dropped, and the rest are ordered by attachment time, oldest first.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from pyri.devnet.client import NodeClient
from pyri.devnet.errors import ApiCallError
from pyri.model.transaction import Transaction, parse_batch
from pyri.trinary import NULL_HASH


@dataclass(frozen=True, slots=True)
class Candidate:
    hash: str
    attached_ms: int


def tail_tips(
    client: NodeClient, exclude: frozenset[str] = frozenset(), limit: int = 1000
) -> list[Candidate]:
    """The node's tips that are tails, oldest attachment first, without ``exclude``; at most
    ``limit`` tips are read (a devnet has a few dozen; a flooded node may have thousands)."""
    hashes = [h for h in client.tips() if h not in exclude and h != NULL_HASH][:limit]
    if not hashes:
        return []
    known = [(h, t) for h, t in zip(hashes, client.get_trytes(hashes), strict=True) if t.strip("9")]
    # One batched parse: the hashes of all tips in one Curl call.
    parsed = parse_batch([trytes for _, trytes in known])
    candidates = [
        Candidate(tx_hash, tx.attachment_timestamp or 1000 * tx.timestamp)
        for (tx_hash, _), tx in zip(known, parsed, strict=True)
        if isinstance(tx, Transaction) and tx.current_index == 0 and tx.hash == tx_hash
    ]
    candidates.sort(key=lambda c: (c.attached_ms, c.hash))
    return candidates


def check(client: NodeClient, tails: Sequence[str]) -> tuple[bool, bool]:
    """checkConsistency over ``tails``: (consistent, worth retrying). A tail that is not solid
    yet may be consistent once its past arrives; a missing tail or a non-tail (400), an invalid
    bundle or an overdraft will not be. Other errors (the node is not synchronised yet)
    propagate."""
    try:
        state, info = client.check_consistency(tails)
    except ApiCallError as error:
        if error.status == 400 and "Invalid transaction" in error.message:
            return False, False
        raise
    return state, not state and "not solid" in info


def consistent(client: NodeClient, tails: Sequence[str]) -> bool:
    return check(client, tails)[0]


def consistent_set(
    client: NodeClient, candidates: Sequence[str], limit: int
) -> tuple[list[str], list[str]]:
    """Up to ``limit`` of ``candidates`` (in their order) that are consistent together, and the
    candidates that are inconsistent even alone (and not merely unsolid).

    One call decides the usual case, where everything fits; otherwise tips are added one at a
    time, each kept only if the set stays consistent with it (a conflicting spend loses to the
    one listed earlier, i.e. attached earlier)."""
    first = list(candidates[:limit])
    if not first:
        return [], []
    if consistent(client, first):
        return first, []
    chosen: list[str] = []
    dead: list[str] = []
    for tip in candidates:
        if len(chosen) >= limit:
            break
        state, retry = check(client, [*chosen, tip])
        if state:
            chosen.append(tip)
            continue
        if chosen:
            state, retry = check(client, [tip])
        if not state and not retry:
            dead.append(tip)
    return chosen, dead


def approvee_pair(
    client: NodeClient, fallback: str, rng: random.Random, tries: int = 3
) -> tuple[str, str]:
    """Two tails to approve, as a wallet's tip selection would give them: random consistent
    tips, or ``fallback`` (the latest solid milestone, always consistent) where none is found."""
    try:
        tips = [h for h in client.tips() if h != NULL_HASH]
    except ApiCallError:
        tips = []
    rng.shuffle(tips)
    chosen: list[str] = []
    for tip in tips[: 2 * tries]:
        if len(chosen) == 2:
            break
        if tip not in chosen and consistent(client, [*chosen, tip]):
            chosen.append(tip)
    while len(chosen) < 2:
        chosen.append(fallback)
    return chosen[0], chosen[1]
