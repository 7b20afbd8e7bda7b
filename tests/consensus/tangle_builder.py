"""Build a tangle in a few lines: signed value transfers, messages, reattachments, invalid
bundles and milestone stand-ins, stored in a ``MemoryReader``, with a ledger to apply milestones
to.

    tangle = TangleBuilder()
    tangle.genesis({"alice": 100})
    pay = tangle.transfer("alice", "bob", 60, remainder_to=tangle.address("alice", 1))
    tangle.issue_milestone([pay.tail_hash])
    assert tangle.balance("bob") == 60

Everything is real except proof of work and the coordinator's signature: addresses are WOTS/Kerl
addresses of a seed derived from a name, bundle hashes are the Kerl hash of the essences, inputs
carry real signatures. The weight is whatever the hash happens to have (nonce all 9s), which is
fine because nothing here checks it. Milestones are stand-ins (a zero-value bundle at a fixed
address with the index in its obsoleteTag, attached as mainnet milestones are); their signatures
are not real, and the confirmation functions do not look at them.

Keys are cached per (seed name, index, security): generating an address costs ~5 ms.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

from pyri.consensus.confirmation import (
    MilestoneEffect,
    MilestoneFailure,
    MilestoneOutcome,
    milestone_effect,
)
from pyri.crypto import wots
from pyri.crypto.kerl import kerl_hash
from pyri.model.transaction import ATTACHMENT_TIMESTAMP as ATTACHED
from pyri.model.transaction import BRANCH_TRANSACTION as BRANCH
from pyri.model.transaction import Transaction
from pyri.trinary import (
    ALPHABET,
    HASH_TRYTES,
    NULL_HASH,
    Trits,
    int_to_trytes,
    trits_to_trytes,
    trytes_to_trits,
)
from tests.consensus.memory_reader import MemoryReader

TIMESTAMP: Final = 1_600_000_000  # seconds; every transaction gets it
COORDINATOR: Final = "PYRI9TEST9COORDINATOR".ljust(HASH_TRYTES, "9")
FRAGMENT_TRYTES: Final = 2187
EMPTY_FRAGMENT: Final = "9" * FRAGMENT_TRYTES
EMPTY_TAG: Final = "9" * 27
# attachmentTimestampUpperBound as attachToTangle sets it: (3^27 - 1) / 2.
UPPER_BOUND: Final = (3**27 - 1) // 2

Approvee = str


# --- seeds, keys, addresses (pure, cached) -------------------------------------------------------


@cache
def seed_trits(name: str) -> Trits:
    """A deterministic seed per name: its characters mapped into the tryte alphabet."""
    trytes = "".join(ALPHABET[ord(c) % 27] for c in name).ljust(HASH_TRYTES, "9")
    trits = trytes_to_trits(trytes[:HASH_TRYTES])
    trits.setflags(write=False)
    return trits


@cache
def private_key(name: str, index: int, security: int) -> Trits:
    key = wots.private_key(wots.subseed(seed_trits(name), index), security)
    key.setflags(write=False)
    return key


@cache
def address_of(name: str, index: int = 0, security: int = 2) -> str:
    """The WOTS/Kerl address of key ``index`` of the seed named ``name``."""
    digests = wots.key_digests(private_key(name, index, security))
    return trits_to_trytes(wots.address_from_digests(digests))


def is_address(value: str) -> bool:
    return len(value) == HASH_TRYTES and all(c in ALPHABET for c in value)


# --- bundles -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bundle:
    """One attachment of a bundle, in index order (tail first)."""

    transactions: tuple[Transaction, ...]

    @property
    def tail(self) -> Transaction:
        return self.transactions[0]

    @property
    def head(self) -> Transaction:
        return self.transactions[-1]

    @property
    def tail_hash(self) -> str:
        return self.transactions[0].hash

    @property
    def hashes(self) -> tuple[str, ...]:
        return tuple(tx.hash for tx in self.transactions)

    @property
    def bundle_hash(self) -> str:
        return self.transactions[0].bundle


@dataclass(frozen=True, slots=True)
class _Row:
    """A transaction's content before attachment: essence, fragment and tag."""

    address: str
    value: int = 0
    obsolete_tag: str = EMPTY_TAG
    fragment: str = EMPTY_FRAGMENT
    tag: str = EMPTY_TAG


def _essence(row: _Row, index: int, last: int) -> str:
    return (
        row.address
        + int_to_trytes(row.value, 27)
        + row.obsolete_tag
        + int_to_trytes(TIMESTAMP, 9)
        + int_to_trytes(index, 9)
        + int_to_trytes(last, 9)
    )


def _bundle_hash(rows: Sequence[_Row]) -> str:
    essences = "".join(_essence(row, i, len(rows) - 1) for i, row in enumerate(rows))
    return trits_to_trytes(kerl_hash(trytes_to_trits(essences)))


class TangleBuilder:
    """A tangle in a ``MemoryReader`` plus the confirmed ledger it is judged against.

    Every bundle is attached with the extra rules kept (§5.6: the head approves ``trunk`` and
    ``branch``, every other transaction's branch is the head's trunk) unless told otherwise, and
    stored at once in approval order, so that solidity comes out as a node would set it.
    ``trunk`` and ``branch`` default to NULL_HASH, a solid entry point.
    """

    def __init__(self, reader: MemoryReader | None = None) -> None:
        self.reader = reader if reader is not None else MemoryReader()
        self.ledger: dict[str, int] = {}
        self.spent: set[str] = set()
        self.initial_index = 0
        self.latest_index = 0
        self.milestones: dict[int, Bundle] = {}
        self._attachments = itertools.count(1)

    # --- ledger ---------------------------------------------------------------------------------

    def genesis(self, balances: Mapping[str, int], *, index: int = 0) -> None:
        """Start from a snapshot at ``index``: keys are addresses or seed names (key 0)."""
        self.ledger = {self.resolve(owner): value for owner, value in balances.items() if value}
        self.initial_index = self.latest_index = index

    def address(self, seed: str, index: int = 0, security: int = 2) -> str:
        return address_of(seed, index, security)

    def resolve(self, owner: str) -> str:
        """An address as given, or key 0 of the seed called ``owner``."""
        return owner if is_address(owner) else address_of(owner)

    def balances(self, addresses: Iterable[str]) -> dict[str, int]:
        """The confirmed balances (a ``BalanceLookup``)."""
        return {a: self.ledger[a] for a in addresses if a in self.ledger}

    def balance(self, owner: str) -> int:
        return self.ledger.get(self.resolve(owner), 0)

    # --- bundles --------------------------------------------------------------------------------

    def transfer(
        self,
        sender: str,
        to: str,
        value: int,
        *,
        index: int = 0,
        security: int = 2,
        input_value: int | None = None,
        remainder_to: str | None = None,
        trunk: Approvee = NULL_HASH,
        branch: Approvee = NULL_HASH,
        sign_with_index: int | None = None,
        extra_rules: bool = True,
        store: bool = True,
    ) -> Bundle:
        """A signed value bundle as wallets build it: the output to ``to``, the input (key
        ``index`` of seed ``sender``: one transaction per signature fragment, the value on the
        first), then the remainder, if any, to ``remainder_to``.

        The input spends ``input_value``: by default ``value`` without a remainder, or the
        address's whole confirmed balance with one. ``sign_with_index`` signs with another key
        of the seed (a bad signature); ``extra_rules=False`` attaches so that §5.6 (b) fails.
        The normalized bundle hash may contain a 13 (the "M bug"): wallets avoid it by bumping
        the obsoleteTag, but IRI accepts it and so does this fixture.
        """
        source = address_of(sender, index, security)
        if input_value is None:
            input_value = value if remainder_to is None else self.ledger.get(source, 0)
        rows = [_Row(self.resolve(to), value)]
        rows += [_Row(source, -input_value if k == 0 else 0) for k in range(security)]
        if remainder_to is not None:
            rows.append(_Row(self.resolve(remainder_to), input_value - value))
        elif input_value != value:
            raise ValueError("an input that spends more than the output needs a remainder_to")
        digest = _bundle_hash(rows)
        key = private_key(sender, index if sign_with_index is None else sign_with_index, security)
        signature = trits_to_trytes(wots.sign(key, digest))
        for k in range(security):
            fragment = signature[k * FRAGMENT_TRYTES : (k + 1) * FRAGMENT_TRYTES]
            row = rows[1 + k]
            rows[1 + k] = _Row(row.address, row.value, row.obsolete_tag, fragment, row.tag)
        return self._attach(rows, digest, trunk, branch, extra_rules=extra_rules, store=store)

    def invalid_bundle(
        self,
        sender: str,
        to: str,
        value: int,
        *,
        trunk: Approvee = NULL_HASH,
        branch: Approvee = NULL_HASH,
    ) -> Bundle:
        """A transfer whose input is signed with the wrong key: INVALID, reason signature."""
        return self.transfer(sender, to, value, trunk=trunk, branch=branch, sign_with_index=99)

    def message(
        self,
        text: str = "",
        *,
        address: str = NULL_HASH,
        trunk: Approvee = NULL_HASH,
        branch: Approvee = NULL_HASH,
        tag: str = EMPTY_TAG,
        bundle_hash: str | None = None,
        store: bool = True,
    ) -> Bundle:
        """A zero-value single-transaction bundle; ``text`` (trytes) is its message. Another
        ``bundle_hash`` than its own makes it INVALID (reason bundle_hash)."""
        rows = [_Row(address, 0, fragment=text.ljust(FRAGMENT_TRYTES, "9"), tag=tag.ljust(27, "9"))]
        digest = _bundle_hash(rows) if bundle_hash is None else bundle_hash
        return self._attach(rows, digest, trunk, branch, store=store)

    def reattach(
        self,
        bundle: Bundle,
        trunk: Approvee = NULL_HASH,
        branch: Approvee = NULL_HASH,
        *,
        store: bool = True,
    ) -> Bundle:
        """The same bundle (essences, signatures) attached again: new transaction hashes."""
        rows = [
            _Row(tx.address, tx.value, tx.obsolete_tag, tx.signature_message_fragment, tx.tag)
            for tx in bundle.transactions
        ]
        return self._attach(rows, bundle.bundle_hash, trunk, branch, store=store)

    def reattach_tail(self, bundle: Bundle, branch: Approvee | None = None) -> Bundle:
        """A second tail for the same bundle that shares the rest of it: the tail attached again
        with the same trunk (the original transaction 1) and a new attachment timestamp."""
        tail = bundle.tail.trytes
        new_branch = bundle.tail.branch_transaction if branch is None else branch
        attached_at = int_to_trytes(next(self._attachments), 9)
        tail = tail[: BRANCH.offset] + new_branch + tail[BRANCH.offset + BRANCH.length :]
        tail = tail[: ATTACHED.offset] + attached_at + tail[ATTACHED.offset + ATTACHED.length :]
        new_tail = Transaction.from_trytes(tail)
        self.reader.add(new_tail)
        return Bundle((new_tail, *bundle.transactions[1:]))

    def milestone(
        self, approve: Sequence[Approvee], index: int | None = None, *, security: int = 2
    ) -> Bundle:
        """A milestone stand-in for ``index`` (default: the next one), laid out like mainnet's:
        ``security`` + 1 zero-value transactions at COORDINATOR, the index in the tail's
        obsoleteTag, the head approving ``approve[0]`` (trunk) and ``approve[-1]`` (branch).
        More than two approvees are first gathered by zero-value messages approving two each.
        The signature fragments are empty: only the confirmation functions read it."""
        if index is None:
            index = self.latest_index + 1
        pending = list(approve) or [NULL_HASH]
        while len(pending) > 2:
            pair, pending = pending[:2], pending[2:]
            pending.append(self.message(trunk=pair[0], branch=pair[1]).tail_hash)
        tag = int_to_trytes(index, 5).ljust(27, "9")
        rows = [_Row(COORDINATOR, 0, tag if k == 0 else EMPTY_TAG) for k in range(security + 1)]
        bundle = self._attach(rows, _bundle_hash(rows), pending[0], pending[-1])
        self.reader.set_milestone(bundle.tail_hash)
        self.milestones[index] = bundle
        return bundle

    def _attach(
        self,
        rows: Sequence[_Row],
        digest: str,
        trunk: Approvee,
        branch: Approvee,
        *,
        extra_rules: bool = True,
        store: bool = True,
    ) -> Bundle:
        last = len(rows) - 1
        # A fresh attachment timestamp per attachment: reattachments get new hashes even
        # when they approve the same transactions.
        attached_at = next(self._attachments)
        chained: list[Transaction] = []
        for i in range(last, -1, -1):
            row = rows[i]
            if i == last:
                approves = (trunk, branch)
            else:
                approves = (chained[-1].hash, trunk if extra_rules else branch)
            chained.append(
                Transaction.from_trytes(
                    row.fragment
                    + _essence(row, i, last)
                    + digest
                    + approves[0]
                    + approves[1]
                    + row.tag
                    + int_to_trytes(attached_at, 9)
                    + int_to_trytes(0, 9)
                    + int_to_trytes(UPPER_BOUND, 9)
                    + "9" * 27
                )
            )
        if store:
            for tx in chained:  # head first: approval order, so solidity is set right
                self.reader.add(tx)
        return Bundle(tuple(reversed(chained)))

    # --- marking and confirming -----------------------------------------------------------------

    def confirm(self, bundle: Bundle, index: int) -> None:
        """Mark every transaction of ``bundle`` as confirmed by milestone ``index``."""
        self.reader.set_snapshot_index(bundle.hashes, index)

    def issue_milestone(self, approve: Sequence[Approvee]) -> MilestoneOutcome:
        """Attach the next milestone approving ``approve`` and apply it as the ledger service
        would: on success every mutation is committed; verdicts and spent addresses are written
        whatever the outcome, as IRI does."""
        index = self.latest_index + 1
        bundle = self.milestone(approve, index)
        outcome = milestone_effect(
            self.reader,
            bundle.tail_hash,
            index,
            self.balances,
            self.latest_index,
            self.initial_index,
        )
        if isinstance(outcome, MilestoneEffect):
            self.commit(outcome)
        elif isinstance(outcome, MilestoneFailure):
            self.reader.cache_verdicts(outcome.verdicts_to_cache)
            self.spent.update(outcome.spent_addresses)
        return outcome

    def commit(self, effect: MilestoneEffect) -> None:
        """The thin wrapper: write everything ``effect`` lists."""
        self.reader.cache_verdicts(effect.verdicts_to_cache)
        self.spent.update(effect.spent_addresses)
        self.reader.set_snapshot_index(effect.confirmed, effect.index)
        self.reader.add_solid_entry_points(effect.new_solid_entry_points)
        for address, balance in effect.balances.items():
            if balance:
                self.ledger[address] = balance
            else:
                self.ledger.pop(address, None)
        self.latest_index = effect.index
