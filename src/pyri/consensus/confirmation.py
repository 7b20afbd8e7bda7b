"""What applying a milestone does to the Tangle and the ledger, as pure functions (reference §7).

Hornet's whiteflag model: confirmation is a function from (the Tangle as it is, the ledger
balances) to the mutations that applying the milestone makes. Nothing here writes; the ledger
service takes the write lock, calls ``milestone_effect`` against one consistent read view and
commits everything the result lists in one atomic batch. The same traversal, ``balance_diff``,
serves the ledger view through tips (``pyri.consensus.ledger_view``).

The rules are IRI 1.8.6's (the 1.8.3+ tail-only walk with the 1.8.5+ extra-rule flag):

* ``find_tails`` (§7.4): the tails a transaction reaches through non-tail transactions;
* ``balance_diff`` (§7.3): the value of every *unconfirmed* tail reachable from a start,
  counted per tail, failing as a whole on the first bundle that is not VALID;
* ``confirmed_cone`` (§7.5): every transaction that gets the milestone's index, which is a
  different set from the tails the balance walk counts (Appendix B item 11);
* ``milestone_effect`` (§7.2): the two put together with the consistency checks.

IRI writes two things while it walks, and consensus depends on both, so they are reported for
the caller to write rather than dropped: bundle verdicts for the per-tail validity cache (§5.8;
a cached INVALID changes later verdicts, see ``verdicts_to_cache``), and spent addresses (§9).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal, TypeAlias

from pyri.consensus.view import TangleReader, TxLinks
from pyri.model.bundle import BundleStatus, BundleVerdict, revalidate_cached, validate_from_tail

BalanceLookup: TypeAlias = Callable[[Iterable[str]], Mapping[str, int]]
"""Confirmed ledger balances of the given addresses; an address left out has balance 0."""

# IRI sums balance changes in Java longs with Math.addExact, which throws on overflow.
_LONG_MAX: Final = 2**63 - 1
# The statuses a verdict cache holds (§5.8); only these short-cut validation. A tuple: `in`
# compares identities first, where a set would call the enum's Python-level __hash__.
_CACHED_STATUSES: Final = (BundleStatus.VALID, BundleStatus.INVALID)


def _frozen(mapping: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(mapping))


# --- §7.4 ----------------------------------------------------------------------------------------


def find_tails(reader: TangleReader, tx_hash: str) -> set[str]:
    """The tails reached from ``tx_hash``'s trunk and branch through non-tail transactions (§7.4).

    A tail ends its path and is in the result; a non-tail is passed through whether confirmed or
    not; an absent transaction is skipped silently. ``tx_hash`` itself is never in the result
    (its own trunk chain is walked, so for a tail this walks through its own bundle and out of
    it). IRI keeps no visited set here and walks shared paths again; the result is the same
    set, so this one keeps one and stays linear on diamond-shaped DAGs.
    """
    links = reader.links
    start = links(tx_hash)
    if start is None:
        return set()
    tails: set[str] = set()
    seen: set[str] = set()
    trunk, branch, _, _ = start
    pending = [trunk, branch]  # the result is a set: any order of visiting will do
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        found = links(current)
        if found is None:
            continue
        trunk, branch, current_index, _ = found
        if current_index == 0:
            tails.add(current)
        else:
            pending.append(branch)
            pending.append(trunk)
    return tails


# --- §5.8 ----------------------------------------------------------------------------------------


def judge_tail(
    reader: TangleReader, tail_hash: str, links: TxLinks, *, extra_rules: bool
) -> tuple[BundleVerdict, bool]:
    """``validate_from_tail`` of the stored tail ``tail_hash`` (whose ``links`` the caller has
    read) through its cached verdict, and whether the verdict is one to cache (§5.8: judged
    now, and cacheable).

    With a cached verdict the bundle is not loaded: ``revalidate_cached`` gives the same answer
    from the trunks of its chain, so a walk over warm verdicts reads links only.
    """
    cached = reader.cached_verdict(tail_hash)
    if cached is not None and cached.status in _CACHED_STATUSES:
        trunk, _, _, last_index = links
        return revalidate_cached(trunk, last_index, cached, _trunks(reader)), False
    tx = reader.transaction(tail_hash)
    if tx is None:  # only a reader that contradicts itself: the tail is missing after all
        return BundleVerdict(BundleStatus.INCOMPLETE, "incomplete", 0), False
    verdict = validate_from_tail(
        tx, reader.transaction, enforce_extra_rules=extra_rules, cached=cached
    )
    return verdict, cached is None and verdict.cacheable


def _trunks(reader: TangleReader) -> Callable[[str], str | None]:
    def trunk_of(tx_hash: str) -> str | None:
        found = reader.links(tx_hash)
        return None if found is None else found[0]

    return trunk_of


# --- §7.3 ----------------------------------------------------------------------------------------

DiffFailureReason: TypeAlias = Literal["missing_tail", "invalid_bundle", "overflow"]

_DIFF_MESSAGES: Final[Mapping[DiffFailureReason, str]] = MappingProxyType(
    {
        "missing_tail": "a tail to count is not stored",
        "invalid_bundle": "the bundle of an unconfirmed tail is not valid",
        "overflow": "a balance change leaves the 64-bit range",
    }
)


@dataclass(frozen=True, slots=True)
class DiffFailure:
    """Why a balance walk failed: which tail, and the bundle verdict when one was judged."""

    reason: DiffFailureReason
    tail: str
    verdict: BundleVerdict | None = None

    @property
    def message(self) -> str:
        detail = f": {self.verdict.message}" if self.verdict is not None else ""
        return f"{_DIFF_MESSAGES[self.reason]} (tail {self.tail}){detail}"


@dataclass(frozen=True, slots=True)
class DiffResult:
    """The outcome of one §7.3 walk.

    ``diff`` maps each address to its summed change, addresses netting to 0 left out (they
    change no balance; IRI stores such entries as 0, which replays the same). On failure it
    holds what was summed before the failing tail and must not be applied.

    ``verdicts_to_cache`` are the verdicts IRI would have written to tails' validity flags
    during this walk (§5.8), the failing one included; ``spent_addresses`` the inputs of every
    bundle counted before the walk stopped, in walk order (§9, Appendix C item 4: IRI marks them
    even when the walk then fails; the caller decides). ``visited`` is every tail the walk
    entered, plus the ``visited`` it was given: the set §7.9 carries from one tip to the next.
    ``counted`` lists the tails whose bundles were summed, in walk order.
    """

    diff: Mapping[str, int]
    failure: DiffFailure | None
    verdicts_to_cache: Mapping[str, BundleVerdict]
    spent_addresses: tuple[str, ...]
    visited: frozenset[str]
    counted: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.failure is None


def balance_diff(
    reader: TangleReader,
    start: str,
    confirmed_up_to: int,
    *,
    extra_rules: bool,
    visited: Iterable[str] = (),
) -> DiffResult:
    """IRI's ``generateBalanceDiff`` (§7.3): the summed value of every unconfirmed tail reachable
    from ``start`` through ``find_tails``.

    * Only tails are entered, each at most once; ``visited`` (not modified) is treated as
      entered already, and so are the solid entry points, which IRI pre-seeds into the set.
    * A tail confirmed at an index in ``(0, confirmed_up_to]`` is neither counted nor expanded.
    * Every other tail's bundle is judged with ``extra_rules`` through the tail's cached verdict
      (§5.8): anything but VALID fails the whole walk, as does an absent tail. IRI never skips a
      bad bundle in a milestone's cone (Appendix B item 10).
    * Values are counted per tail: two attachments of one bundle both count (§7.3).

    A non-tail ``start`` enters nothing and gives an empty diff (api-reference §3.4).
    """
    seen = set(visited)
    entered: set[str] = set()
    diff: dict[str, int] = {}
    verdicts: dict[str, BundleVerdict] = {}
    spent: dict[str, None] = {}
    counted: list[str] = []

    def result(failure: DiffFailure | None = None) -> DiffResult:
        return DiffResult(
            diff=_frozen({address: value for address, value in diff.items() if value}),
            failure=failure,
            verdicts_to_cache=MappingProxyType(verdicts),
            spent_addresses=tuple(spent),
            visited=frozenset(seen | entered),
            counted=tuple(counted),
        )

    # Asked once or more per tail: bound once.
    links_of, snapshot_index_of = reader.links, reader.snapshot_index
    is_entry_point, cached_verdict = reader.is_solid_entry_point, reader.cached_verdict
    trunks = _trunks(reader)
    queue = deque([start])
    while queue:
        tail_hash = queue.popleft()
        if tail_hash in seen or tail_hash in entered:
            continue
        links = links_of(tail_hash)
        # An absent transaction reads as an empty one, whose currentIndex is 0 (Appendix B 7).
        if links is not None and links[2] != 0:  # currentIndex
            continue
        if is_entry_point(tail_hash):
            continue
        entered.add(tail_hash)
        if links is None:
            return result(DiffFailure("missing_tail", tail_hash))
        snapshot_index = snapshot_index_of(tail_hash)
        if 0 < snapshot_index <= confirmed_up_to:
            continue  # confirmed earlier: its effect is in the ledger already, and its past too
        cached = cached_verdict(tail_hash)
        if cached is not None and cached.status in _CACHED_STATUSES:
            # judge_tail's first case, inline: with warm verdicts this is every tail.
            trunk, _, _, last_index = links
            verdict = revalidate_cached(trunk, last_index, cached, trunks)
        else:
            verdict, new = judge_tail(reader, tail_hash, links, extra_rules=extra_rules)
            if new:
                verdicts[tail_hash] = verdict
        if not verdict.valid:
            return result(DiffFailure("invalid_bundle", tail_hash, verdict))
        # IRI marks the inputs spent as soon as the bundle validates, before any consistency
        # check (§9 case 1); IRI's isInconsistent check that follows cannot fire after VALID.
        if verdict.spent_addresses:
            spent.update(dict.fromkeys(verdict.spent_addresses))
        counted.append(tail_hash)
        for address, value in verdict.value_diff.items():
            total = diff.get(address, 0) + value
            if abs(total) > _LONG_MAX:
                return result(DiffFailure("overflow", tail_hash, verdict))
            diff[address] = total
        # Sorted so that the walk, and so the first failure reported, does not depend on set
        # order; IRI's order is a hash set's, and the result is order-independent otherwise.
        queue.extend(sorted(find_tails(reader, tail_hash)))
    return result()


# --- §7.5 ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConeResult:
    """The §7.5 traversal from one milestone.

    ``to_update``: every transaction whose snapshotIndex must become ``new_index`` (those that
    have it already are left out). ``corrupt_milestones``: indexes above ``index`` found on
    transactions of the cone, milestones applied in the wrong order that the caller must reset
    (§6.7) *before* writing ``to_update``, sharing ``processed`` with this traversal.
    ``new_solid_entry_points``: hash -> initial snapshot index, the back-reference patch.
    """

    milestone_hash: str
    index: int
    new_index: int
    to_update: frozenset[str]
    corrupt_milestones: frozenset[int]
    new_solid_entry_points: Mapping[str, int]
    processed: frozenset[str]


def confirmed_cone(
    reader: TangleReader,
    milestone_hash: str,
    index: int,
    initial_snapshot_index: int,
    *,
    new_index: int | None = None,
    processed: Iterable[str] = (),
) -> ConeResult:
    """IRI's ``updateMilestoneIndexOfMilestoneTransactions`` (§7.5), as a result to commit.

    From the milestone tail (always taken, even when an earlier milestone confirmed it:
    Appendix C item 5) breadth-first through branch and trunk, every stored transaction is
    collected, non-tails and zero-value ones included, until one confirmed by an earlier
    milestone (snapshotIndex in ``(0, index - 1]``) or an absent one stops the path. Solid entry
    points are not special here: IRI does not store them again, so a stored one carries its old
    snapshot index and stops the path like any earlier-confirmed transaction.

    ``new_index`` defaults to ``index`` (confirming); 0 is the reset of §6.7, which un-confirms
    what the milestone confirmed. ``processed`` are hashes not to enter (shared across the
    recursive resets of §6.7).
    """
    target = index if new_index is None else new_index
    done = set(processed)
    done.add(milestone_hash)
    to_update: set[str] = set()
    corrupt: set[int] = set()
    new_seps: dict[str, int] = {}

    def collect(tx_hash: str) -> None:
        snapshot_index = reader.snapshot_index(tx_hash)
        if snapshot_index > index:
            corrupt.add(snapshot_index)
        if snapshot_index != target:
            to_update.add(tx_hash)

    tail = reader.links(milestone_hash)
    if tail is not None:
        collect(milestone_hash)
        trunk, branch, _, _ = tail
        queue = deque([branch, trunk])
        while queue:
            current = queue.popleft()
            if current in done:
                continue
            done.add(current)
            links = reader.links(current)
            if links is None:
                continue
            snapshot_index = reader.snapshot_index(current)
            if 0 < snapshot_index <= index - 1:
                # A transaction at or below the initial snapshot that is not an entry point
                # would make the next milestone walk into pruned history: IRI's back-reference
                # patch makes it one.
                if snapshot_index <= initial_snapshot_index and not reader.is_solid_entry_point(
                    current
                ):
                    new_seps[current] = initial_snapshot_index
                continue
            collect(current)
            trunk, branch, _, _ = links
            queue.append(branch)
            queue.append(trunk)
    return ConeResult(
        milestone_hash=milestone_hash,
        index=index,
        new_index=target,
        to_update=frozenset(to_update),
        corrupt_milestones=frozenset(corrupt),
        new_solid_entry_points=_frozen(new_seps),
        processed=frozenset(done),
    )


# --- §7.2 ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MilestoneEffect:
    """Everything applying milestone ``index`` changes; commit all of it in one batch.

    * ``diff``: the state diff to store for the milestone (only when non-empty, §7.7); it sums
      to 0.
    * ``balances``: the new balance of every address in ``diff``; an address whose new
      balance is 0 is in ``emptied`` and must be deleted from the ledger (§7.1).
    * ``cone``: the snapshotIndex updates (``cone.to_update``), the new solid entry points and
      any corrupt later milestones to reset first (§7.5).
    * ``spent_addresses`` (§9) and ``verdicts_to_cache`` (§5.8) from the balance walk.
    * ``timestamp``: the milestone tail's timestamp in seconds, the snapshot timestamp after
      this milestone (§7.2).
    """

    index: int
    hash: str
    timestamp: int
    diff: Mapping[str, int]
    balances: Mapping[str, int]
    cone: ConeResult
    spent_addresses: tuple[str, ...]
    verdicts_to_cache: Mapping[str, BundleVerdict]

    @property
    def confirmed(self) -> frozenset[str]:
        """The transactions whose snapshotIndex becomes ``index``."""
        return self.cone.to_update

    @property
    def emptied(self) -> frozenset[str]:
        """Addresses whose balance becomes 0: remove them from the ledger."""
        return frozenset(address for address, balance in self.balances.items() if balance == 0)

    @property
    def new_solid_entry_points(self) -> Mapping[str, int]:
        return self.cone.new_solid_entry_points


@dataclass(frozen=True, slots=True)
class MilestoneAlreadyApplied:
    """The tail already carries this milestone's index: it was applied before (a restart
    between commit and bookkeeping). Nothing to compute; the caller replays the stored state
    diff (§7.2 "already processed", §7.7)."""

    index: int
    hash: str


@dataclass(frozen=True, slots=True)
class MilestoneNeedsReset:
    """The tail carries another milestone's index: milestones were processed in the wrong order.
    IRI first resets milestone ``index`` (§6.7: roll the ledger back if ``index`` is at or below
    it, un-confirm its cone with ``confirmed_cone(..., new_index=0)``, delete its state diff),
    then computes the diff afresh. The caller does the reset, commits it and asks again."""

    index: int
    hash: str
    tail_snapshot_index: int

    @property
    def message(self) -> str:
        return (
            f"milestone {self.index} tail {self.hash} already has snapshotIndex "
            f"{self.tail_snapshot_index}: reset milestone {self.index} before applying it"
        )


MilestoneFailureReason: TypeAlias = Literal[
    "not_solid", "missing_tail", "invalid_bundle", "overflow", "negative_balance", "unbalanced"
]


@dataclass(frozen=True, slots=True)
class MilestoneFailure:
    """Milestone ``index`` cannot be applied (§7.2, §6.7): the caller must not apply it, and
    keeps the ledger at ``index - 1``.

    ``tail`` and ``verdict`` name the bundle that failed the walk; ``negative`` the addresses
    that would go below 0 with their would-be balances. ``verdicts_to_cache`` and
    ``spent_addresses`` are what the failed walk would have written in IRI (Appendix C item 4:
    the spent addresses are order-dependent there; whether to keep them is the caller's call).
    """

    index: int
    hash: str
    reason: MilestoneFailureReason
    detail: str
    tail: str | None = None
    verdict: BundleVerdict | None = None
    negative: Mapping[str, int] = field(default_factory=lambda: _frozen({}))
    verdicts_to_cache: Mapping[str, BundleVerdict] = field(
        default_factory=lambda: MappingProxyType({})
    )
    spent_addresses: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        return f"milestone {self.index} ({self.hash}) cannot be applied: {self.detail}"


MilestoneOutcome: TypeAlias = (
    MilestoneEffect | MilestoneAlreadyApplied | MilestoneNeedsReset | MilestoneFailure
)


def patched_balances(diff: Mapping[str, int], balances: BalanceLookup) -> dict[str, int]:
    """Confirmed balance plus change, for the addresses in ``diff`` only (§7.1 patched state)."""
    current = balances(diff.keys())
    return {address: current.get(address, 0) + change for address, change in diff.items()}


def milestone_effect(
    reader: TangleReader,
    milestone_hash: str,
    index: int,
    balances: BalanceLookup,
    latest_index: int,
    initial_snapshot_index: int,
) -> MilestoneOutcome:
    """IRI's ``applyMilestoneToLedger`` for milestone ``index`` with tail ``milestone_hash``
    (§7.2), against the ledger at ``latest_index`` (the caller applies milestones strictly in
    order, so that is ``index - 1``; §6.5).

    The tail must be stored and solid. The balance walk runs without the extra rules (§5.6),
    the patched balances of the touched addresses must stay >= 0, and, as Hornet checks on
    every write, the diff must sum to 0 (always so when every bundle is VALID). Only then is
    the §7.5 cone computed.
    """
    tail = reader.transaction(milestone_hash)
    meta = reader.meta(milestone_hash)
    if tail is None or meta is None or not meta.solid:
        what = "is not stored" if tail is None else "is not solid"
        return MilestoneFailure(index, milestone_hash, "not_solid", f"the tail {what}")
    if meta.snapshot_index == index:
        return MilestoneAlreadyApplied(index, milestone_hash)
    if meta.snapshot_index != 0:
        return MilestoneNeedsReset(index, milestone_hash, meta.snapshot_index)

    walk = balance_diff(reader, milestone_hash, latest_index, extra_rules=False)
    if walk.failure is not None:
        return MilestoneFailure(
            index,
            milestone_hash,
            walk.failure.reason,
            walk.failure.message,
            tail=walk.failure.tail,
            verdict=walk.failure.verdict,
            verdicts_to_cache=walk.verdicts_to_cache,
            spent_addresses=walk.spent_addresses,
        )

    new_balances = patched_balances(walk.diff, balances)
    negative = {address: balance for address, balance in new_balances.items() if balance < 0}
    total = sum(walk.diff.values())
    if negative or total != 0:
        if negative:
            reason: MilestoneFailureReason = "negative_balance"
            listed = ", ".join(f"{a} -> {b}" for a, b in sorted(negative.items()))
            detail = f"balances would go negative: {listed}"
        else:
            reason, detail = "unbalanced", f"the state diff sums to {total}, not 0"
        return MilestoneFailure(
            index,
            milestone_hash,
            reason,
            detail,
            negative=_frozen(negative),
            verdicts_to_cache=walk.verdicts_to_cache,
            spent_addresses=walk.spent_addresses,
        )

    cone = confirmed_cone(reader, milestone_hash, index, initial_snapshot_index)
    return MilestoneEffect(
        index=index,
        hash=milestone_hash,
        timestamp=tail.timestamp,
        diff=walk.diff,
        balances=_frozen(new_balances),
        cone=cone,
        spent_addresses=walk.spent_addresses,
        verdicts_to_cache=walk.verdicts_to_cache,
    )
