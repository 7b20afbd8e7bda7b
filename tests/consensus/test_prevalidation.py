"""Spare-time bundle validation: which verdicts may be cached ahead of any caller, the queue of
tails ingest makes solid, and the outcome neutrality rule (a milestone applied afterwards gives
exactly what it gives on a node that never prevalidated)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import pytest

from pyri.consensus.confirmation import judge_tail
from pyri.consensus.ledger import Ledger, initialize
from pyri.consensus.prevalidation import Chunk, Prevalidator, verdict_to_store
from pyri.consensus.snapshot_files import SnapshotState
from pyri.consensus.tangle import IngestStatus, Tangle, TangleConfig
from pyri.crypto.sponge import SpongeMode
from pyri.model.bundle import SUPPLY, BundleStatus, BundleVerdict, validate_from_tail
from pyri.model.transaction import Transaction
from pyri.storage import open_engine, schema
from pyri.storage.schema import TxMeta, Validity
from pyri.trinary import NULL_HASH
from tests.consensus.memory_reader import MemoryReader
from tests.consensus.milestone_builder import CoordinatorKeys, build_milestone
from tests.consensus.tangle_builder import Bundle, TangleBuilder, address_of

NOW = 1_700_000_000.0  # every node's clock: two nodes fed alike store alike
SEP = "SOLID9ENTRY9POINT".ljust(81, "9")
ELSEWHERE = "NOT9STORED9YET".ljust(81, "9")
ZERO_VALUE_VALID = BundleVerdict(BundleStatus.VALID, "valid")  # no value diff, nothing spent


@cache
def _keys() -> CoordinatorKeys:
    return CoordinatorKeys.generate("PYRI9PREVALIDATION".ljust(81, "9"), 2, 1, SpongeMode.CURLP27)


class Node:
    """A Tangle and a Ledger on an in-memory engine, fed as the writer feeds them; with
    ``prevalidate`` the tails ingest makes solid are queued for spare-time validation."""

    def __init__(self, prevalidate: bool = True) -> None:
        self.engine = open_engine(None)
        self.keys = _keys()
        self.coordinator = self.keys.config()
        # SEP, a solid entry point of the snapshot, lets a bundle approve something that is
        # solid but never stored (to break an extra rule without breaking solidity).
        config = TangleConfig(mwm=0, solid_entry_points=frozenset({NULL_HASH, SEP}))
        self.tangle = Tangle(self.engine, config, clock=lambda: NOW)
        initialize(
            self.tangle,
            self.coordinator,
            SnapshotState(
                balances={address_of("alice"): 100, address_of("zed"): SUPPLY - 100},
                index=0,
                hash=NULL_HASH,
                timestamp=0,
                solid_entry_points={NULL_HASH: 0, SEP: 0},
                seen_milestones={},
            ),
        )
        self.problems: list[str] = []
        self.ledger = Ledger(self.tangle, self.coordinator, report=self.problems.append)
        self.prevalidator = Prevalidator(self.tangle) if prevalidate else None

    def ingest(self, transactions: Iterable[Transaction]) -> None:
        listener = self.prevalidator.add if self.prevalidator is not None else None
        results = self.tangle.ingest([tx.trytes for tx in transactions], on_solid_tails=listener)
        assert all(r.status is not IngestStatus.REJECTED for r in results), results
        self.ledger.note(r.transaction for r in results if r.transaction is not None)

    def store(self, *bundles: Bundle) -> None:
        for bundle in bundles:
            self.ingest(reversed(bundle.transactions))

    def queued(self) -> int:
        return len(self.prevalidator) if self.prevalidator is not None else 0

    def run(self, max_tails: int = 1000) -> Chunk:
        assert self.prevalidator is not None
        return self.prevalidator.run_chunk(max_tails=max_tails, max_seconds=float("inf"))

    def issue(self, index: int, trunk: str, branch: str) -> None:
        milestone = build_milestone(self.keys, index, trunk=trunk, branch=branch)
        self.ingest(reversed(milestone))
        self.ledger.process()

    def cached(self, tail_hash: str) -> tuple[BundleVerdict | None, Validity | None]:
        with self.tangle.read() as reader:
            meta = reader.meta(tail_hash)
            return reader.cached_verdict(tail_hash), None if meta is None else meta.validity

    def dump(self) -> dict[str, list[tuple[bytes, bytes]]]:
        with self.engine.read() as view:
            return {bucket: list(view.iterate(bucket)) for bucket in self.engine.buckets}


def _plain(bundle: Bundle) -> BundleVerdict:
    """The verdict applying a milestone would judge and cache (no extra rules)."""
    lookup = {tx.hash: tx for tx in bundle.transactions}.get
    return validate_from_tail(bundle.tail, lookup)


@pytest.fixture
def builder() -> TangleBuilder:
    return TangleBuilder()


# --- which verdicts are written ------------------------------------------------------------------


def test_a_valid_value_bundle_gets_valid_written(builder: TangleBuilder) -> None:
    node = Node()
    pay = builder.transfer("alice", "bob", 100, store=False)
    node.store(pay)
    assert node.queued() == 1
    chunk = node.run()
    assert chunk.taken == 1
    expected = BundleVerdict(
        BundleStatus.VALID,
        "valid",
        value_diff={address_of("alice"): -100, address_of("bob"): 100},
        spent_addresses=(address_of("alice"),),
    )
    assert dict(chunk.written) == {pay.tail_hash: expected}
    assert expected == _plain(pay)
    assert node.cached(pay.tail_hash) == (expected, Validity.VALID)
    assert node.queued() == 0


def test_a_bad_signature_gets_invalid_written(builder: TangleBuilder) -> None:
    node = Node()
    forged = builder.invalid_bundle("alice", "bob", 100)
    node.store(forged)
    chunk = node.run()
    expected = BundleVerdict(BundleStatus.INVALID, "signature", 1)
    assert (chunk.taken, dict(chunk.written)) == (1, {forged.tail_hash: expected})
    assert expected == _plain(forged)
    assert node.cached(forged.tail_hash) == (expected, Validity.INVALID)


def test_a_bundle_failing_only_an_extra_rule_gets_nothing(builder: TangleBuilder) -> None:
    node = Node()
    # Attached so that §5.6 (b) fails: a non-head transaction's branch is not the head's trunk.
    crooked = builder.transfer("alice", "bob", 100, branch=SEP, extra_rules=False, store=False)
    lookup = {tx.hash: tx for tx in crooked.transactions}.get
    strict = validate_from_tail(crooked.tail, lookup, enforce_extra_rules=True)
    assert (strict.status, strict.reason, strict.index) == (
        BundleStatus.INVALID,
        "transaction_approval",
        0,
    )
    assert _plain(crooked).valid
    node.store(crooked)
    chunk = node.run()
    assert (chunk.taken, dict(chunk.written)) == (1, {})
    assert node.cached(crooked.tail_hash) == (None, Validity.UNKNOWN)


def test_an_extra_rule_failure_with_a_bad_signature_gets_the_plain_invalid(
    builder: TangleBuilder,
) -> None:
    node = Node()
    crooked = builder.transfer(
        "alice", "bob", 100, branch=SEP, extra_rules=False, sign_with_index=99, store=False
    )
    node.store(crooked)
    chunk = node.run()
    expected = BundleVerdict(BundleStatus.INVALID, "signature", 1)
    assert dict(chunk.written) == {crooked.tail_hash: expected}
    assert expected == _plain(crooked)


def test_a_zero_value_bundle_gets_valid_written(builder: TangleBuilder) -> None:
    node = Node()
    note = builder.message("HELLO", store=False)
    node.store(note)
    assert node.queued() == 1
    chunk = node.run()
    assert (chunk.taken, dict(chunk.written)) == (1, {note.tail_hash: ZERO_VALUE_VALID})
    assert _plain(note) == ZERO_VALUE_VALID
    assert node.cached(note.tail_hash) == (ZERO_VALUE_VALID, Validity.VALID)
    assert node.queued() == 0


def test_a_zero_value_bundle_of_several_transactions_gets_valid_written() -> None:
    node = Node()
    # A milestone's bundle: zero-value transactions (its signature, then its Merkle path).
    milestone = build_milestone(node.keys, 1, trunk=NULL_HASH, branch=NULL_HASH)
    assert len(milestone) == 2 and not any(tx.value for tx in milestone)
    node.ingest(reversed(milestone))  # not processed: nothing cached by its application
    chunk = node.run()
    assert (chunk.taken, dict(chunk.written)) == (1, {milestone[0].hash: ZERO_VALUE_VALID})
    assert node.cached(milestone[0].hash) == (ZERO_VALUE_VALID, Validity.VALID)


def test_a_zero_value_bundle_with_a_wrong_bundle_hash_gets_invalid_written(
    builder: TangleBuilder,
) -> None:
    node = Node()
    # Another address, another essence: the other message's bundle hash is not this one's.
    other = builder.message(address=address_of("carol"), store=False)
    forged = builder.message("HELLO", bundle_hash=other.bundle_hash, store=False)
    assert forged.bundle_hash != builder.message("HELLO", store=False).bundle_hash
    node.store(forged)
    chunk = node.run()
    expected = BundleVerdict(BundleStatus.INVALID, "bundle_hash", 0)
    assert (chunk.taken, dict(chunk.written)) == (1, {forged.tail_hash: expected})
    assert expected == _plain(forged)
    assert node.cached(forged.tail_hash) == (expected, Validity.INVALID)


def test_a_zero_value_bundle_failing_only_an_extra_rule_gets_nothing(
    builder: TangleBuilder,
) -> None:
    node = Node()
    pay = builder.transfer("alice", "bob", 100, store=False)
    # §5.6 (a) fails: the head approves a transaction that is not a tail.
    note = builder.message("HELLO", trunk=pay.transactions[1].hash, store=False)
    lookup = {tx.hash: tx for tx in (*pay.transactions, *note.transactions)}.get
    strict = validate_from_tail(note.tail, lookup, enforce_extra_rules=True)
    assert (strict.status, strict.reason, strict.index) == (
        BundleStatus.INVALID,
        "tail_approval",
        0,
    )
    assert _plain(note) == ZERO_VALUE_VALID
    node.store(pay, note)
    chunk = node.run()
    assert (chunk.taken, dict(chunk.written)) == (2, {pay.tail_hash: _plain(pay)})
    assert node.cached(note.tail_hash) == (None, Validity.UNKNOWN)


def test_an_incomplete_bundle_gets_nothing_until_completed(builder: TangleBuilder) -> None:
    node = Node()
    pay = builder.transfer("alice", "bob", 100, store=False)
    withheld = pay.transactions[1]
    node.ingest([pay.head, pay.tail])  # transaction 1 missing: the tail is not solid
    assert node.queued() == 0
    assert node.run() == Chunk()
    assert node.cached(pay.tail_hash) == (None, Validity.UNKNOWN)
    node.ingest([withheld])  # completes the cone: the tail becomes solid in this batch
    assert node.queued() == 1
    chunk = node.run()
    assert dict(chunk.written) == {pay.tail_hash: _plain(pay)}
    assert _plain(pay).valid


def test_an_existing_verdict_is_never_overwritten(builder: TangleBuilder) -> None:
    node = Node()
    pay = builder.transfer("alice", "bob", 100, store=False)
    node.store(pay)
    earlier = BundleVerdict(BundleStatus.INVALID, "bundle_hash", 0)  # whatever was there
    with node.engine.write() as batch:
        batch.put(schema.BUNDLE_VERDICTS, schema.hash_key(pay.tail_hash), earlier.encode())
    chunk = node.run()
    assert (chunk.taken, dict(chunk.written)) == (1, {})
    assert node.cached(pay.tail_hash) == (earlier, Validity.UNKNOWN)


def test_a_chunk_takes_at_most_its_size_and_writes_once(builder: TangleBuilder) -> None:
    node = Node()
    bundles = [builder.transfer(f"sender{k}", "bob", 1 + k, store=False) for k in range(5)]
    node.store(*bundles)
    assert node.queued() == 5
    first = node.run(max_tails=2)
    assert (first.taken, list(first.written)) == (2, [b.tail_hash for b in bundles[:2]])
    assert node.queued() == 3
    assert node.prevalidator is not None
    rest = node.prevalidator.run_all(max_tails=2, max_seconds=float("inf"))
    assert [c.taken for c in rest] == [2, 1]
    assert [t for c in [first, *rest] for t in c.written] == [b.tail_hash for b in bundles]


def test_a_full_queue_drops_tails() -> None:
    node = Node(prevalidate=False)
    prevalidator = Prevalidator(node.tangle, limit=2)
    prevalidator.add(["A" * 81, "B" * 81, "C" * 81])
    assert (len(prevalidator), prevalidator.dropped) == (2, 1)


# --- the pure judgement: settled answers only -----------------------------------------------------


def test_valid_is_written_only_when_the_heads_approvees_cannot_change() -> None:
    reader = MemoryReader()
    tangle = TangleBuilder(reader)
    # The head approves a transaction that is not stored: the tail-approval rule counts it as a
    # tail today, but it may arrive later as a non-tail and fail the rule.
    pay = tangle.transfer("alice", "bob", 100, trunk=ELSEWHERE)
    assert validate_from_tail(pay.tail, reader.transaction, enforce_extra_rules=True).valid
    assert verdict_to_store(reader, pay.tail_hash, never_stored=lambda h: h == NULL_HASH) is None
    # One that ingest never stores (a solid entry point of the snapshot) cannot arrive.
    settled = verdict_to_store(
        reader, pay.tail_hash, never_stored={NULL_HASH, ELSEWHERE}.__contains__
    )
    assert settled == _plain(pay)
    # A stored approvee is settled too.
    note = tangle.message()
    on_note = tangle.transfer("alice", "bob", 100, trunk=note.tail_hash)
    assert verdict_to_store(
        reader, on_note.tail_hash, never_stored=lambda h: h == NULL_HASH
    ) == _plain(on_note)
    # The same for a zero-value bundle.
    unsettled = tangle.message("LATER", branch=ELSEWHERE)
    assert _plain(unsettled) == ZERO_VALUE_VALID
    assert (
        verdict_to_store(reader, unsettled.tail_hash, never_stored=lambda h: h == NULL_HASH) is None
    )
    assert (
        verdict_to_store(
            reader, unsettled.tail_hash, never_stored={NULL_HASH, ELSEWHERE}.__contains__
        )
        == ZERO_VALUE_VALID
    )
    assert (
        verdict_to_store(reader, note.tail_hash, never_stored=lambda h: h == NULL_HASH)
        == ZERO_VALUE_VALID
    )


def test_a_chain_with_a_gap_or_a_non_tail_gets_nothing() -> None:
    reader = MemoryReader()
    tangle = TangleBuilder(reader)
    pay = tangle.transfer("alice", "bob", 100)
    reader.remove(pay.transactions[2].hash)

    def never_stored(tx_hash: str) -> bool:
        return tx_hash == NULL_HASH

    assert verdict_to_store(reader, pay.tail_hash, never_stored=never_stored) is None
    assert verdict_to_store(reader, pay.transactions[1].hash, never_stored=never_stored) is None
    assert verdict_to_store(reader, "9" * 80 + "A", never_stored=never_stored) is None


# --- neutrality: a milestone afterwards gives exactly the same ------------------------------------


def _judged(node: Node, tail_hash: str) -> tuple[BundleVerdict, BundleVerdict]:
    """What a caller with the extra rules (checkConsistency, getBalances with tips) and one
    without (milestone application) would judge now, through the cache."""
    with node.tangle.read() as reader:
        links = reader.links(tail_hash)
        assert links is not None
        strict, _ = judge_tail(reader, tail_hash, links, extra_rules=True)
        plain, _ = judge_tail(reader, tail_hash, links, extra_rules=False)
    return strict, plain


@pytest.mark.parametrize(
    "kind", ["valid", "bad signature", "extra rule only", "zero-value bad bundle hash"]
)
def test_a_milestone_after_prevalidation_gives_exactly_the_same(kind: str) -> None:
    def bundle_of(builder: TangleBuilder) -> Bundle:
        if kind == "valid":
            return builder.transfer(
                "alice", "bob", 60, input_value=100, remainder_to="carol", store=False
            )
        if kind == "bad signature":
            return builder.invalid_bundle("alice", "bob", 60)
        if kind == "extra rule only":
            return builder.transfer("alice", "bob", 100, branch=SEP, extra_rules=False, store=False)
        other = builder.message(address=address_of("carol"), store=False)
        return builder.message("FORGED", bundle_hash=other.bundle_hash, store=False)

    failing = kind in ("bad signature", "zero-value bad bundle hash")
    nodes = [Node(prevalidate=True), Node(prevalidate=False)]
    bundles: list[tuple[Bundle, Bundle]] = []
    written: dict[str, BundleVerdict] = {}
    judged: list[tuple[BundleVerdict, BundleVerdict]] = []
    for node in nodes:
        builder = TangleBuilder()  # the same bundles, hash for hash, for both nodes
        pay = bundle_of(builder)
        # A zero-value bundle on top: its VALID is cached ahead too.
        note = builder.message("SPARE", trunk=pay.tail_hash, branch=pay.tail_hash, store=False)
        bundles.append((pay, note))
        node.store(pay, note)
        if node.prevalidator is not None:
            written = dict(node.run().written)
        judged.append(_judged(node, pay.tail_hash))
        node.issue(1, note.tail_hash, note.tail_hash)
    pay, note = bundles[0]
    assert bundles[1][0].hashes == pay.hashes and bundles[1][1].hashes == note.hashes
    assert (
        written
        == {
            "valid": {pay.tail_hash: _plain(pay), note.tail_hash: ZERO_VALUE_VALID},
            "bad signature": {
                pay.tail_hash: BundleVerdict(BundleStatus.INVALID, "signature", 1),
                note.tail_hash: ZERO_VALUE_VALID,
            },
            "extra rule only": {note.tail_hash: ZERO_VALUE_VALID},
            "zero-value bad bundle hash": {
                pay.tail_hash: BundleVerdict(BundleStatus.INVALID, "bundle_hash", 0),
                note.tail_hash: ZERO_VALUE_VALID,
            },
        }[kind]
    )
    # Before the milestone, callers with and without the extra rules judge alike on both.
    assert judged[0] == judged[1]
    assert [v.status for v in judged[0]] == {
        "valid": [BundleStatus.VALID, BundleStatus.VALID],
        "bad signature": [BundleStatus.INVALID, BundleStatus.INVALID],
        "extra rule only": [BundleStatus.INVALID, BundleStatus.VALID],
        "zero-value bad bundle hash": [BundleStatus.INVALID, BundleStatus.INVALID],
    }[kind]
    # The milestone: the same outcome, the same report, the same database.
    assert [node.ledger.status().solid_index for node in nodes] == ([0, 0] if failing else [1, 1])
    assert nodes[0].problems == nodes[1].problems
    assert len(nodes[0].problems) == (1 if failing else 0)
    first, second = nodes[0].dump(), nodes[1].dump()
    if failing:
        # A milestone that fails writes nothing (the cone's verdicts included), so here the
        # node that prevalidated keeps more: the verdicts cached ahead, and their flags.
        flags = {pay.tail_hash: Validity.INVALID, note.tail_hash: Validity.VALID}
        for tail_hash, verdict in written.items():
            key = schema.hash_key(tail_hash)
            ahead = (key, verdict.encode())
            first[schema.BUNDLE_VERDICTS].remove(ahead)
            assert ahead not in second[schema.BUNDLE_VERDICTS]
            meta = TxMeta(solid=True, arrival_ms=int(NOW * 1000))
            flagged = TxMeta(solid=True, validity=flags[tail_hash], arrival_ms=int(NOW * 1000))
            first[schema.TX_META].remove((key, flagged.encode()))
            second[schema.TX_META].remove((key, meta.encode()))
    assert first == second
    if not failing:
        for node in nodes:
            assert node.cached(pay.tail_hash) == (_plain(pay), Validity.VALID)
            assert node.cached(note.tail_hash) == (ZERO_VALUE_VALID, Validity.VALID)


def test_prevalidation_sets_only_the_tails_flag(builder: TangleBuilder) -> None:
    node = Node()
    pay = builder.transfer("alice", "bob", 100, store=False)
    node.store(pay)
    node.run()
    node.issue(1, pay.tail_hash, pay.tail_hash)
    with node.tangle.read() as reader:
        metas = [reader.meta(h) for h in pay.hashes]
    arrival = int(NOW * 1000)
    assert metas == [
        TxMeta(solid=True, validity=Validity.VALID, snapshot_index=1, arrival_ms=arrival),
        TxMeta(solid=True, snapshot_index=1, arrival_ms=arrival),
        TxMeta(solid=True, snapshot_index=1, arrival_ms=arrival),
    ]
