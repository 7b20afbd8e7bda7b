"""The node behind the API: ``NodeBackend`` over the store's read views and the writer.

Every read method opens one read view, answers from it and closes it, so that balances,
references and milestoneIndex always come from one ledger state, even while milestones are
being applied. Reads never write: verdicts a getBalances-with-tips walk computes are cached in
this process's memory only (a read-only API worker cannot write the database, and a query should
not change what a later milestone does).
"""

from __future__ import annotations

import os
import platform
import resource
import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final, Protocol

from pyri import __version__
from pyri.api.backend import (
    Balances,
    Consistency,
    MilestoneNotAvailable,
    NodeInfo,
    NotATail,
    TipNotFound,
    TipsNotConsistent,
    TransactionMissing,
    TransactionRejected,
)
from pyri.consensus.confirmation import judge_tail
from pyri.consensus.coordinator import CoordinatorConfig
from pyri.consensus.ledger import (
    HistoryRangeError,
    LedgerSnapshot,
    balances_at,
    confirmed_balances,
    quick_ledger_snapshot,
    read_status,
)
from pyri.consensus.ledger_view import TipNotFound as TipMissing
from pyri.consensus.ledger_view import TipsDiff, tails_consistent, tips_diff
from pyri.consensus.tangle import StoreReader, TangleConfig, TransactionCache
from pyri.consensus.view import MemoReader, is_solid
from pyri.model.bundle import BundleVerdict
from pyri.node.write_counter import WriteCounter
from pyri.node.writer import Rejection
from pyri.storage import schema
from pyri.storage.engine import KVEngine, ReadView

_VERDICT_CACHE_SIZE: Final = 200_000
_TIP_CACHE_SIZE: Final = 1024
_ANSWER_CACHE_SIZE: Final = 4096
_SOLID_RECORD: Final = ((schema.NODE_META, schema.META_LATEST_SOLID_MILESTONE),)
# IRI's --max-depth and --max-analyzed-transactions defaults (iri-api-reference §4.16).
MAX_DEPTH: Final = 15
MAX_ANALYZED_TRANSACTIONS: Final = 20_000
_INCONSISTENT: Final = (
    "tails are not consistent (would lead to inconsistent ledger state or below max depth)"
)


class Submitter(Protocol):
    """Where writes go: the in-process Writer or a worker's WriterClient."""

    def store(self, trytes: Sequence[str]) -> Rejection | None: ...

    def broadcast(self, trytes: Sequence[str]) -> object: ...


class _CachingReader(StoreReader):
    """A StoreReader that also remembers bundle verdicts computed by earlier queries in this
    process, so repeated getBalances calls through the same tips skip signature checks."""

    def __init__(
        self,
        view: ReadView,
        config: TangleConfig,
        memo: OrderedDict[str, BundleVerdict],
        cache: TransactionCache,
    ) -> None:
        super().__init__(view, config, cache)
        self._memo = memo

    def cached_verdict(self, tail_hash: str) -> BundleVerdict | None:
        # Verdicts never change once judged: keep decoded ones from the database as well.
        verdict = self._memo.get(tail_hash)
        if verdict is None:
            verdict = super().cached_verdict(tail_hash)
            if verdict is not None:
                self._memo[tail_hash] = verdict
        return verdict

    def cached_verdicts(self, tail_hashes: Iterable[str]) -> dict[str, BundleVerdict | None]:
        memo = self._memo
        hashes = list(tail_hashes)
        found = super().cached_verdicts([h for h in hashes if h not in memo])
        memo.update((h, verdict) for h, verdict in found.items() if verdict is not None)
        found.update((h, memo[h]) for h in hashes if h not in found)
        return found

    def walk_reader(self, starts: Sequence[str], latest_index: int) -> MemoReader:
        """A reader for one walk from ``starts`` over this view, with the cone the walk will
        read fetched ahead in bulk (``StoreReader.read_cone``)."""
        reader = MemoReader(self)
        reader.preload(self.read_cone(starts, latest_index))
        return reader


class StoreBackend:
    """``pyri.api.backend.NodeBackend`` for a node's database."""

    def __init__(
        self,
        engine: KVEngine,
        tangle_config: TangleConfig,
        coordinator: CoordinatorConfig,
        submitter: Submitter,
        *,
        testnet: bool,
        db_path: Path | None = None,
        writes: WriteCounter | None = None,
    ) -> None:
        self._engine = engine
        self._tangle_config = tangle_config
        self._coordinator = coordinator
        self._submitter = submitter
        self._testnet = testnet
        self._db_file = None if db_path is None else db_path / "data.mdb"
        self._verdicts: OrderedDict[str, BundleVerdict] = OrderedDict()
        self._transactions = TransactionCache()
        # Without the writer's count of writes, every cached answer is checked against the
        # database before it is given.
        self._writes = writes
        # addresses -> (latest solid milestone record, answer, count of writes when last checked)
        self._answers: OrderedDict[tuple[str, ...], tuple[bytes, Balances, int]] = OrderedDict()
        # (count of writes, the latest solid milestone record read under that count)
        self._solid_record: tuple[int, bytes] | None = None
        self._tip_diffs: OrderedDict[tuple[tuple[str, ...], int, str], Mapping[str, int]] = (
            OrderedDict()
        )

    def _reader(self, view: ReadView) -> _CachingReader:
        return _CachingReader(view, self._tangle_config, self._verdicts, self._transactions)

    def _remember(self, verdicts: dict[str, BundleVerdict] | object) -> None:
        if not isinstance(verdicts, dict):
            return
        for tail_hash, verdict in verdicts.items():
            self._verdicts[tail_hash] = verdict
        while len(self._verdicts) > _VERDICT_CACHE_SIZE:
            self._verdicts.popitem(last=False)

    # --- node --------------------------------------------------------------------------------

    def node_info(self) -> NodeInfo:
        with self._engine.read() as view:
            status = read_status(view)
            if status.latest_index > status.solid_index:
                data = view.get(schema.MILESTONES, schema.encode_index(status.latest_index))
                latest_hash = status.solid_hash if data is None else schema.hash_from_key(data)
            else:
                latest_hash = status.solid_hash
            first = next(view.iterate(schema.MILESTONES), None)
            tips = view.count(schema.TIPS)
            missing = view.count(schema.MISSING)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        resident = usage.ru_maxrss * 1024
        size = 0
        if self._db_file is not None and self._db_file.exists():
            size = self._db_file.stat().st_blocks * 512
        return NodeInfo(
            app_name="pyri",
            app_version=__version__,
            jre_available_processors=os.cpu_count() or 1,
            jre_free_memory=_available_memory(),
            jre_version=platform.python_version(),
            jre_max_memory=_total_memory(),
            jre_total_memory=resident,
            latest_milestone=latest_hash,
            latest_milestone_index=status.latest_index,
            latest_solid_subtangle_milestone=status.solid_hash,
            latest_solid_subtangle_milestone_index=status.solid_index,
            milestone_start_index=-1 if first is None else schema.decode_index(first[0]),
            last_snapshotted_milestone_index=status.snapshot_index,
            neighbors=0,
            packets_queue_size=0,
            time=int(time.time() * 1000),
            tips=tips,
            transactions_to_request=missing,
            features=("testnet",) if self._testnet else (),
            coordinator_address=self._coordinator.address,
            db_size_in_bytes=size,
        )

    def is_synchronized(self) -> bool:
        with self._engine.read() as view:
            status = read_status(view)
        return (
            status.solid_index != status.snapshot_index
            and status.solid_index >= status.latest_index - 1
        )

    # --- balances ----------------------------------------------------------------------------

    def balances(self, addresses: Sequence[str]) -> Balances:
        # The ledger changes only when a milestone is applied, and then the latest solid
        # milestone record changes with it: an answer for the same addresses under the same
        # record is still right. Wallets poll the same addresses; each poll is then one read,
        # or none while the writer's count shows that nothing was written since the answer was
        # last checked (it is read before the database, see write_counter.py).
        count = 1 if self._writes is None else self._writes.value
        key = tuple(addresses)
        cached = self._answers.get(key)
        if cached is not None:
            record, answer, checked = cached
            if count == checked and not count & 1:
                return answer
            if self._engine.get_many(_SOLID_RECORD)[0] == record:
                self._answers[key] = (record, answer, count)
                return answer
        snapshot = self._ledger_snapshot(addresses, count)
        answer = Balances(snapshot.balances, snapshot.index, snapshot.hash)
        self._answers[key] = (snapshot.record, answer, count)
        if len(self._answers) > _ANSWER_CACHE_SIZE:
            self._answers.popitem(last=False)
        return answer

    def _ledger_snapshot(self, addresses: Sequence[str], count: int) -> LedgerSnapshot:
        """``quick_ledger_snapshot``; while the writer's count is still ``count`` (even) and
        was so when the latest solid milestone record was last read, that record is reused
        and only the balances are read. The count is checked again after the read: a write
        step that began meanwhile may have moved the ledger, and then both are read again,
        together."""
        writes = self._writes
        known = self._solid_record
        if writes is not None and not count & 1 and known is not None and known[0] == count:
            snapshot = quick_ledger_snapshot(self._engine, addresses, solid_record=known[1])
            if writes.value == count:
                return snapshot
        snapshot = quick_ledger_snapshot(self._engine, addresses)
        # Read after the count was: the record of that count unless a write step began since,
        # and then the count has moved on and this entry is never used.
        self._solid_record = None if count & 1 else (count, snapshot.record)
        return snapshot

    def balances_through_tips(self, addresses: Sequence[str], tips: Sequence[str]) -> Balances:
        with self._engine.read() as view:
            status = read_status(view)
            key = (tuple(tips), status.solid_index, status.solid_hash)
            diff = self._tip_diffs.get(key)
            if diff is None:
                result = tips_diff(
                    self._reader(view).walk_reader(tips, status.solid_index),
                    tips,
                    latest_index=status.solid_index,
                    balances=lambda wanted: confirmed_balances(view, wanted),
                )
                if isinstance(result, TipMissing):
                    raise TipNotFound(result.tip)
                self._remember(dict(result.verdicts_to_cache))
                if not isinstance(result, TipsDiff):
                    raise TipsNotConsistent()
                diff = result.diff
                # The past cone of a tip never changes, and a consistent answer stays so until
                # the next milestone: keep it for the same tips and the same ledger state.
                self._tip_diffs[key] = diff
                while len(self._tip_diffs) > _TIP_CACHE_SIZE:
                    self._tip_diffs.popitem(last=False)
            confirmed = confirmed_balances(view, addresses)
        balances = [confirmed[a] + diff.get(a, 0) for a in addresses]
        return Balances(balances, status.solid_index, status.solid_hash)

    def balances_at(self, addresses: Sequence[str], milestone_index: int) -> Balances:
        with self._engine.read() as view:
            try:
                snapshot = balances_at(view, addresses, milestone_index)
            except HistoryRangeError as error:
                raise MilestoneNotAvailable(milestone_index, error.first, error.last) from None
        return Balances(snapshot.balances, snapshot.index, snapshot.hash)

    # --- transactions ------------------------------------------------------------------------

    def get_trytes(self, hashes: Sequence[str]) -> list[str | None]:
        with self._engine.read() as view:
            return self._reader(view).trytes(hashes)

    def find_transactions(
        self,
        *,
        addresses: frozenset[str] | None,
        bundles: frozenset[str] | None,
        tags: frozenset[str] | None,
        approvees: frozenset[str] | None,
    ) -> list[str]:
        with self._engine.read() as view:
            reader = self._reader(view)
            found: list[set[str]] = []
            if bundles is not None:
                found.append({h for b in bundles for h in reader.find_by_bundle(b)})
            if addresses is not None:
                found.append({h for a in addresses for h in reader.find_by_address(a)})
            if tags is not None:
                tagged = {h for t in tags for h in reader.find_by_tag(t)}
                if not tagged:  # IRI looks at obsolete tags only when no tag matched
                    tagged = {h for t in tags for h in reader.find_by_obsolete_tag(t)}
                found.append(tagged)
            if approvees is not None:
                found.append({h for a in approvees for h in reader.approvers(a)})
        if not found:
            return []
        result = set.intersection(*found)
        return sorted(result)

    def inclusion_states(self, hashes: Sequence[str]) -> list[bool]:
        with self._engine.read() as view:
            reader = self._reader(view)
            states = []
            for tx_hash in hashes:
                meta = reader.meta(tx_hash)
                states.append(meta is not None and meta.snapshot_index > 0)
            return states

    def were_addresses_spent_from(self, addresses: Sequence[str]) -> list[bool]:
        with self._engine.read() as view:
            return [
                view.get(schema.SPENT_ADDRESSES, key) is not None
                for key in schema.hash_keys(addresses)
            ]

    def check_consistency(self, tails: Sequence[str]) -> Consistency:
        """iri-api-reference §4.16: tail by tail, in order, missing or not-a-tail is a 400 and
        unsolid or an invalid bundle is ``false``; then the shared walk, below max depth
        included."""
        with self._engine.read() as view:
            status = read_status(view)
            reader = self._reader(view).walk_reader(tails, status.solid_index)
            for tail_hash in tails:
                links = reader.links(tail_hash)
                if links is None:
                    raise TransactionMissing(tail_hash)
                if links[2] != 0:  # currentIndex
                    raise NotATail(tail_hash)
                if not is_solid(reader, tail_hash):
                    return Consistency(
                        False, f"tails are not solid (missing a referenced tx): {tail_hash}"
                    )
                verdict, _ = judge_tail(reader, tail_hash, links, extra_rules=True)
                if verdict.cacheable:
                    self._remember({tail_hash: verdict})
                if not verdict.valid:
                    return Consistency(
                        False, f"tails are not consistent (bundle is invalid): {tail_hash}"
                    )
            lowest_allowed = status.solid_index - MAX_DEPTH
            if any(below_max_depth(reader, tail_hash, lowest_allowed) for tail_hash in tails):
                return Consistency(False, _INCONSISTENT)
            result = tails_consistent(
                reader,
                tails,
                latest_index=status.solid_index,
                balances=lambda wanted: confirmed_balances(view, wanted),
            )
        self._remember(dict(result.verdicts_to_cache))
        if isinstance(result, TipsDiff):
            return Consistency(True, "")
        return Consistency(False, _INCONSISTENT)

    def tips(self) -> list[str]:
        with self._engine.read() as view:
            return self._reader(view).tips()

    def missing_transactions(self) -> list[str]:
        with self._engine.read() as view:
            return self._reader(view).missing()

    def store_transactions(self, trytes: Sequence[str]) -> None:
        rejection = self._submitter.store(trytes)
        if rejection is not None:
            raise TransactionRejected(
                rejection.index, rejection.tx_hash, rejection.reason, rejection.detail
            )

    def broadcast_transactions(self, trytes: Sequence[str]) -> None:
        self._submitter.broadcast(trytes)


def below_max_depth(reader: MemoReader, tail_hash: str, lowest_allowed: int) -> bool:
    """IRI's below-max-depth test (§4.16, §7.10). A confirmed tail at or above
    ``lowest_allowed`` passes at once. Otherwise the unconfirmed past is walked: a transaction
    confirmed below ``lowest_allowed`` - or a solid entry point, which counts as confirmed at its
    own index (0 when it is not stored, like the null hash) - fails it, and so does having to
    look at 20,000 transactions."""
    meta = reader.meta(tail_hash)
    if (meta.snapshot_index if meta is not None else 0) >= lowest_allowed:
        return False
    queue = deque([tail_hash])
    analyzed: set[str] = set()
    while queue:
        if len(analyzed) == MAX_ANALYZED_TRANSACTIONS:
            return True
        tx_hash = queue.popleft()
        if tx_hash in analyzed:
            continue
        analyzed.add(tx_hash)
        meta = reader.meta(tx_hash)
        index = meta.snapshot_index if meta is not None else 0
        if (index != 0 or reader.is_solid_entry_point(tx_hash)) and index < lowest_allowed:
            return True
        if index == 0:
            links = reader.links(tx_hash)
            if links is not None:
                trunk, branch, _, _ = links
                queue.append(trunk)
                queue.append(branch)
    return False


def _total_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


def _available_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError):
        return 0
