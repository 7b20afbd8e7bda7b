"""The ledger as seen through tips: getBalances with tips and the ledger part of checkConsistency
(reference §7.9; api-reference §3.3 with the 1.8.5+ walk of §3.4, as IRI 1.8.6 runs it).

Confirmed balances at the latest solid milestone L, plus the value of every unconfirmed, valid
bundle in the union of the tips' past cones, refused as a whole when a bundle there is not valid
or the combined view would overdraw an address. Each tip is walked with ``balance_diff`` and the
extra rules on, starting from the tails the earlier tips already walked (IRI's ``approved`` set),
so that no tail is counted twice across tips; within one tip, reattachments do count twice.

Pure functions over a ``TangleReader`` and the confirmed balances; they write nothing. Like
the milestone walk, they report the bundle verdicts and spent addresses IRI would have written on
this read path (§5.8, §9); whether the node writes them is the caller's decision (see
``TipsBalances``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal, TypeAlias

from pyri.consensus.confirmation import (
    BalanceLookup,
    DiffFailure,
    balance_diff,
    patched_balances,
)
from pyri.consensus.view import TangleReader
from pyri.model.bundle import BundleVerdict

TIPS_NOT_CONSISTENT: Final = "Tips are not consistent"


def _no_verdicts() -> Mapping[str, BundleVerdict]:
    return MappingProxyType({})


def _no_changes() -> Mapping[str, int]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class TipsDiff:
    """The merged diff of consistent tips: address -> change against the confirmed ledger, with
    addresses netting to 0 left out."""

    diff: Mapping[str, int]
    spent_addresses: tuple[str, ...] = ()
    verdicts_to_cache: Mapping[str, BundleVerdict] = field(default_factory=_no_verdicts)


@dataclass(frozen=True, slots=True)
class TipsBalances:
    """A getBalances answer: ``balances`` in the order of the requested addresses (duplicates
    repeated), ``references`` the tips as given (or ``[L's hash]`` without tips) and
    ``milestone_index`` = L, whether or not tips were given (api-reference §3.2).

    ``spent_addresses`` and ``verdicts_to_cache`` are IRI's side effects of the walk. Writing
    the verdicts reproduces a quirk with consensus impact (§5.8 A): an INVALID verdict found
    only because of an extra rule then also blocks applying a milestone that confirms the
    bundle, so a node's ledger would depend on which getBalances calls it served.
    """

    balances: tuple[int, ...]
    references: tuple[str, ...]
    milestone_index: int
    diff: Mapping[str, int]
    spent_addresses: tuple[str, ...] = ()
    verdicts_to_cache: Mapping[str, BundleVerdict] = field(default_factory=_no_verdicts)


@dataclass(frozen=True, slots=True)
class TipNotFound:
    """A tip is not a stored transaction: IRI's 400 ``Tip not found: <tip>``. Side effects of the
    tips walked before it are carried along."""

    tip: str
    spent_addresses: tuple[str, ...] = ()
    verdicts_to_cache: Mapping[str, BundleVerdict] = field(default_factory=_no_verdicts)

    @property
    def message(self) -> str:
        return f"Tip not found: {self.tip}"


InconsistencyReason: TypeAlias = Literal[
    "not_solid", "missing_tail", "invalid_bundle", "overflow", "negative_balance", "not_a_tail"
]


@dataclass(frozen=True, slots=True)
class TipsNotConsistent:
    """The tips give no consistent ledger view: IRI's 400 ``Tips are not consistent``.

    ``tip`` is the first tip that failed and ``reason`` why: it is not solid, its walk met a
    bundle that is not valid with the extra rules (``failure`` names the tail and verdict) or
    an absent tail, or the merged view would make the addresses in ``negative`` negative.
    """

    tip: str
    reason: InconsistencyReason
    failure: DiffFailure | None = None
    negative: Mapping[str, int] = field(default_factory=_no_changes)
    spent_addresses: tuple[str, ...] = ()
    verdicts_to_cache: Mapping[str, BundleVerdict] = field(default_factory=_no_verdicts)

    @property
    def message(self) -> str:
        return TIPS_NOT_CONSISTENT

    @property
    def detail(self) -> str:
        """What was wrong, for logs (IRI's answer carries only ``message``)."""
        if self.failure is not None:
            return f"tip {self.tip}: {self.failure.message}"
        if self.negative:
            listed = ", ".join(f"{a} -> {b}" for a, b in sorted(self.negative.items()))
            return f"tip {self.tip}: balances would go negative: {listed}"
        return f"tip {self.tip}: {self.reason.replace('_', ' ')}"


TipsView: TypeAlias = TipsBalances | TipNotFound | TipsNotConsistent


def _walk(
    reader: TangleReader,
    tips: Iterable[str],
    latest_index: int,
    balances: BalanceLookup,
    *,
    tails_only: bool,
) -> TipsDiff | TipNotFound | TipsNotConsistent:
    """§7.9 over ``tips`` in order, stopping at the first failure. ``tails_only`` is
    checkConsistency's walk validator: an absent or non-tail entry is inconsistent rather
    than "not found"."""
    approved: frozenset[str] = frozenset()
    merged: dict[str, int] = {}
    spent: dict[str, None] = {}
    verdicts: dict[str, BundleVerdict] = {}

    def inconsistent(
        tip: str,
        reason: InconsistencyReason,
        failure: DiffFailure | None = None,
        negative: Mapping[str, int] | None = None,
    ) -> TipsNotConsistent:
        return TipsNotConsistent(
            tip,
            reason,
            failure,
            MappingProxyType(dict(negative or {})),
            tuple(spent),
            MappingProxyType(verdicts),
        )

    for tip in tips:
        # Metadata exists exactly for stored transactions, and is cheaper to read.
        meta = reader.meta(tip)
        if meta is None:
            if tails_only:
                return inconsistent(tip, "missing_tail")
            return TipNotFound(tip, tuple(spent), MappingProxyType(verdicts))
        if tails_only:
            links = reader.links(tip)
            if links is None or links[2] != 0:  # currentIndex
                return inconsistent(tip, "not_a_tail" if links is not None else "missing_tail")
        if not meta.solid:
            return inconsistent(tip, "not_solid")
        if tip in approved:
            continue  # walked as part of an earlier tip's cone
        walk = balance_diff(reader, tip, latest_index, extra_rules=True, visited=approved)
        spent.update(dict.fromkeys(walk.spent_addresses))
        verdicts.update(walk.verdicts_to_cache)
        if walk.failure is not None:
            return inconsistent(tip, walk.failure.reason, walk.failure)
        candidate = dict(merged)
        for address, change in walk.diff.items():
            candidate[address] = candidate.get(address, 0) + change
        # Confirmed balances are never negative (the ledger checks it on every write), so only
        # an address the tips take value from can end below 0: only those are read.
        losing = {address: change for address, change in candidate.items() if change < 0}
        negative = {a: b for a, b in patched_balances(losing, balances).items() if b < 0}
        if negative:
            return inconsistent(tip, "negative_balance", negative=negative)
        merged = candidate
        approved = walk.visited
    return TipsDiff(
        MappingProxyType({a: v for a, v in merged.items() if v}),
        tuple(spent),
        MappingProxyType(verdicts),
    )


def tips_diff(
    reader: TangleReader,
    tips: Iterable[str],
    *,
    latest_index: int,
    balances: BalanceLookup,
) -> TipsDiff | TipNotFound | TipsNotConsistent:
    """The merged diff of ``tips`` against the ledger at ``latest_index`` (§7.9), or why there
    is none. Per tip, in order: it must be stored (else ``TipNotFound``) and solid; a tip whose
    tail an earlier tip walked adds nothing; otherwise its walk (extra rules on, confirmed
    transactions and earlier tips' tails excluded) is merged, and no address the merged diff
    touches may go negative. A non-tail tip enters nothing and adds nothing (§3.4)."""
    return _walk(reader, tips, latest_index, balances, tails_only=False)


def balances_through_tips(
    reader: TangleReader,
    addresses: Sequence[str],
    tips: Sequence[str],
    *,
    latest_index: int,
    latest_hash: str,
    balances: BalanceLookup,
) -> TipsView:
    """getBalances (api-reference §3.3): confirmed balances of ``addresses`` at the latest solid
    milestone (index ``latest_index``, tail ``latest_hash``), moved by the merged diff of
    ``tips``.

    No tips means IRI's ``[latest_hash]``. That walk starts at a confirmed milestone and always
    adds nothing, so it is skipped: the answer is the confirmed balances, and, unlike IRI
    (design.md difference 4), never ``Tip not found`` on a node whose latest snapshot hash is
    not a stored transaction (the null hash of a genesis snapshot).
    """
    if tips:
        view = tips_diff(reader, tips, latest_index=latest_index, balances=balances)
        if not isinstance(view, TipsDiff):
            return view
        references = tuple(tips)
    else:
        view = TipsDiff(_no_changes())
        references = (latest_hash,)
    confirmed = balances(dict.fromkeys(addresses))
    return TipsBalances(
        balances=tuple(confirmed.get(a, 0) + view.diff.get(a, 0) for a in addresses),
        references=references,
        milestone_index=latest_index,
        diff=view.diff,
        spent_addresses=view.spent_addresses,
        verdicts_to_cache=view.verdicts_to_cache,
    )


def tails_consistent(
    reader: TangleReader,
    tails: Iterable[str],
    *,
    latest_index: int,
    balances: BalanceLookup,
) -> TipsDiff | TipsNotConsistent:
    """The ledger part of checkConsistency (api-reference §4.16): IRI's walk validator over the
    tails in order, sharing one approved set and diff. An absent tail, a non-tail and an unsolid
    tail are inconsistent here. The below-max-depth check IRI runs on each tail just before its
    ledger check is not part of this function: the caller runs it and answers inconsistent when
    it fails (the outcome is the same whichever check fails first)."""
    view = _walk(reader, tails, latest_index, balances, tails_only=True)
    assert not isinstance(view, TipNotFound)  # tails_only reports absent tails as inconsistent
    return view
