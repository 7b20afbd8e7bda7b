"""The tangles the end-to-end tests load into a real node, and the ledgers they must give.

Everything is built in memory with the consensus test builders (real WOTS signatures, real
signed milestones of a small Curl-P-27 coordinator, no proof of work, so the node runs with
``--mwm 0``) and only then sent to the node over HTTP. The expected ledger after each milestone
is computed here by replaying the confirmed bundles on the snapshot, independently of the node.

``main_scenario()``: three applied milestones with confirmed transfers, then unconfirmed valid
transfers, a double spend, an invalid bundle, a tip over it, a transaction whose trunk is
missing and a fourth milestone that stays unsolid because of it.

``milestone_stream()``: a chain of transfers, each confirmed by its own milestone, for the
tests that apply milestones while they read, restart or crash the node.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Final

from pyri.consensus.snapshot_files import SnapshotState, write_global_snapshot
from pyri.crypto.sponge import SpongeMode
from pyri.model.bundle import SUPPLY
from pyri.model.transaction import ESSENCE, Transaction, parse_batch
from pyri.trinary import NULL_HASH
from tests.consensus.milestone_builder import (
    CoordinatorKeys,
    build_milestone,
    bundle_hash,
    transaction_trytes,
)
from tests.consensus.tangle_builder import Bundle, TangleBuilder

COORDINATOR_SEED: Final = "PYRIEETESTCOORDINATOR".ljust(81, "9")
COORDINATOR_DEPTH: Final = 5  # 32 keys: milestones 1 to 31
COORDINATOR_SECURITY: Final = 1
COORDINATOR_MODE: Final = SpongeMode.CURLP27
TREE_ADDRESS: Final = "PYRIEETREE".ljust(81, "9")
UPPER_BOUND: Final = (3**27 - 1) // 2
MISSING_HASH: Final = "PYRIEEMISSINGTRUNK".ljust(81, "9")
UNKNOWN_HASH: Final = "PYRIEEUNKNOWNTRANSACTION".ljust(81, "9")
MESSAGE_ADDRESS: Final = "PYRIEEMESSAGEADDRESS".ljust(81, "9")
TAG: Final = "PYRIEETAG"
MANY_TAG: Final = "PYRIEEMANY"
MANY_MESSAGES: Final = 6  # one more than the main node's --max-find-transactions


@cache
def coordinator() -> CoordinatorKeys:
    return CoordinatorKeys.generate(
        COORDINATOR_SEED, COORDINATOR_DEPTH, COORDINATOR_SECURITY, COORDINATOR_MODE
    )


def node_flags(snapshot: Path) -> list[str]:
    """The ``pyri run`` flags for a testnet of this coordinator, starting from ``snapshot``."""
    keys = coordinator()
    return [
        "--testnet",
        "--mwm",
        "0",
        "--snapshot",
        str(snapshot),
        "--snapshot-timestamp",
        "0",
        "--milestone-start",
        "0",
        "--testnet-coordinator",
        keys.root,
        "--testnet-coordinator-security-level",
        str(keys.security),
        "--testnet-coordinator-signature-mode",
        keys.mode.value,
        "--milestone-keys",
        str(keys.depth),
    ]


def write_snapshot(balances: Mapping[str, int], path: Path, filler: str) -> None:
    """A global snapshot file with ``balances``; ``filler`` holds the rest of the supply."""
    held = dict(balances)
    held[filler] = SUPPLY - sum(held.values())
    state = SnapshotState(
        balances=held,
        index=0,
        hash=NULL_HASH,
        timestamp=0,
        solid_entry_points={NULL_HASH: 0},
        seen_milestones={},
    )
    write_global_snapshot(state, path)


def head_first(*groups: Iterable[Transaction] | Bundle) -> list[Transaction]:
    """Transactions in approval order (each bundle head first), as a node should get them."""
    ordered: list[Transaction] = []
    for group in groups:
        items = group.transactions if isinstance(group, Bundle) else list(group)
        ordered.extend(reversed(list(items)))
    return ordered


def trytes_of(transactions: Iterable[Transaction]) -> list[str]:
    return [tx.trytes for tx in transactions]


def replay(
    snapshot: Mapping[str, int], confirmed: Sequence[Sequence[Bundle]]
) -> list[dict[str, int]]:
    """The ledger after each milestone: entry i is the ledger after milestone i (0 = snapshot),
    given the bundles each milestone confirms."""
    ledger = {address: value for address, value in snapshot.items() if value}
    total = sum(ledger.values())
    history = [dict(ledger)]
    for bundles in confirmed:
        for bundle in bundles:
            for tx in bundle.transactions:
                if tx.value:
                    ledger[tx.address] = ledger.get(tx.address, 0) + tx.value
        ledger = {address: value for address, value in ledger.items() if value}
        assert all(value > 0 for value in ledger.values())
        assert sum(ledger.values()) == total  # every confirmed bundle sums to zero
        history.append(dict(ledger))
    return history


def milestone_tail(milestone: Sequence[Transaction]) -> str:
    return milestone[0].hash


@dataclass
class Scenario:
    """A tangle to load, in batches, and what the node must answer about it."""

    builder: TangleBuilder
    snapshot: dict[str, int]  # without the filler
    filler: str
    batches: list[list[Transaction]]  # each head first, sent in this order
    ledgers: list[dict[str, int]]  # after milestone 0 (the snapshot), 1, 2, ...
    milestone_hashes: list[str]  # index -> tail hash; 0 -> NULL_HASH
    bundles: dict[str, Bundle] = field(default_factory=dict)
    milestones: dict[int, list[Transaction]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # name -> address

    @property
    def transactions(self) -> list[Transaction]:
        return [tx for batch in self.batches for tx in batch]

    @property
    def solid_index(self) -> int:
        return len(self.ledgers) - 1

    def address(self, name: str) -> str:
        return self.names[name]

    def balances(self, index: int, addresses: Sequence[str]) -> list[str]:
        """getBalances' answer (decimal strings) at milestone ``index``."""
        ledger = self.ledgers[index]
        return [str(ledger.get(address, 0)) for address in addresses]

    def write_snapshot(self, path: Path) -> None:
        write_snapshot(self.snapshot, path, self.filler)


def _addresses(builder: TangleBuilder, *names: str) -> dict[str, str]:
    """``alice`` is key 0 of seed alice, ``alice1`` its key 1, and so on."""
    result = {}
    for name in names:
        seed = name.rstrip("0123456789")
        index = int(name[len(seed) :] or 0)
        result[name] = builder.address(seed, index)
    return result


@cache
def main_scenario() -> Scenario:
    """The tangle of the main node; see the module docstring. Confirmed ledger:

    * snapshot: alice 1000, bob 500;
    * milestone 1: alice pays carol 300, the rest (700) to alice1;
    * milestone 2: bob pays dave 200, the rest (300) to bob1;
    * milestone 3: confirms a tagged message only.

    Unconfirmed: T3 carol pays erin 100 (rest 200 to carol1); T4a dave pays frank 200 and T4b
    dave pays gina 200 (a double spend of the same 200; T4b also approves T3); T2r and T4ar,
    reattachments of T2 (confirmed) and T4a; X alice1 pays hank 50 with a bad
    signature (invalid); W a message over X; Y a message whose trunk is missing; milestone 4
    approving Y (recorded, never solid); six messages tagged MANY_TAG.
    """
    b = TangleBuilder()
    keys = coordinator()
    names = _addresses(
        b,
        "alice",
        "alice1",
        "alice2",
        "bob",
        "bob1",
        "carol",
        "carol1",
        "dave",
        "erin",
        "frank",
        "gina",
        "hank",
        "filler",
    )
    a = names
    snapshot = {a["alice"]: 1000, a["bob"]: 500}
    bundles: dict[str, Bundle] = {}
    t1 = b.transfer("alice", "carol", 300, input_value=1000, remainder_to=a["alice1"], store=False)
    m1 = build_milestone(keys, 1, trunk=t1.tail_hash, branch=t1.tail_hash)
    t2 = b.transfer(
        "bob",
        "dave",
        200,
        input_value=500,
        remainder_to=a["bob1"],
        trunk=m1[0].hash,
        branch=m1[0].hash,
        store=False,
    )
    m2 = build_milestone(keys, 2, trunk=t2.tail_hash, branch=m1[0].hash)
    tagged = b.message(
        "PYRIEEMESSAGE",
        address=MESSAGE_ADDRESS,
        trunk=m2[0].hash,
        branch=t2.tail_hash,
        tag=TAG,
        store=False,
    )
    m3 = build_milestone(keys, 3, trunk=tagged.tail_hash, branch=m2[0].hash)
    top = m3[0].hash
    t3 = b.transfer(
        "carol",
        "erin",
        100,
        input_value=300,
        remainder_to=a["carol1"],
        trunk=top,
        branch=top,
        store=False,
    )
    t4a = b.transfer("dave", "frank", 200, trunk=top, branch=top, store=False)
    t4b = b.transfer("dave", "gina", 200, trunk=top, branch=t3.tail_hash, store=False)
    x = b.transfer(
        "alice",
        "hank",
        50,
        index=1,
        input_value=700,
        remainder_to=a["alice2"],
        sign_with_index=99,
        trunk=top,
        branch=top,
        store=False,
    )
    # Reattachments: of a confirmed transfer (spends bob's 500 again), and of an unconfirmed one.
    t2r = b.reattach(t2, top, top, store=False)
    t4ar = b.reattach(t4a, top, top, store=False)
    w = b.message(trunk=x.tail_hash, branch=x.tail_hash, store=False)
    y = b.message(trunk=MISSING_HASH, branch=top, store=False)
    m4 = build_milestone(keys, 4, trunk=y.tail_hash, branch=top)
    many = [b.message(trunk=top, branch=top, tag=MANY_TAG, store=False) for _ in range(6)]
    bundles.update(
        t1=t1, t2=t2, tagged=tagged, t3=t3, t4a=t4a, t4b=t4b, t2r=t2r, t4ar=t4ar, x=x, w=w, y=y
    )
    for i, message in enumerate(many):
        bundles[f"many{i}"] = message
    batches = [
        head_first(t1),
        head_first(m1),
        head_first(t2, m2),
        head_first(tagged, m3),
        head_first(t3, t4a, t4b, t2r, t4ar),
        head_first(x, w),
        head_first(y, m4),
        head_first(*many),
    ]
    ledgers = replay(snapshot, [[t1], [t2], []])
    return Scenario(
        builder=b,
        snapshot=snapshot,
        filler=a["filler"],
        batches=batches,
        ledgers=_with_filler(ledgers, a["filler"]),
        milestone_hashes=[NULL_HASH, m1[0].hash, m2[0].hash, m3[0].hash],
        bundles=bundles,
        milestones={1: m1, 2: m2, 3: m3, 4: m4},
        names=names,
    )


def _with_filler(ledgers: list[dict[str, int]], filler: str) -> list[dict[str, int]]:
    """``replay`` works on the balances without the filler; put it back in."""
    result = []
    for ledger in ledgers:
        full = dict(ledger)
        full[filler] = SUPPLY - sum(ledger.values())
        result.append(full)
    return result


@dataclass
class Stream:
    """Transfers T1..Tn, each confirmed by milestone Mi (trunk Ti, branch M(i-1))."""

    scenario: Scenario
    transfers: list[Bundle]
    milestones: list[list[Transaction]]  # milestones[i - 1] is Mi, tail first

    @property
    def length(self) -> int:
        return len(self.transfers)

    @property
    def addresses(self) -> list[str]:
        return list(self.scenario.names.values())


STREAM_LENGTH: Final = 24
STREAM_PAYEES: Final = ("paul", "pete", "pam")


@cache
def milestone_stream() -> Stream:
    """sara holds 100000; transfer i sends 7 * i from sara's key i - 1 to a payee and the rest
    to sara's key i; milestone i confirms it."""
    b = TangleBuilder()
    keys = coordinator()
    names = {f"sara{i}": b.address("sara", i) for i in range(STREAM_LENGTH + 1)}
    names.update({payee: b.address(payee) for payee in STREAM_PAYEES})
    names["filler"] = b.address("streamfiller")
    snapshot = {names["sara0"]: 100_000}
    held = 100_000
    transfers: list[Bundle] = []
    milestones: list[list[Transaction]] = []
    previous = NULL_HASH
    for i in range(1, STREAM_LENGTH + 1):
        value = 7 * i
        transfer = b.transfer(
            "sara",
            STREAM_PAYEES[i % len(STREAM_PAYEES)],
            value,
            index=i - 1,
            input_value=held,
            remainder_to=names[f"sara{i}"],
            store=False,
        )
        held -= value
        milestone = build_milestone(keys, i, trunk=transfer.tail_hash, branch=previous)
        previous = milestone[0].hash
        transfers.append(transfer)
        milestones.append(milestone)
    ledgers = _with_filler(replay(snapshot, [[t] for t in transfers]), names["filler"])
    scenario = Scenario(
        builder=b,
        snapshot=snapshot,
        filler=names["filler"],
        batches=[head_first(t, m) for t, m in zip(transfers, milestones, strict=True)],
        ledgers=ledgers,
        milestone_hashes=[NULL_HASH, *(m[0].hash for m in milestones)],
        milestones={i + 1: m for i, m in enumerate(milestones)},
        names=names,
    )
    return Stream(scenario, transfers, milestones)


def message_tree(
    leaves: int, tag: str = "PYRIEETREE"
) -> tuple[Transaction, list[list[Transaction]]]:
    """A gate message (approving the null hash), ``leaves`` messages approving it, and a binary
    tree of messages over those, up to one root: ``layers[0]`` are the leaves, ``layers[-1]``
    is ``[root]``. Every transaction is a valid single-transaction zero-value bundle (they share
    one essence, hence one bundle hash); each layer is hashed in one batch."""
    fields: dict[str, str | int] = {
        "address": TREE_ADDRESS,
        "tag": tag,
        "obsoleteTag": tag,
        "timestamp": 1_600_000_000,
    }
    bundle = bundle_hash([transaction_trytes(**fields)[ESSENCE.trytes]])
    stamps = itertools.count(1)

    def layer(approvees: Sequence[tuple[str, str]]) -> list[Transaction]:
        parsed = parse_batch(
            [
                transaction_trytes(
                    **fields,
                    bundle=bundle,
                    trunkTransaction=trunk,
                    branchTransaction=branch,
                    attachmentTimestamp=next(stamps),
                    attachmentTimestampUpperBound=UPPER_BOUND,
                )
                for trunk, branch in approvees
            ]
        )
        assert all(isinstance(tx, Transaction) for tx in parsed)
        return [tx for tx in parsed if isinstance(tx, Transaction)]

    (gate,) = layer([(NULL_HASH, NULL_HASH)])
    layers = [layer([(gate.hash, gate.hash)] * leaves)]
    while len(layers[-1]) > 1:
        below = layers[-1]
        pairs = [
            (below[i].hash, below[min(i + 1, len(below) - 1)].hash) for i in range(0, len(below), 2)
        ]
        layers.append(layer(pairs))
    return gate, layers
