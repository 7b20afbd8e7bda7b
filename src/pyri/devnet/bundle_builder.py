"""Building bundles as a client does before it sends them: transaction drafts (the fields a
wallet or coordinator chooses), the Kerl bundle hash over their essences (§5.2), and the
attachment that IRI's attachToTangle would do, done locally because a pyri node does not offer
it: trunk and branch, attachment timestamps, proof of work (§2.1, §2.3).

Attachment runs from the head down, because the proof of work changes each transaction's hash
and the transaction below approves it by that hash: the head approves the two chosen
transactions, and every other transaction's trunk is the one above it and its branch the head's
trunk, which is what IRI's extra rules ask for (§5.6).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Final

from pyri.crypto.kerl import kerl_hash
from pyri.crypto.pow import find_nonce
from pyri.model.transaction import (
    NONCE,
    SIGNATURE_MESSAGE_FRAGMENT,
    TRANSACTION_TRYTES,
    Transaction,
)
from pyri.trinary import (
    NULL_HASH,
    int_to_trytes,
    trits_to_trytes,
    trytes_to_trits,
)

FRAGMENT_TRYTES: Final = SIGNATURE_MESSAGE_FRAGMENT.length  # 2187
TAG_TRYTES: Final = 27
EMPTY_TAG: Final = "9" * TAG_TRYTES
# attachToTangle's upper bound for the attachment timestamp: the largest 27-trit value.
ATTACHMENT_UPPER_BOUND: Final = (3**27 - 1) // 2

Clock = Callable[[], float]
"""Seconds since the epoch (``time.time``); injectable for tests."""


@dataclass(frozen=True, slots=True)
class Draft:
    """One transaction before attachment: what the bundle's author decides. ``current_index``,
    ``last_index``, ``bundle`` are filled by ``seal``."""

    address: str
    value: int = 0
    obsolete_tag: str = EMPTY_TAG
    tag: str = EMPTY_TAG
    fragment: str = ""
    timestamp: int = 0
    current_index: int = 0
    last_index: int = 0
    bundle: str = NULL_HASH

    def essence(self) -> str:
        """The 162 trytes the bundle hash absorbs: address, value, obsoleteTag, timestamp,
        currentIndex, lastIndex."""
        return (
            self.address
            + int_to_trytes(self.value, 27)
            + self.obsolete_tag
            + int_to_trytes(self.timestamp, 9)
            + int_to_trytes(self.current_index, 9)
            + int_to_trytes(self.last_index, 9)
        )


def pad_tag(tag: str) -> str:
    """A tag of at most 27 trytes, padded with 9s."""
    if len(tag) > TAG_TRYTES:
        raise ValueError(f"a tag has at most {TAG_TRYTES} trytes, got {len(tag)}")
    return tag.ljust(TAG_TRYTES, "9")


def bundle_hash(drafts: Sequence[Draft]) -> str:
    """Kerl over the essences in index order (§5.2)."""
    return trits_to_trytes(kerl_hash(trytes_to_trits("".join(d.essence() for d in drafts))))


def seal(drafts: Sequence[Draft]) -> list[Draft]:
    """The drafts numbered 0..L (tail first, as given) with their bundle hash filled in."""
    last = len(drafts) - 1
    numbered = [replace(d, current_index=i, last_index=last) for i, d in enumerate(drafts)]
    digest = bundle_hash(numbered)
    return [replace(d, bundle=digest) for d in numbered]


def attach(draft: Draft, trunk: str, branch: str, mwm: int, attached_ms: int) -> Transaction:
    """The transaction of ``draft`` approving ``trunk`` and ``branch``, with attachToTangle's
    timestamps (now, 0, the 27-trit maximum) and a nonce meeting ``mwm``. The tag is the draft's
    own (attachToTangle copies the obsoleteTag into an empty tag; callers do so explicitly)."""
    if len(draft.fragment) > FRAGMENT_TRYTES:
        raise ValueError(f"a fragment has at most {FRAGMENT_TRYTES} trytes")
    body = (
        draft.fragment.ljust(FRAGMENT_TRYTES, "9")
        + draft.essence()
        + draft.bundle
        + trunk
        + branch
        + draft.tag
        + int_to_trytes(attached_ms, 9)
        + int_to_trytes(0, 9)
        + int_to_trytes(ATTACHMENT_UPPER_BOUND, 9)
    )
    unfinished = body + "9" * NONCE.length
    assert len(unfinished) == TRANSACTION_TRYTES
    nonce = find_nonce(trytes_to_trits(unfinished), mwm)
    return Transaction.from_trytes(body + trits_to_trytes(nonce))


def attach_bundle(
    drafts: Sequence[Draft],
    trunk: str,
    branch: str,
    mwm: int,
    clock: Clock = time.time,
) -> list[Transaction]:
    """Attach sealed ``drafts`` (tail first) so that the head approves ``trunk`` and ``branch``;
    returns the transactions tail first. Both approvees should be tails (§5.6 a)."""
    attached: list[Transaction] = []
    for draft in reversed(drafts):
        approves = (attached[-1].hash, trunk) if attached else (trunk, branch)
        attached.append(attach(draft, *approves, mwm, int(clock() * 1000)))
    attached.reverse()
    return attached


def reattach_bundle(
    transactions: Sequence[Transaction],
    trunk: str,
    branch: str,
    mwm: int,
    clock: Clock = time.time,
) -> list[Transaction]:
    """The same bundle (essences, fragments, tags) attached again on other approvees: new
    transaction hashes, same bundle hash, signatures still valid."""
    drafts = [draft_of(tx) for tx in transactions]
    return attach_bundle(drafts, trunk, branch, mwm, clock)


def draft_of(tx: Transaction) -> Draft:
    """The draft a transaction was attached from."""
    return Draft(
        address=tx.address,
        value=tx.value,
        obsolete_tag=tx.obsolete_tag,
        tag=tx.tag,
        fragment=tx.signature_message_fragment,
        timestamp=tx.timestamp,
        current_index=tx.current_index,
        last_index=tx.last_index,
        bundle=tx.bundle,
    )
