"""The Tangle: transactions taken in by atomic batches, solidity, tips and missing transactions.

``Tangle.ingest`` is the one entry point every source of transactions uses (the API, ``pyri
import``, later gossip). A batch is parsed and hashed in one pass, validated as IRI 1.8.6
validates at ingest (§3.1), and written in ONE atomic write: the transactions, their metadata,
every index, the tips and missing sets and every solidity change the batch causes. A crash
therefore leaves either the whole batch or none of it.

Each batch is computed first against a read view plus an in-memory overlay, and only then
written; the write batch itself does no reads of consequence. That keeps the single write
transaction short and lets LMDB grow its map between batches (it cannot while a read view of the
writing thread is open).

Solidity is IRI's definition (§3.6): a transaction is solid when it is a solid entry point, or
when it is stored and its trunk and branch are solid. IRI sets it lazily from a background queue;
pyri propagates it inside the batch that completes a past cone, so a transaction is solid in the
same atomic write that makes it so, whatever order its cone arrived in. A caller that wants to
know which tails became solid (the writer queues them for bundle prevalidation,
``pyri.consensus.prevalidation``) passes ``on_solid_tails``; it hears of them once the batch is
committed.
"""

from __future__ import annotations

import contextlib
import enum
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final, NamedTuple, TypeAlias

from pyri.consensus.validation import check_transaction
from pyri.consensus.view import Prefetched, TxLinks, is_solid, links_of
from pyri.errors import TrinaryError
from pyri.model.bundle import BundleVerdict, decode_verdicts
from pyri.model.transaction import ParsedBatch, Transaction, parse_batch_matrices, parse_stored
from pyri.storage import schema
from pyri.storage.engine import KVEngine, ReadView
from pyri.storage.schema import HashKey, TxMeta
from pyri.trinary import NULL_HASH

_EMPTY: Final = b""
_FEW_ENTRY_POINTS: Final = 256

SolidTailsListener: TypeAlias = Callable[[list[str]], None]
"""Hears, after an ingest batch is committed, the tails (currentIndex 0) that the batch made
solid: new ones solid on arrival and stored ones whose cone it completed, each once."""


@dataclass(frozen=True, slots=True)
class TangleConfig:
    """What ingest validation and solidity depend on."""

    mwm: int = 9
    # The initial snapshot's timestamp in seconds: the lower bound of the timestamp rule (§3.2).
    snapshot_timestamp_s: int = 0
    # Solid entry points of the initial snapshot (§7.8); NULL_HASH is always one.
    solid_entry_points: frozenset[str] = field(default_factory=lambda: frozenset({NULL_HASH}))

    def is_solid_entry_point(self, tx_hash: str) -> bool:
        return tx_hash == NULL_HASH or tx_hash in self.solid_entry_points


class IngestStatus(enum.Enum):
    ACCEPTED = "accepted"
    KNOWN = "known"
    REJECTED = "rejected"


class IngestResult(NamedTuple):
    """What became of one item of an ingest batch. ``code`` and ``message`` say why an item was
    rejected (``message`` is IRI's wording where IRI had one); ``transaction`` is set for
    accepted and known items, so the caller can route coordinator transactions onwards.
    (A NamedTuple: ingest makes one per transaction, five times cheaper than a dataclass.)"""

    status: IngestStatus
    hash: str | None = None
    code: str | None = None
    message: str | None = None
    transaction: Transaction | None = None


class TransactionCache:
    """Parsed transactions by hash, oldest evicted first. Reading a stored transaction back
    costs ~25 us (unpack and parse); walks over a milestone's cone or a tips query read
    thousands, most of them just ingested or read by the previous query. Transactions never
    change, so a cached one is always right; a reader still checks that its own view holds the
    hash before using the cache, so no view sees a transaction stored after it was opened."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._capacity = capacity
        # An OrderedDict, not a dict: evicting a plain dict's first key scans every slot its
        # earlier evictions left empty (~70 us a put once the cache is full).
        self._items: OrderedDict[str, Transaction] = OrderedDict()

    def get(self, tx_hash: str) -> Transaction | None:
        return self._items.get(tx_hash)

    def put(self, tx: Transaction) -> None:
        items = self._items
        items[tx.hash] = tx
        if len(items) > self._capacity:
            # Several threads may evict at once; losing a race only evicts one more entry.
            with contextlib.suppress(KeyError):
                items.popitem(last=False)


class StoreReader:
    """Read access to the Tangle through one consistent read view (implements
    ``pyri.consensus.view.TangleReader``)."""

    def __init__(
        self, view: ReadView, config: TangleConfig, cache: TransactionCache | None = None
    ) -> None:
        self._view = view
        self._config = config
        self._cache = cache
        # Packing one hash into its key costs ~10 us, a hash in a batch ~0.5 us: callers that
        # know which hashes they will touch prime this cache in one call.
        self._keys: dict[str, HashKey] = {}
        # The stored solid entry points are the snapshot's: the null hash and, after a local
        # snapshot, possibly thousands. A walk asks "is this one?" for every tail; when there
        # are few they are read into a set on first use, so that the question costs no read.
        self._entry_point_count = view.count(schema.SOLID_ENTRY_POINTS)
        self._entry_points: frozenset[str] | None = None

    def prime(self, hashes: Iterable[str]) -> None:
        """Compute the storage keys of ``hashes`` in one batch for the lookups that follow."""
        wanted = [h for h in dict.fromkeys(hashes) if h not in self._keys]
        if wanted:
            self._keys.update(zip(wanted, schema.hash_keys(wanted), strict=True))

    def adopt_keys(self, pairs: Iterable[tuple[str, HashKey]]) -> None:
        """Take (hash, key) pairs the caller has packed already."""
        self._keys.update(pairs)

    def primed_keys(self) -> dict[str, HashKey]:
        return self._keys

    def key(self, tx_hash: str) -> HashKey:
        key = self._keys.get(tx_hash)
        if key is None:
            key = self._keys[tx_hash] = schema.hash_key(tx_hash)
        return key

    @property
    def view(self) -> ReadView:
        return self._view

    def transaction(self, tx_hash: str) -> Transaction | None:
        data = self._view.get(schema.TRANSACTIONS, self.key(tx_hash))
        if data is None:
            return None
        cache = self._cache
        if cache is not None:
            cached = cache.get(tx_hash)
            if cached is not None:
                return cached
        tx = parse_stored([schema.decode_transaction_trytes(data)], [tx_hash])[0]
        if cache is not None:
            cache.put(tx)
        return tx

    def trytes(self, hashes: Sequence[str]) -> list[str | None]:
        """The stored trytes of each hash, None where it is not stored."""
        keys = schema.hash_keys(hashes)
        found: list[str | None] = []
        for key in keys:
            data = self._view.get(schema.TRANSACTIONS, key)
            found.append(None if data is None else schema.decode_transaction_trytes(data))
        return found

    def meta(self, tx_hash: str) -> TxMeta | None:
        data = self._view.get(schema.TX_META, self.key(tx_hash))
        return None if data is None else TxMeta.decode(data)

    def snapshot_index(self, tx_hash: str) -> int:
        data = self._view.get(schema.TX_META, self.key(tx_hash))
        return 0 if data is None else schema.meta_snapshot_index(data)

    def is_stored(self, tx_hash: str) -> bool:
        return self._view.get(schema.TX_META, self.key(tx_hash)) is not None

    def is_solid_entry_point(self, tx_hash: str) -> bool:
        if self._config.is_solid_entry_point(tx_hash):
            return True
        if self._entry_point_count > _FEW_ENTRY_POINTS:
            return self._view.get(schema.SOLID_ENTRY_POINTS, self.key(tx_hash)) is not None
        return tx_hash in self._few_entry_points()

    def solid_entry_points_among(self, hashes: Sequence[str]) -> dict[str, bool]:
        """``is_solid_entry_point`` of each of ``hashes``, answered together."""
        wanted = set(hashes)
        found = wanted & self._config.solid_entry_points
        if NULL_HASH in wanted:
            found.add(NULL_HASH)
        if self._entry_point_count > _FEW_ENTRY_POINTS:
            stored = self._view.get_all(schema.SOLID_ENTRY_POINTS, [self.key(h) for h in hashes])
            found.update(h for h, data in zip(hashes, stored, strict=True) if data is not None)
        elif self._entry_point_count:
            found |= wanted & self._few_entry_points()
        answers = dict.fromkeys(hashes, False)
        answers.update(dict.fromkeys(found, True))
        return answers

    def _few_entry_points(self) -> frozenset[str]:
        if self._entry_points is None:
            keys = [key for key, _ in self._view.iterate(schema.SOLID_ENTRY_POINTS)]
            self._entry_points = frozenset(schema.hashes_from_keys(keys))
        return self._entry_points

    def is_solid(self, tx_hash: str) -> bool:
        return is_solid(self, tx_hash)

    def cached_verdict(self, tail_hash: str) -> BundleVerdict | None:
        data = self._view.get(schema.BUNDLE_VERDICTS, self.key(tail_hash))
        return None if data is None else BundleVerdict.decode(data)

    def cached_verdicts(self, tail_hashes: Iterable[str]) -> dict[str, BundleVerdict | None]:
        """``cached_verdict`` of many tails, decoded together."""
        hashes = list(tail_hashes)
        found = self._view.get_all(schema.BUNDLE_VERDICTS, [self.key(h) for h in hashes])
        stored = [(h, data) for h, data in zip(hashes, found, strict=True) if data is not None]
        decoded = decode_verdicts([data for _, data in stored], schema.hashes_from_keys)
        verdicts: dict[str, BundleVerdict | None] = dict.fromkeys(hashes)
        verdicts.update(zip([h for h, _ in stored], decoded, strict=True))
        return verdicts

    def links(self, tx_hash: str) -> TxLinks | None:
        cache = self._cache
        cached = cache.get(tx_hash) if cache is not None else None
        if cached is not None:
            # Metadata exists exactly for stored transactions, and is cheaper to read.
            return links_of(cached) if self.is_stored(tx_hash) else None
        data = self._view.get(schema.TRANSACTIONS, self.key(tx_hash))
        if data is None:
            return None
        trunks, branches, current, last = schema.decode_links([data])
        trunk, branch = schema.hashes_from_keys([trunks[0], branches[0]])
        return (trunk, branch, current[0], last[0])

    def read_cone(
        self, starts: Iterable[str], confirmed_up_to: int, *, limit: int = 100_000
    ) -> Prefetched:
        """Read ahead, in bulk, what a balance walk (``confirmation.balance_diff``) from
        ``starts`` will ask: the links of every transaction it can reach, and the snapshot
        indexes, cached verdicts and solid-entry-point answers of the tails among them. For
        ``MemoReader.preload``.

        One transaction at a time, a walk pays a key conversion, a read and a parse per
        transaction (~90 us). Here the cone is read breadth-first a level at a time in key
        space: the records of a whole level in one call, their links in one compiled pass, the
        metadata of the level's tails in one call, and all hashes converted to text together
        at the end.

        The cone is expanded as the walk expands it: through every non-tail (``find_tails``
        passes through them, confirmed or not) and through every tail that is not confirmed at
        or below ``confirmed_up_to`` (the walk neither counts nor expands those). Solid entry
        points and the tails a walk skips as already visited are expanded all the same, and
        reading stops after ``limit`` transactions: what is read is a superset of, or a start
        on, what the walk asks, and the walk reads anything else itself. So this only changes
        how fast the walk runs, never what it finds.
        """
        get_all = self._view.get_all
        try:
            frontier = schema.hash_keys(list(dict.fromkeys(starts)))
        except TrinaryError:
            return Prefetched()  # not hashes: the walk answers for them
        seen: set[bytes] = set(frontier)
        # What was read, as parallel lists: key, trunk key, branch key, currentIndex, lastIndex.
        keys: list[HashKey] = []
        trunks: list[HashKey] = []
        branches: list[HashKey] = []
        currents: list[int] = []
        lasts: list[int] = []
        absent: list[HashKey] = []
        indexes: dict[HashKey, int] = {}
        open_tails: list[HashKey] = []
        closed: list[HashKey] = []  # approvees of the confirmed tails: not in `seen`
        while frontier and len(keys) < limit:
            frontier = frontier[: limit - len(keys)]
            found = get_all(schema.TRANSACTIONS, frontier)
            present = frontier
            if None in found:
                pairs = list(zip(frontier, found, strict=True))
                present = [key for key, data in pairs if data is not None]
                absent += [key for key, data in pairs if data is None]
            records = [data for data in found if data is not None]
            level_trunks, level_branches, level_currents, level_lasts = schema.decode_links(records)
            keys += present
            trunks += level_trunks
            branches += level_branches
            currents += level_currents
            lasts += level_lasts
            level_tails = [key for key, i in zip(present, level_currents, strict=True) if i == 0]
            metas = get_all(schema.TX_META, level_tails)
            indexes.update(zip(level_tails, schema.meta_snapshot_indexes(metas), strict=True))
            following: list[HashKey] = []
            for key, trunk, branch, current in zip(
                present, level_trunks, level_branches, level_currents, strict=True
            ):
                if current == 0:
                    if 0 < indexes[key] <= confirmed_up_to:
                        closed += (trunk, branch)
                        continue  # confirmed: the walk stops at this tail
                    open_tails.append(key)
                if trunk not in seen:
                    seen.add(trunk)
                    following.append(trunk)
                if branch not in seen:
                    seen.add(branch)
                    following.append(branch)
            frontier = following

        # Every hash as text, in one conversion.
        wanted = list(seen.union(closed))
        text = dict(zip(wanted, schema.hashes_from_keys(wanted), strict=True)).__getitem__
        links: dict[str, TxLinks | None] = dict(
            zip(
                map(text, keys),
                zip(map(text, trunks), map(text, branches), currents, lasts, strict=True),
                strict=True,
            )
        )
        links.update(dict.fromkeys(map(text, absent), None))
        tails = list(map(text, indexes))  # every tail read; the open ones are walked into
        self._keys.update(zip(tails, indexes, strict=True))
        return Prefetched(
            links=links,
            snapshot_indexes=dict(zip(tails, indexes.values(), strict=True)),
            verdicts=self.cached_verdicts(map(text, open_tails)),
            entry_points=self.solid_entry_points_among(tails),
        )

    def approvers(self, tx_hash: str) -> list[str]:
        return self._indexed(schema.APPROVERS, self.key(tx_hash))

    def tips(self) -> list[str]:
        return schema.hashes_from_keys([key for key, _ in self._view.iterate(schema.TIPS)])

    def missing(self) -> list[str]:
        return schema.hashes_from_keys([key for key, _ in self._view.iterate(schema.MISSING)])

    def find_by_address(self, address: str) -> list[str]:
        return self._indexed(schema.ADDRESS_INDEX, self.key(address))

    def find_by_bundle(self, bundle: str) -> list[str]:
        return self._indexed(schema.BUNDLE_INDEX, self.key(bundle))

    def find_by_tag(self, tag: str) -> list[str]:
        return self._indexed(schema.TAG_INDEX, schema.tag_key(tag))

    def find_by_obsolete_tag(self, tag: str) -> list[str]:
        return self._indexed(schema.OBSOLETE_TAG_INDEX, schema.tag_key(tag))

    def count_transactions(self) -> int:
        return self._view.count(schema.TRANSACTIONS)

    def _indexed(self, bucket: str, prefix: bytes) -> list[str]:
        keys = [schema.indexed_hash(key) for key, _ in self._view.iterate(bucket, prefix=prefix)]
        return schema.hashes_from_keys(keys)


@dataclass(slots=True)
class _Pending:
    """One batch's changes, computed before anything is written."""

    new: dict[str, Transaction] = field(default_factory=dict)
    metas: dict[str, TxMeta] = field(default_factory=dict)
    # approvee -> approvers among the new transactions
    new_approvers: dict[str, list[str]] = field(default_factory=dict)
    tips_added: set[str] = field(default_factory=set)
    tips_removed: set[str] = field(default_factory=set)
    missing_added: set[str] = field(default_factory=set)
    missing_removed: set[str] = field(default_factory=set)
    # Only a transaction that was referenced before it arrived can have stored approvers.
    was_missing: set[str] = field(default_factory=set)
    # new transaction -> its entry in the batch's PackedTransactions
    rows: dict[str, int] = field(default_factory=dict)
    # stored metadata of the approvees stored before this batch (None: not stored)
    approvee_metas: dict[str, bytes | None] = field(default_factory=dict)
    # tails (new or stored before) that this batch makes solid, in the order it does
    solid_tails: list[str] = field(default_factory=list)


class Tangle:
    """The node's Tangle over a key-value engine. One writer at a time (a lock serialises
    ``ingest``); any number of readers, each with its own consistent view."""

    def __init__(
        self,
        engine: KVEngine,
        config: TangleConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self.config = config or TangleConfig()
        self._clock = clock
        self._write_lock = threading.Lock()
        self.cache = TransactionCache()

    @property
    def engine(self) -> KVEngine:
        return self._engine

    @property
    def write_lock(self) -> threading.Lock:
        """The node's single-writer lock: ingest and the ledger plan against a read view and
        then write, and must not interleave."""
        return self._write_lock

    @contextmanager
    def read(self) -> Iterator[StoreReader]:
        with self._engine.read() as view:
            yield StoreReader(view, self.config, self.cache)

    def ingest(
        self, items: Sequence[object], *, on_solid_tails: SolidTailsListener | None = None
    ) -> list[IngestResult]:
        """Parse, validate and store a batch of transaction trytes; one result per item, in
        order: ACCEPTED (newly stored), KNOWN (already stored, a solid entry point, or earlier
        in this batch) or REJECTED with the reason. ``on_solid_tails`` hears of the tails the
        batch made solid (``SolidTailsListener``)."""
        batch = parse_batch_matrices(items)
        return self.ingest_parsed(batch.items, batch, on_solid_tails=on_solid_tails)

    def ingest_parsed(
        self,
        parsed: Sequence[Transaction | TrinaryError],
        source: ParsedBatch | None = None,
        *,
        on_solid_tails: SolidTailsListener | None = None,
    ) -> list[IngestResult]:
        """``ingest`` for a batch the caller has parsed (and hashed) already. ``source``, the
        ParsedBatch the transactions come from, lets their fields be packed from its trits."""
        now_ms = int(self._clock() * 1000)
        results: list[IngestResult | None] = [None] * len(parsed)
        candidates: list[tuple[int, Transaction]] = []
        for position, item in enumerate(parsed):
            if isinstance(item, TrinaryError):
                results[position] = IngestResult(
                    IngestStatus.REJECTED, code="invalid_trytes", message=str(item)
                )
                continue
            problem = check_transaction(
                item,
                mwm=self.config.mwm,
                snapshot_timestamp_s=self.config.snapshot_timestamp_s,
                now_ms=now_ms,
                solid_entry_points=self.config.solid_entry_points,
            )
            if problem is not None:
                results[position] = IngestResult(
                    IngestStatus.REJECTED, item.hash, problem.code, str(problem), item
                )
            else:
                candidates.append((position, item))
        stored = self.store(
            [tx for _, tx in candidates],
            now_ms=now_ms,
            source=source,
            on_solid_tails=on_solid_tails,
        )
        for (position, _), result in zip(candidates, stored, strict=True):
            results[position] = result
        return [result for result in results if result is not None]

    def store(
        self,
        transactions: Sequence[Transaction],
        now_ms: int | None = None,
        source: ParsedBatch | None = None,
        *,
        on_solid_tails: SolidTailsListener | None = None,
    ) -> list[IngestResult]:
        """Store already validated transactions in one atomic write (``source`` and
        ``on_solid_tails`` as for ``ingest_parsed``)."""
        arrival = int(self._clock() * 1000) if now_ms is None else now_ms
        packed = _pack(transactions, source)
        with self._write_lock:
            with self._engine.read() as view:
                reader = StoreReader(view, self.config, self.cache)
                pending, results = self._plan(reader, transactions, arrival, packed)
            if pending.new or pending.metas:
                self._commit(pending, reader, packed, arrival)
                for tx in pending.new.values():
                    self.cache.put(tx)
                if on_solid_tails is not None and pending.solid_tails:
                    on_solid_tails(pending.solid_tails)
        return results

    # --- planning -------------------------------------------------------------------------

    def _plan(
        self,
        reader: StoreReader,
        transactions: Sequence[Transaction],
        arrival_ms: int,
        packed: schema.PackedTransactions,
    ) -> tuple[_Pending, list[IngestResult]]:
        pending = _Pending()
        results: list[IngestResult] = []
        config = self.config
        hashes = [tx.hash for tx in transactions]
        for values, keys in (
            (hashes, packed.hashes),
            ([tx.trunk_transaction for tx in transactions], packed.trunks),
            ([tx.branch_transaction for tx in transactions], packed.branches),
            ([tx.address for tx in transactions], packed.addresses),
            ([tx.bundle for tx in transactions], packed.bundles),
        ):
            reader.adopt_keys(zip(values, keys, strict=True))
        # Metadata exists exactly for stored transactions.
        stored = reader.view.get_all(schema.TX_META, packed.hashes)
        fresh = TxMeta(arrival_ms=arrival_ms)  # immutable: one for every new transaction
        for row, (tx, meta) in enumerate(zip(transactions, stored, strict=True)):
            if meta is not None or tx.hash in pending.new or config.is_solid_entry_point(tx.hash):
                results.append(IngestResult(IngestStatus.KNOWN, tx.hash, transaction=tx))
                continue
            pending.new[tx.hash] = tx
            pending.rows[tx.hash] = row
            pending.metas[tx.hash] = fresh
            results.append(IngestResult(IngestStatus.ACCEPTED, tx.hash, transaction=tx))
        if not pending.new:
            return pending, results

        for tx in pending.new.values():
            for approvee in {tx.trunk_transaction, tx.branch_transaction}:
                pending.new_approvers.setdefault(approvee, []).append(tx.hash)
        self._plan_tips_and_missing(reader, pending)
        self._plan_solidity(reader, pending)
        return pending, results

    def _plan_tips_and_missing(self, reader: StoreReader, pending: _Pending) -> None:
        view = reader.view
        key = reader.primed_keys().__getitem__  # every hash here was primed by _plan
        new = list(pending.new)
        # A transaction someone already referenced is in `missing`: it arrives approved.
        missing_now = view.get_all(schema.MISSING, [key(h) for h in new])
        for tx_hash, missing in zip(new, missing_now, strict=True):
            if missing is not None:
                pending.was_missing.add(tx_hash)
                pending.missing_removed.add(tx_hash)
            elif tx_hash not in pending.new_approvers:
                pending.tips_added.add(tx_hash)
        earlier = [
            approvee
            for approvee in pending.new_approvers
            if approvee not in pending.new and not reader.is_solid_entry_point(approvee)
        ]
        keys = [key(approvee) for approvee in earlier]
        metas = view.get_all(schema.TX_META, keys)
        tips = view.get_all(schema.TIPS, keys)
        for approvee, meta, tip in zip(earlier, metas, tips, strict=True):
            # Kept for _plan_solidity, which asks whether each approvee is solid.
            pending.approvee_metas[approvee] = meta
            if meta is None:
                pending.missing_added.add(approvee)
            elif tip is not None:
                pending.tips_removed.add(approvee)

    def _plan_solidity(self, reader: StoreReader, pending: _Pending) -> None:
        view = reader.view
        # Solidity of transactions stored before this batch, looked up once each: most
        # approvees are shared by many of the batch's transactions.
        known: dict[str, bool] = {}
        # Most metadata records of a batch are equal; each distinct one is made solid once.
        solid_of: dict[TxMeta, TxMeta] = {}

        def solidified(meta: TxMeta) -> TxMeta:
            made = solid_of.get(meta)
            if made is None:
                made = solid_of[meta] = _with_solid(meta)
            return made

        def solid(tx_hash: str) -> bool:
            meta = pending.metas.get(tx_hash)
            if meta is not None:
                return meta.solid
            cached = known.get(tx_hash)
            if cached is None:
                if reader.is_solid_entry_point(tx_hash):
                    cached = True
                else:
                    if tx_hash in pending.approvee_metas:
                        data = pending.approvee_metas[tx_hash]
                    else:
                        data = view.get(schema.TX_META, reader.key(tx_hash))
                    cached = data is not None and TxMeta.solid_in(data)
                known[tx_hash] = cached
            return cached

        def approvers(tx_hash: str) -> list[str]:
            stored = (
                []
                if tx_hash in pending.new and tx_hash not in pending.was_missing
                else (reader.approvers(tx_hash))
            )
            return stored + pending.new_approvers.get(tx_hash, [])

        queue: deque[str] = deque()
        solid_tails = pending.solid_tails
        for tx in pending.new.values():
            if solid(tx.trunk_transaction) and solid(tx.branch_transaction):
                pending.metas[tx.hash] = solidified(pending.metas[tx.hash])
                queue.append(tx.hash)
                if tx.current_index == 0:
                    solid_tails.append(tx.hash)
        # Each newly solid transaction may complete the cone of its approvers: those stored
        # earlier (from the store's approvers index) and those in this batch.
        while queue:
            for approver in approvers(queue.popleft()):
                if solid(approver):
                    continue
                approver_tx = pending.new.get(approver) or reader.transaction(approver)
                if approver_tx is None or not (
                    solid(approver_tx.trunk_transaction) and solid(approver_tx.branch_transaction)
                ):
                    continue
                meta = pending.metas.get(approver) or reader.meta(approver)
                if meta is None:
                    continue
                pending.metas[approver] = solidified(meta)
                queue.append(approver)
                if approver_tx.current_index == 0:
                    solid_tails.append(approver)

    # --- writing ----------------------------------------------------------------------------

    def _commit(
        self,
        pending: _Pending,
        reader: StoreReader,
        packed: schema.PackedTransactions,
        arrival_ms: int,
    ) -> None:
        rows = list(pending.rows.values())
        # Every hash below was primed in _plan; plain dict indexing is the cheapest lookup.
        reader.prime(pending.metas)
        key = reader.primed_keys().__getitem__
        records = [packed.records[row] for row in rows]
        hashes = [packed.hashes[row] for row in rows]
        approvees: list[bytes] = []
        approvers: list[HashKey] = []
        for approvee, their_approvers in pending.new_approvers.items():
            for approver in their_approvers:
                approvees.append(key(approvee))
                approvers.append(key(approver))
        entries = schema.index_entries
        with self._engine.write() as batch:
            many = batch.put_many
            many(schema.TRANSACTIONS, list(zip(hashes, records, strict=True)))
            many(schema.ADDRESS_INDEX, entries([packed.addresses[r] for r in rows], hashes))
            many(schema.BUNDLE_INDEX, entries([packed.bundles[r] for r in rows], hashes))
            tag_entries = schema.tag_index_entries
            many(schema.TAG_INDEX, tag_entries([packed.tags[r] for r in rows], arrival_ms, hashes))
            obsolete_tags = [packed.obsolete_tags[r] for r in rows]
            many(schema.OBSOLETE_TAG_INDEX, tag_entries(obsolete_tags, arrival_ms, hashes))
            many(schema.APPROVERS, entries(approvees, approvers))
            # Most records of a batch are equal (same arrival time, solid or not): encode each
            # distinct one once.
            encoded: dict[TxMeta, bytes] = {}
            metas = []
            for tx_hash, meta in pending.metas.items():
                record = encoded.get(meta)
                if record is None:
                    record = encoded[meta] = meta.encode()
                metas.append((key(tx_hash), record))
            many(schema.TX_META, metas)
            many(schema.TIPS, [(key(h), _EMPTY) for h in pending.tips_added])
            many(schema.MISSING, [(key(h), _EMPTY) for h in pending.missing_added])
            for tx_hash in pending.tips_removed:
                batch.delete(schema.TIPS, key(tx_hash))
            for tx_hash in pending.missing_removed:
                batch.delete(schema.MISSING, key(tx_hash))


def _pack(
    transactions: Sequence[Transaction], source: ParsedBatch | None
) -> schema.PackedTransactions:
    """The stored form and index keys of ``transactions``: from ``source``'s trits when they
    all come from it, from their trytes otherwise."""
    rows = source.rows_of(transactions) if source is not None else None
    if source is None or rows is None:
        return schema.pack_transaction_trytes(
            [tx.trytes for tx in transactions], [tx.hash for tx in transactions]
        )
    first = rows[0] if rows else 0
    if rows == list(range(first, first + len(rows))):
        # The usual case, a run of rows: a slice, not a copy of the matrix.
        run = slice(first, first + len(rows))
        return schema.pack_transactions(source.trits[run], source.hash_trits[run])
    return schema.pack_transactions(source.trits[rows], source.hash_trits[rows])


def _with_solid(meta: TxMeta) -> TxMeta:
    return TxMeta(
        solid=True,
        validity=meta.validity,
        snapshot_index=meta.snapshot_index,
        arrival_ms=meta.arrival_ms,
        milestone=meta.milestone,
    )
