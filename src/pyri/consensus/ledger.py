"""The confirmed ledger: milestones recognised, validated and applied in index order.

This is the thin stateful wrapper around the pure functions of ``milestone`` (§6.2) and
``confirmation`` (§7.2-7.5): it keeps the milestone candidates, takes the Tangle's write lock,
and commits each milestone's effect as ONE atomic write - transaction metadata, ledger,
state diff, per-address balance history, spent addresses, solid entry points and the latest
solid milestone together. Every commit is checked as it is written (as Hornet does): the diff
sums to zero, no balance goes negative, and the ledger total never changes. A milestone that
fails any check is not applied, and the node says so loudly; it stays the next one to apply,
so the ledger never skips a milestone (§6.6, §6.7).

Readers get balances, index and hash from one read view, so an answer never mixes two ledger
states; balances at an earlier milestone are one reverse range read per address in the
balance history (a read, not a replay).
"""

from __future__ import annotations

import dataclasses
import logging
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from pyri.consensus.confirmation import (
    MilestoneAlreadyApplied,
    MilestoneEffect,
    MilestoneFailure,
    MilestoneNeedsReset,
    confirmed_cone,
    milestone_effect,
)
from pyri.consensus.coordinator import CoordinatorConfig
from pyri.consensus.milestone import MilestoneStatus, is_candidate, validate_milestone_in
from pyri.consensus.snapshot_files import SnapshotState
from pyri.consensus.tangle import StoreReader, Tangle
from pyri.consensus.view import MemoReader
from pyri.errors import PyriError
from pyri.model.bundle import BundleVerdict
from pyri.model.transaction import Transaction
from pyri.storage import schema
from pyri.storage.engine import KVEngine, ReadView, WriteBatch
from pyri.storage.schema import MilestoneRef, SnapshotInfo, TxMeta, Validity
from pyri.trinary import NULL_HASH

_LOG: Final = logging.getLogger("pyri.ledger")
_I64: Final = struct.Struct(">q")

META_LEDGER_TOTAL: Final = b"ledger_total"
META_SOLID_TIMESTAMP: Final = b"latest_solid_timestamp"
META_LATEST_MILESTONE: Final = b"latest_milestone"


class LedgerError(PyriError):
    """The ledger is not what it must be: a snapshot that does not fit the database, a
    commit that would break an invariant, or a stored state that fails verification."""


class HistoryRangeError(PyriError, ValueError):
    """Balances were asked for at a milestone the node cannot answer for."""

    def __init__(self, index: int, first: int, last: int) -> None:
        super().__init__(
            f"milestoneIndex {index} is outside the range this node can answer: {first} to {last}"
        )
        self.first = first
        self.last = last


@dataclass(frozen=True, slots=True)
class LedgerStatus:
    """The ledger as one read view sees it."""

    snapshot_index: int
    snapshot_hash: str
    snapshot_timestamp: int
    solid_index: int
    solid_hash: str
    solid_timestamp: int
    latest_index: int
    total: int


@dataclass(frozen=True, slots=True)
class AppliedMilestone:
    index: int
    hash: str
    confirmed: int
    changed_addresses: int


@dataclass(frozen=True, slots=True)
class MilestoneProblem:
    """Why milestone ``index`` cannot be applied (yet)."""

    index: int
    hash: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class LedgerSnapshot:
    """Balances, index and hash taken from one read view; ``record`` is the stored latest
    solid milestone record they belong to (empty when not read)."""

    index: int
    hash: str
    balances: tuple[int, ...]
    record: bytes = b""


def _decode_i64(data: bytes | None, default: int = 0) -> int:
    return default if data is None else int(_I64.unpack(data)[0])


def read_status(view: ReadView) -> LedgerStatus:
    """The ledger status in ``view``; LedgerError if the database holds no ledger yet."""
    snapshot_data = view.get(schema.NODE_META, schema.META_SNAPSHOT)
    solid_data = view.get(schema.NODE_META, schema.META_LATEST_SOLID_MILESTONE)
    if snapshot_data is None or solid_data is None:
        raise LedgerError("the database holds no ledger: start it from a snapshot first")
    snapshot = SnapshotInfo.decode(snapshot_data)
    solid = MilestoneRef.decode(solid_data)
    latest = view.get(schema.NODE_META, META_LATEST_MILESTONE)
    return LedgerStatus(
        snapshot_index=snapshot.index,
        snapshot_hash=schema.hash_from_key(snapshot.hash),
        snapshot_timestamp=snapshot.timestamp,
        solid_index=solid.index,
        solid_hash=schema.hash_from_key(solid.hash),
        solid_timestamp=_decode_i64(view.get(schema.NODE_META, META_SOLID_TIMESTAMP)),
        latest_index=max(solid.index, _decode_i64(latest, solid.index)),
        total=_decode_i64(view.get(schema.NODE_META, META_LEDGER_TOTAL)),
    )


def confirmed_balances(view: ReadView, addresses: Iterable[str]) -> dict[str, int]:
    """Balances in the ledger bucket of ``view`` (absent = 0)."""
    wanted = list(dict.fromkeys(addresses))
    # Few addresses: the memoised single-key path; many: one batched conversion.
    keys = [schema.hash_key(a) for a in wanted] if len(wanted) < 16 else schema.hash_keys(wanted)
    result: dict[str, int] = {}
    for address, key in zip(wanted, keys, strict=True):
        data = view.get(schema.LEDGER, key)
        result[address] = 0 if data is None else schema.decode_balance(data)
    return result


def ledger_snapshot(view: ReadView, addresses: Sequence[str]) -> LedgerSnapshot:
    """getBalances without tips: balances with the index and hash of the same ledger state."""
    # The hot path of getBalances: only the latest solid milestone is read, not the whole
    # status record.
    data = view.get(schema.NODE_META, schema.META_LATEST_SOLID_MILESTONE)
    if data is None:
        raise LedgerError("the database holds no ledger: start it from a snapshot first")
    solid = MilestoneRef.decode(data)
    balances = confirmed_balances(view, addresses)
    return LedgerSnapshot(
        solid.index, schema.hash_from_key(solid.hash), tuple(balances[a] for a in addresses)
    )


def quick_ledger_snapshot(
    engine: KVEngine, addresses: Sequence[str], solid_record: bytes | None = None
) -> LedgerSnapshot:
    """``ledger_snapshot`` in one engine call: the latest solid milestone and the balances read
    together from one snapshot, with no view object (getBalances without tips, the API's most
    frequent read).

    A caller that knows nothing was written since it read the latest solid milestone record
    passes it as ``solid_record``, and only the balances are read (each read the API workers
    save is worth more than its cost alone: LMDB reads release the GIL, and the server's
    threads take it each time)."""
    unique = list(dict.fromkeys(addresses))
    keys = [schema.hash_key(a) for a in unique] if len(unique) < 16 else schema.hash_keys(unique)
    wanted = [(schema.LEDGER, key) for key in keys]
    if solid_record is None:
        values = engine.get_many([(schema.NODE_META, schema.META_LATEST_SOLID_MILESTONE), *wanted])
        solid_record = values[0]
        if solid_record is None:
            raise LedgerError("the database holds no ledger: start it from a snapshot first")
        del values[0]
    else:
        values = engine.get_many(wanted)
    index, milestone_hash = _solid_ref(solid_record)
    found = {
        address: 0 if value is None else schema.decode_balance(value)
        for address, value in zip(unique, values, strict=True)
    }
    return LedgerSnapshot(
        index, milestone_hash, tuple(found[a] for a in addresses), record=solid_record
    )


@lru_cache(maxsize=64)
def _solid_ref(data: bytes) -> tuple[int, str]:
    # The latest solid milestone record changes once per milestone: decode each one once.
    ref = MilestoneRef.decode(data)
    return ref.index, schema.hash_from_key(ref.hash)


def balances_at(view: ReadView, addresses: Sequence[str], index: int) -> LedgerSnapshot:
    """Balances right after milestone ``index`` was applied (the snapshot's balances for the
    snapshot index): the last balance-history entry at or below ``index``, per address."""
    status = read_status(view)
    if not status.snapshot_index <= index <= status.solid_index:
        raise HistoryRangeError(index, status.snapshot_index, status.solid_index)
    if index == status.snapshot_index:
        milestone_hash = status.snapshot_hash
    else:
        data = view.get(schema.MILESTONES, schema.encode_index(index))
        milestone_hash = NULL_HASH if data is None else schema.hash_from_key(data)
    balances: list[int] = []
    for key in schema.hash_keys(addresses):
        entry = next(
            view.iterate(
                schema.BALANCE_HISTORY,
                prefix=key,
                start=schema.history_key(key, index),
                reverse=True,
            ),
            None,
        )
        balances.append(0 if entry is None else schema.decode_balance(entry[1]))
    return LedgerSnapshot(index, milestone_hash, tuple(balances))


def cache_verdict(
    batch: WriteBatch, tail_hash: str, verdict: BundleVerdict, meta: TxMeta | None
) -> None:
    """Write a tail's bundle verdict into the cache (§5.8): the verdict, and the validity flag
    in the tail's metadata ``meta`` (as read in the same step; None: not stored)."""
    key = schema.hash_key(tail_hash)
    batch.put(schema.BUNDLE_VERDICTS, key, verdict.encode())
    if meta is not None:
        updated = dataclasses.replace(meta, validity=Validity(verdict.validity_flag))
        batch.put(schema.TX_META, key, updated.encode())


def initialize(
    tangle: Tangle, coordinator: CoordinatorConfig, snapshot: SnapshotState | None
) -> LedgerStatus:
    """Give an empty database its starting ledger, or check that an existing one started from
    the same snapshot. Without a snapshot file the ledger starts empty (every balance 0) at the
    coordinator's milestone start index, so that a fresh node answers at once."""
    state = snapshot or SnapshotState(
        balances={},
        index=coordinator.milestone_start_index,
        hash=NULL_HASH,
        timestamp=coordinator.snapshot_time,
        solid_entry_points={NULL_HASH: coordinator.milestone_start_index},
        seen_milestones={},
    )
    engine = tangle.engine
    with tangle.write_lock, engine.read() as view:
        existing = view.get(schema.NODE_META, schema.META_SNAPSHOT)
        if existing is not None:
            info = SnapshotInfo.decode(existing)
            if (info.index, schema.hash_from_key(info.hash)) != (state.index, state.hash):
                raise LedgerError(
                    f"the database started from the snapshot at milestone {info.index}, not "
                    f"{state.index}; use another --db-path or the same snapshot"
                )
            return read_status(view)
    total = sum(state.balances.values())
    if any(balance < 0 for balance in state.balances.values()):
        raise LedgerError("the snapshot holds a negative balance")
    with tangle.write_lock, engine.write() as batch:
        addresses = list(state.balances)
        for address, key in zip(addresses, schema.hash_keys(addresses), strict=True):
            balance = state.balances[address]
            if balance:
                batch.put(schema.LEDGER, key, schema.encode_balance(balance))
                batch.put(
                    schema.BALANCE_HISTORY,
                    schema.history_key(key, state.index),
                    schema.encode_balance(balance),
                )
        for entry_point, index in state.solid_entry_points.items():
            batch.put(
                schema.SOLID_ENTRY_POINTS, schema.hash_key(entry_point), schema.encode_index(index)
            )
        snapshot_key = schema.hash_key(state.hash)
        batch.put(
            schema.NODE_META,
            schema.META_SNAPSHOT,
            SnapshotInfo(state.index, snapshot_key, state.timestamp).encode(),
        )
        batch.put(
            schema.NODE_META,
            schema.META_LATEST_SOLID_MILESTONE,
            MilestoneRef(state.index, snapshot_key).encode(),
        )
        batch.put(schema.NODE_META, META_SOLID_TIMESTAMP, _I64.pack(state.timestamp))
        batch.put(schema.NODE_META, META_LEDGER_TOTAL, _I64.pack(total))
    with engine.read() as view:
        return read_status(view)


class Ledger:
    """Milestone processing for one node. Feed it the transactions ingest accepted
    (``note``), then call ``process``: it validates candidates and applies every milestone
    that can be applied, in order, and returns what it applied."""

    def __init__(
        self,
        tangle: Tangle,
        coordinator: CoordinatorConfig,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self._tangle = tangle
        self._coordinator = coordinator
        self._report = report or _LOG.warning
        # Candidate tails not yet judged VALID or INVALID, by milestone index.
        self._candidates: dict[int, set[str]] = {}
        self.problem: MilestoneProblem | None = None

    @property
    def coordinator(self) -> CoordinatorConfig:
        return self._coordinator

    def status(self) -> LedgerStatus:
        with self._tangle.engine.read() as view:
            return read_status(view)

    def note(self, transactions: Iterable[Transaction]) -> None:
        """Remember milestone candidates (§6.1) among newly ingested transactions."""
        for tx in transactions:
            if is_candidate(tx, self._coordinator):
                self._candidates.setdefault(tx.milestone_index, set()).add(tx.hash)

    def rescan(self) -> None:
        """Find candidates among every stored transaction at the coordinator address (at start,
        so that nothing ingested before a restart is forgotten)."""
        with self._tangle.read() as reader:
            hashes = reader.find_by_address(self._coordinator.address)
            self.note(tx for tx in map(reader.transaction, hashes) if tx is not None)

    def process(
        self, on_applied: Callable[[AppliedMilestone], None] | None = None
    ) -> list[AppliedMilestone]:
        """Validate candidates above the latest solid milestone, then apply milestones in
        index order while the next one is recorded and solid. ``on_applied`` hears of each
        one as soon as it is committed (a long catch-up is reported as it goes)."""
        self._validate_candidates()
        applied: list[AppliedMilestone] = []
        while True:
            result = self._apply_next()
            if result is None:
                return applied
            applied.append(result)
            if on_applied is not None:
                on_applied(result)

    # --- validation -------------------------------------------------------------------------

    def _validate_candidates(self) -> None:
        if not self._candidates:
            return
        with self._tangle.write_lock:
            with self._tangle.read() as reader:
                solid_index = read_status(reader.view).solid_index
                records: list[tuple[int, str, BundleVerdict | None]] = []
                verdicts: dict[str, BundleVerdict] = {}
                for index in sorted(self._candidates):
                    if index <= solid_index:
                        del self._candidates[index]
                        continue
                    for tail_hash in sorted(self._candidates[index]):
                        tail = reader.transaction(tail_hash)
                        if tail is None:
                            continue
                        recorded = reader.view.get(schema.MILESTONES, schema.encode_index(index))
                        known = None if recorded is None else schema.hash_from_key(recorded)
                        verdict = validate_milestone_in(
                            reader, tail, self._coordinator, known_index_hash=known
                        )
                        bundle = verdict.bundle
                        if (
                            bundle is not None
                            and bundle.cacheable
                            and not reader.cached_verdict(tail_hash)
                        ):
                            verdicts[tail_hash] = bundle
                        if verdict.status is MilestoneStatus.INCOMPLETE:
                            continue
                        self._candidates[index].discard(tail_hash)
                        if verdict.records_index:
                            records.append((index, tail_hash, bundle))
                        elif verdict.status is MilestoneStatus.INVALID:
                            _LOG.info(
                                "milestone candidate %s rejected: %s", tail_hash, verdict.message
                            )
                    if not self._candidates[index]:
                        del self._candidates[index]
                metas = {h: reader.meta(h) for _, h, _ in records} | {
                    h: reader.meta(h) for h in verdicts
                }
                latest = read_status(reader.view).latest_index
            if not records and not verdicts:
                return
            with self._tangle.engine.write() as batch:
                for tail_hash, bundle_verdict in verdicts.items():
                    cache_verdict(batch, tail_hash, bundle_verdict, metas.get(tail_hash))
                for index, tail_hash, _ in records:
                    meta = metas.get(tail_hash)
                    batch.put(
                        schema.MILESTONES, schema.encode_index(index), schema.hash_key(tail_hash)
                    )
                    if meta is not None:
                        meta = dataclasses.replace(meta, milestone=True)
                        if tail_hash in verdicts:
                            meta = dataclasses.replace(
                                meta, validity=Validity(verdicts[tail_hash].validity_flag)
                            )
                        batch.put(schema.TX_META, schema.hash_key(tail_hash), meta.encode())
                    latest = max(latest, index)
                batch.put(schema.NODE_META, META_LATEST_MILESTONE, _I64.pack(latest))

    # --- application ------------------------------------------------------------------------

    def _apply_next(self) -> AppliedMilestone | None:
        with self._tangle.write_lock:
            with self._tangle.read() as reader:
                status = read_status(reader.view)
                index = status.solid_index + 1
                recorded = reader.view.get(schema.MILESTONES, schema.encode_index(index))
                if recorded is None:
                    return None
                tail_hash = schema.hash_from_key(recorded)
                meta = reader.meta(tail_hash)
                if meta is None or not meta.solid:
                    return None  # not solid yet: more transactions must arrive first
                memo = MemoReader(reader)
                outcome = milestone_effect(
                    memo,
                    tail_hash,
                    index,
                    lambda addresses: confirmed_balances(reader.view, addresses),
                    status.solid_index,
                    status.snapshot_index,
                )
                if isinstance(outcome, MilestoneEffect):
                    plan = self._plan_commit(reader, memo, status, outcome)
            if isinstance(outcome, MilestoneEffect):
                self._commit(plan)
                self.problem = None
                return AppliedMilestone(index, tail_hash, len(outcome.confirmed), len(outcome.diff))
        self._fail(index, tail_hash, outcome)
        return None

    def _fail(
        self,
        index: int,
        tail_hash: str,
        outcome: MilestoneFailure | MilestoneAlreadyApplied | MilestoneNeedsReset,
    ) -> None:
        reason: str
        if isinstance(outcome, MilestoneFailure):
            reason, message = outcome.reason, outcome.detail
        elif isinstance(outcome, MilestoneNeedsReset):
            reason = "needs_reset"
            message = f"its tail already carries milestone index {outcome.tail_snapshot_index}"
        else:
            reason = "already_applied"
            message = "its tail carries its index but the ledger does not: run pyri's repair"
        problem = MilestoneProblem(index, tail_hash, reason, message)
        if problem != self.problem:
            self._report(
                f"MILESTONE {index} ({tail_hash}) CANNOT BE APPLIED: {reason}: {message}. "
                f"The ledger stays at milestone {index - 1}."
            )
        self.problem = problem

    def _plan_commit(
        self, reader: StoreReader, memo: MemoReader, status: LedgerStatus, effect: MilestoneEffect
    ) -> _CommitPlan:
        if effect.cone.corrupt_milestones:
            raise LedgerError(
                f"milestone {effect.index} reaches transactions confirmed by later milestones "
                f"{sorted(effect.cone.corrupt_milestones)}; the database needs a rollback"
            )
        old = confirmed_balances(reader.view, effect.diff)
        if sum(effect.diff.values()) != 0:
            raise LedgerError(f"milestone {effect.index}: the state diff does not sum to zero")
        for address, balance in effect.balances.items():
            if balance < 0:
                raise LedgerError(f"milestone {effect.index}: {address} would hold {balance}")
            if balance != old[address] + effect.diff[address]:
                raise LedgerError(f"milestone {effect.index}: {address} balance miscomputed")
        new_total = status.total - sum(old.values()) + sum(effect.balances.values())
        if new_total != status.total:
            raise LedgerError(
                f"milestone {effect.index} would change the ledger total from {status.total} "
                f"to {new_total}"
            )
        metas: dict[str, TxMeta] = {}
        for tx_hash in effect.confirmed:
            meta = memo.meta(tx_hash)
            if meta is not None:
                metas[tx_hash] = dataclasses.replace(meta, snapshot_index=effect.index)
        for tail_hash, verdict in effect.verdicts_to_cache.items():
            meta = metas.get(tail_hash) or memo.meta(tail_hash)
            if meta is not None:
                metas[tail_hash] = dataclasses.replace(
                    meta, validity=Validity(verdict.validity_flag)
                )
        return _CommitPlan(effect, metas)

    def _commit(self, plan: _CommitPlan) -> None:
        effect = plan.effect
        index = effect.index
        with self._tangle.engine.write() as batch:
            addresses = list(effect.balances)
            keys = schema.hash_keys(addresses)
            for address, key in zip(addresses, keys, strict=True):
                balance = effect.balances[address]
                if balance:
                    batch.put(schema.LEDGER, key, schema.encode_balance(balance))
                else:
                    batch.delete(schema.LEDGER, key)
                # Every touched address gets an entry, zero included, so that the reverse
                # read for "balance at milestone m" finds the right one.
                batch.put(
                    schema.BALANCE_HISTORY,
                    schema.history_key(key, index),
                    schema.encode_balance(balance),
                )
            if effect.diff:
                diff_keys = schema.hash_keys(list(effect.diff))
                batch.put(
                    schema.STATE_DIFFS,
                    schema.encode_index(index),
                    schema.encode_diff(zip(diff_keys, effect.diff.values(), strict=True)),
                )
            hashes = list(plan.metas)
            for tx_hash, key in zip(hashes, schema.hash_keys(hashes), strict=True):
                batch.put(schema.TX_META, key, plan.metas[tx_hash].encode())
            for tail_hash, verdict in effect.verdicts_to_cache.items():
                batch.put(schema.BUNDLE_VERDICTS, schema.hash_key(tail_hash), verdict.encode())
            spent = list(effect.spent_addresses)
            for key in schema.hash_keys(spent) if spent else []:
                batch.put(schema.SPENT_ADDRESSES, key, b"")
            for entry_point, entry_index in effect.new_solid_entry_points.items():
                batch.put(
                    schema.SOLID_ENTRY_POINTS,
                    schema.hash_key(entry_point),
                    schema.encode_index(entry_index),
                )
            batch.put(
                schema.NODE_META,
                schema.META_LATEST_SOLID_MILESTONE,
                MilestoneRef(index, schema.hash_key(effect.hash)).encode(),
            )
            batch.put(schema.NODE_META, META_SOLID_TIMESTAMP, _I64.pack(effect.timestamp))

    # --- verification, rollback ---------------------------------------------------------------

    def verify(self) -> list[str]:
        """Recompute the ledger from the snapshot balances and every stored state diff and
        compare it with the ledger bucket; returns the discrepancies (empty: all is well)."""
        with self._tangle.engine.read() as view:
            status = read_status(view)
            expected = _replayed(view, status, status.solid_index)
            actual = {
                key: schema.decode_balance(value) for key, value in view.iterate(schema.LEDGER)
            }
        problems: list[str] = []
        for key in sorted(set(expected) | set(actual)):
            if expected.get(key, 0) != actual.get(key, 0):
                problems.append(
                    f"{schema.hash_from_key(key)}: ledger {actual.get(key, 0)}, "
                    f"replay {expected.get(key, 0)}"
                )
        total = sum(actual.values())
        if total != status.total:
            problems.append(f"ledger total {total}, expected {status.total}")
        return problems

    def rollback_to(self, target: int) -> None:
        """Undo milestones above ``target`` (§7.7): their diffs leave the ledger and history,
        their transactions become unconfirmed, and ``target`` becomes the latest solid
        milestone. All in one atomic write."""
        with self._tangle.write_lock:
            with self._tangle.read() as reader:
                view = reader.view
                status = read_status(view)
                if not status.snapshot_index <= target <= status.solid_index:
                    raise HistoryRangeError(target, status.snapshot_index, status.solid_index)
                ledger = _replayed(view, status, target)
                touched: set[bytes] = set()
                unconfirm: dict[str, TxMeta] = {}
                processed: frozenset[str] = frozenset()
                for index in range(status.solid_index, target, -1):
                    data = view.get(schema.STATE_DIFFS, schema.encode_index(index))
                    touched.update(key for key, _ in schema.decode_diff(data or b""))
                    recorded = view.get(schema.MILESTONES, schema.encode_index(index))
                    if recorded is None:
                        continue
                    cone = confirmed_cone(
                        reader,
                        schema.hash_from_key(recorded),
                        index,
                        status.snapshot_index,
                        new_index=0,
                        processed=processed,
                    )
                    processed = cone.processed
                    for tx_hash in cone.to_update:
                        meta = reader.meta(tx_hash)
                        if meta is not None and meta.snapshot_index >= index:
                            unconfirm[tx_hash] = dataclasses.replace(meta, snapshot_index=0)
                history = [
                    key
                    for address in touched
                    for key, _ in view.iterate(
                        schema.BALANCE_HISTORY,
                        prefix=address,
                        start=schema.history_key(schema.HashKey(address), target + 1),
                    )
                ]
                target_hash = (
                    status.snapshot_hash
                    if target == status.snapshot_index
                    else schema.hash_from_key(
                        view.get(schema.MILESTONES, schema.encode_index(target)) or b""
                    )
                )
                target_tx = reader.transaction(target_hash)
                timestamp = status.snapshot_timestamp if target_tx is None else target_tx.timestamp
            with self._tangle.engine.write() as batch:
                for address in touched:
                    balance = ledger.get(address, 0)
                    if balance:
                        batch.put(schema.LEDGER, address, schema.encode_balance(balance))
                    else:
                        batch.delete(schema.LEDGER, address)
                for key in history:
                    batch.delete(schema.BALANCE_HISTORY, key)
                for index in range(status.solid_index, target, -1):
                    batch.delete(schema.STATE_DIFFS, schema.encode_index(index))
                for tx_hash, meta in unconfirm.items():
                    batch.put(schema.TX_META, schema.hash_key(tx_hash), meta.encode())
                batch.put(
                    schema.NODE_META,
                    schema.META_LATEST_SOLID_MILESTONE,
                    MilestoneRef(target, schema.hash_key(target_hash)).encode(),
                )
                batch.put(schema.NODE_META, META_SOLID_TIMESTAMP, _I64.pack(timestamp))


@dataclass(frozen=True, slots=True)
class _CommitPlan:
    effect: MilestoneEffect
    metas: Mapping[str, TxMeta]


def _replayed(view: ReadView, status: LedgerStatus, target: int) -> dict[bytes, int]:
    """Ledger (by address key) at milestone ``target``: the snapshot's balances (history
    entries at the snapshot index) plus every stored diff up to ``target``."""
    ledger: dict[bytes, int] = {}
    for key, value in view.iterate(schema.BALANCE_HISTORY):
        address, index = schema.split_history_key(key)
        if index == status.snapshot_index:
            ledger[address] = schema.decode_balance(value)
    for key, value in view.iterate(
        schema.STATE_DIFFS, start=schema.encode_index(status.snapshot_index + 1)
    ):
        if schema.decode_index(key) > target:
            break
        for address, change in schema.decode_diff(value):
            ledger[address] = ledger.get(address, 0) + change
    return {address: balance for address, balance in ledger.items() if balance}


def current_state(view: ReadView) -> SnapshotState:
    """The ledger at the latest solid milestone as a snapshot state (for ``pyri snapshot
    export``): balances, that milestone's index, hash and timestamp, the solid entry points,
    and the milestones recorded above it as seen milestones."""
    status = read_status(view)
    balances = {
        schema.hash_from_key(key): schema.decode_balance(value)
        for key, value in view.iterate(schema.LEDGER)
    }
    entry_points = {
        schema.hash_from_key(key): schema.decode_index(value)
        for key, value in view.iterate(schema.SOLID_ENTRY_POINTS)
    }
    entry_points.setdefault(NULL_HASH, status.snapshot_index)
    seen = {
        schema.hash_from_key(value): schema.decode_index(key)
        for key, value in view.iterate(
            schema.MILESTONES, start=schema.encode_index(status.solid_index + 1)
        )
    }
    return SnapshotState(
        balances=balances,
        index=status.solid_index,
        hash=status.solid_hash,
        timestamp=status.solid_timestamp,
        solid_entry_points=entry_points,
        seen_milestones=seen,
    )
