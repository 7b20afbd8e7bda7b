"""The commands around getBalances over HTTP against a real ``pyri run`` (issue 5;
iri-api-reference §1-§2 and §4; design.md, differences 1, 5 and 6).

Most tests read the main node (``tangles.main_scenario()``). Tests that store transactions use
new ones approving the null hash only and record them in ``main_node.stored``, so that the
expectations of the other tests (tips, approvers) are computed from what was really stored.
Authentication and ``--remote-limit-api`` get a node of their own; requests from 127.0.0.2
stand for a remote caller, since the node trusts 127.0.0.1 (and ::1) only.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Iterator
from typing import Any, Final

import pytest

from pyri import __version__
from pyri.api.auth import iri_password_hash
from pyri.crypto.checksum import add_checksum
from pyri.model.transaction import Transaction
from pyri.trinary import NULL_HASH
from tests.consensus.milestone_builder import parse_one, transaction_trytes
from tests.consensus.tangle_builder import TangleBuilder
from tests.e2e.conftest import NodeFactory
from tests.e2e.node import REPO, ApiClient, LoadedNode, NodeProcess, assert_error, load
from tests.e2e.tangles import (
    MANY_MESSAGES,
    MANY_TAG,
    MISSING_HASH,
    TAG,
    UNKNOWN_HASH,
    coordinator,
    head_first,
    main_scenario,
    milestone_stream,
)

NOT_SYNCHRONIZED: Final = (
    "This operation cannot be executed: The subtangle has not been updated yet."
)
REMOTE: Final = "127.0.0.2"  # a loopback address the node does not trust
NODE_INFO_FIELDS: Final = [
    "appName",
    "appVersion",
    "jreAvailableProcessors",
    "jreFreeMemory",
    "jreVersion",
    "jreMaxMemory",
    "jreTotalMemory",
    "latestMilestone",
    "latestMilestoneIndex",
    "latestSolidSubtangleMilestone",
    "latestSolidSubtangleMilestoneIndex",
    "milestoneStartIndex",
    "lastSnapshottedMilestoneIndex",
    "neighbors",
    "packetsQueueSize",
    "time",
    "tips",
    "transactionsToRequest",
    "features",
    "coordinatorAddress",
    "dbSizeInBytes",
    "duration",
]


def tail(node: LoadedNode, name: str) -> str:
    return node.scenario.bundles[name].tail_hash


def stored_where(node: LoadedNode, **fields: str) -> set[str]:
    """Hashes of the stored transactions whose named properties have the given values."""
    return {
        tx.hash
        for tx in node.stored.values()
        if all(getattr(tx, name) == value for name, value in fields.items())
    }


def approvers(node: LoadedNode, tx_hash: str) -> set[str]:
    return {
        tx.hash
        for tx in node.stored.values()
        if tx_hash in (tx.trunk_transaction, tx.branch_transaction)
    }


_counter = iter(range(1, 1_000_000))


def message(tag: str, **fields: Any) -> Transaction:
    """A new zero-value transaction approving the null hash (no proof of work: MWM 0)."""
    values: dict[str, Any] = {
        "address": "PYRIEECOMMANDS".ljust(81, "9"),
        "tag": tag,
        "obsoleteTag": tag,
        "timestamp": 1_600_000_000,
        "attachmentTimestamp": next(_counter),
        "attachmentTimestampUpperBound": (3**27 - 1) // 2,
    }
    values.update(fields)
    return parse_one(transaction_trytes(**values))


# --- getNodeInfo, getNodeAPIConfiguration ----------------------------------------------------


def test_get_node_info(main_node: LoadedNode) -> None:
    s = main_node.scenario
    body = main_node.client.ok("getNodeInfo")
    assert list(body) == NODE_INFO_FIELDS
    strings = {"appName", "appVersion", "jreVersion", "coordinatorAddress"}
    hashes = {"latestMilestone", "latestSolidSubtangleMilestone", "coordinatorAddress"}
    for name, value in body.items():
        if name == "features":
            assert type(value) is list and all(type(f) is str for f in value)
        elif name in strings or name in hashes:
            assert type(value) is str, name
        else:
            assert type(value) is int, name
    for name in hashes:
        assert re.fullmatch("[9A-Z]{81}", body[name]), name
    assert body["appName"] == "pyri"
    assert body["appVersion"] == __version__
    assert body["jreAvailableProcessors"] == os.cpu_count()
    assert body["jreFreeMemory"] > 0 and body["jreMaxMemory"] >= body["jreFreeMemory"]
    assert body["jreTotalMemory"] > 0
    # Milestone 4 is recorded but not solid (its cone misses a transaction); 3 is applied.
    assert body["latestMilestone"] == s.milestones[4][0].hash
    assert body["latestMilestoneIndex"] == 4
    assert body["latestSolidSubtangleMilestone"] == s.milestone_hashes[3]
    assert body["latestSolidSubtangleMilestoneIndex"] == 3
    assert body["milestoneStartIndex"] == 1  # the lowest milestone in the database
    assert body["lastSnapshottedMilestoneIndex"] == 0
    assert body["neighbors"] == 0
    assert body["packetsQueueSize"] == 0
    assert abs(body["time"] - time.time() * 1000) < 60_000
    assert body["tips"] == len(main_node.client.ok("getTips")["hashes"])
    assert body["transactionsToRequest"] == 1  # MISSING_HASH
    assert body["features"] == ["testnet", "WereAddressesSpentFrom"]
    assert body["coordinatorAddress"] == coordinator().root
    assert body["dbSizeInBytes"] > 0


def test_get_node_api_configuration(main_node: LoadedNode) -> None:
    body = main_node.client.ok("getNodeAPIConfiguration")
    # maxFindTransactions comes from the ini file (-c), the rest are IRI's defaults.
    assert body == {
        "maxFindTransactions": 5,
        "maxRequestsList": 1000,
        "maxGetTrytes": 10000,
        "maxBodyLength": 1000000,
        "testNet": True,
        "milestoneStartIndex": 0,
        "duration": body["duration"],
    }
    assert list(body)[-1] == "duration"


# --- getTrytes ----------------------------------------------------------------------------------


def test_get_trytes(main_node: LoadedNode) -> None:
    s = main_node.scenario
    t3 = s.bundles["t3"].transactions
    hashes = [t3[0].hash, UNKNOWN_HASH, t3[2].hash, t3[0].hash, s.milestone_hashes[1]]
    body = main_node.client.ok("getTrytes", hashes=hashes)
    assert list(body) == ["trytes", "duration"]
    # Unknown hashes answer the all-zero transaction, never null (§4.9).
    assert body["trytes"] == [
        t3[0].trytes,
        "9" * 2673,
        t3[2].trytes,
        t3[0].trytes,
        s.milestones[1][0].trytes,
    ]
    assert main_node.client.ok("getTrytes", hashes=[])["trytes"] == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Invalid parameters: 'hashes' is required"),
        ({"hashes": None}, "Invalid hashes input: 'hashes' must be an array of strings, got null"),
        ({"hashes": ["A" * 80]}, "Invalid hashes input: hashes[0] must be 81 trytes long, got 80"),
        (
            {"hashes": [UNKNOWN_HASH, "a" * 81]},
            "Invalid hashes input: hashes[1] holds 'a' at position 0, which is not a tryte "
            "(9, A-Z)",
        ),
        (
            {"hashes": [UNKNOWN_HASH] * 1001},
            "Could not complete request: 'hashes' holds 1001 elements, more than the limit of "
            "1000 (--max-requests-list)",
        ),
    ],
)
def test_get_trytes_errors(main_node: LoadedNode, params: dict[str, Any], message: str) -> None:
    assert_error(main_node.client.call("getTrytes", **params), 400, message)


# --- findTransactions ---------------------------------------------------------------------------


def find(node: LoadedNode, **params: Any) -> set[str]:
    body = node.client.ok("findTransactions", **params)
    assert list(body) == ["hashes", "duration"]
    hashes: list[str] = body["hashes"]
    assert len(hashes) == len(set(hashes))
    return set(hashes)


def test_find_transactions_by_one_criterion(main_node: LoadedNode) -> None:
    s = main_node.scenario
    carol = s.address("carol")
    expected = stored_where(main_node, address=carol)
    assert len(expected) == 3  # milestone 1's output to carol, and T3's two input transactions
    assert find(main_node, addresses=[carol]) == expected
    assert find(main_node, addresses=[add_checksum(carol)]) == expected
    assert find(main_node, addresses=[carol, carol, add_checksum(carol)]) == expected
    assert find(main_node, addresses=[coordinator().root]) == stored_where(
        main_node, address=coordinator().root
    )
    t3 = s.bundles["t3"]
    assert find(main_node, bundles=[t3.bundle_hash]) == set(t3.hashes)
    assert find(main_node, tags=[TAG]) == {tail(main_node, "tagged")}
    assert find(main_node, tags=[TAG.ljust(27, "9")]) == {tail(main_node, "tagged")}
    assert find(main_node, tags=[TAG.ljust(81, "9")]) == {tail(main_node, "tagged")}
    # The direct approvers of T3's tail: the head of T4b only.
    assert find(main_node, approvees=[tail(main_node, "t3")]) == {s.bundles["t4b"].head.hash}
    assert find(main_node, addresses=[UNKNOWN_HASH]) == set()
    assert find(main_node, approvees=[UNKNOWN_HASH]) == set()


def test_find_transactions_intersects_criteria(main_node: LoadedNode) -> None:
    s = main_node.scenario
    carol = s.address("carol")
    t1, t3 = s.bundles["t1"], s.bundles["t3"]
    # Within a criterion the union, across criteria the intersection (§4.8).
    assert find(main_node, addresses=[carol], bundles=[t3.bundle_hash]) == {
        t3.transactions[1].hash,
        t3.transactions[2].hash,
    }
    assert find(main_node, addresses=[carol], bundles=[t1.bundle_hash, t3.bundle_hash]) == (
        stored_where(main_node, address=carol)
    )
    t4b_head = s.bundles["t4b"].head
    assert find(main_node, approvees=[tail(main_node, "t3")], addresses=[s.address("dave")]) == {
        t4b_head.hash
    }
    assert find(main_node, approvees=[tail(main_node, "t3")], addresses=[s.address("gina")]) == (
        set()
    )
    assert find(main_node, tags=[TAG], bundles=[t3.bundle_hash]) == set()
    tagged = s.bundles["tagged"]
    assert find(
        main_node,
        tags=[TAG],
        bundles=[tagged.bundle_hash],
        approvees=[s.milestone_hashes[2]],
        addresses=[tagged.tail.address],
    ) == {tagged.tail_hash}


def test_find_transactions_result_limit(main_node: LoadedNode) -> None:
    # --max-find-transactions is 5 on the main node (ini file).
    assert_error(
        main_node.client.call("findTransactions", tags=[MANY_TAG]),
        400,
        f"Could not complete request: {MANY_MESSAGES} transactions match, more than the limit "
        "of 5 (--max-find-transactions)",
    )
    top = main_node.scenario.milestone_hashes[3]
    count = len(approvers(main_node, top))
    assert count > 5
    assert_error(
        main_node.client.call("findTransactions", approvees=[top]),
        400,
        f"Could not complete request: {count} transactions match, more than the limit "
        "of 5 (--max-find-transactions)",
    )


def test_find_transactions_falls_back_to_obsolete_tags(main_node: LoadedNode) -> None:
    # IRI looks a tag up in the obsoleteTag field only when no transaction carries it as its
    # tag (§4.8).
    first = message("PYRIEEFIRSTTAG", obsoleteTag="PYRIEEOLDTAG")
    main_node.store([first])
    assert find(main_node, tags=["PYRIEEOLDTAG"]) == {first.hash}
    assert find(main_node, tags=["PYRIEEFIRSTTAG"]) == {first.hash}
    second = message("PYRIEEOLDTAG", obsoleteTag="PYRIEESECONDOLD")
    main_node.store([second])
    assert find(main_node, tags=["PYRIEEOLDTAG"]) == {second.hash}
    assert find(main_node, tags=["PYRIEEOLDTAG", "PYRIEESECONDOLD"]) == {second.hash}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {},
            "Invalid parameters: give at least one of 'bundles', 'addresses', 'tags', 'approvees'",
        ),
        (
            {"bundles": [NULL_HASH]},
            "Invalid bundles input: bundles[0] is the null hash (81 nines)",
        ),
        (
            {"addresses": [UNKNOWN_HASH, NULL_HASH]},
            "Invalid addresses input: addresses[1] is the null hash (81 nines)",
        ),
        (
            {"approvees": [NULL_HASH]},
            "Invalid approvees input: approvees[0] is the null hash (81 nines)",
        ),
        (
            {"bundles": "A" * 81},
            "Invalid bundles input: 'bundles' must be an array of strings, got a string",
        ),
        (
            {"addresses": ["A" * 80]},
            "Invalid addresses input: addresses[0] must be 81 trytes (or 90 with a checksum) "
            "long, got 80",
        ),
        ({"tags": ["999"]}, "Invalid tag input: tags[0] is empty or all nines"),
        ({"tags": [""]}, "Invalid tag input: tags[0] is empty or all nines"),
        ({"tags": [NULL_HASH]}, "Invalid tags input: tags[0] is the null hash (81 nines)"),
        (
            {"tags": ["abc"]},
            "Invalid tags input: tags[0] holds 'a' at position 0, which is not a tryte (9, A-Z)",
        ),
        (
            {"tags": ["A" * 28]},
            "Invalid tags input: tags[0] must be at most 27 trytes long (or padded with 9), got 28",
        ),
        (
            {"tags": ["A" * 82]},
            "Invalid tags input: tags[0] must be at most 27 trytes long, got 82",
        ),
        (
            {"tags": [1]},
            "Invalid tags input: tags[0] must be a string of at most 27 trytes, got a number",
        ),
    ],
)
def test_find_transactions_errors(
    main_node: LoadedNode, params: dict[str, Any], message: str
) -> None:
    assert_error(main_node.client.call("findTransactions", **params), 400, message)


# --- getInclusionStates, wereAddressesSpentFrom ------------------------------------------------


def test_get_inclusion_states(main_node: LoadedNode) -> None:
    s = main_node.scenario
    cases = [
        (tail(main_node, "t1"), True),
        (s.bundles["t1"].transactions[2].hash, True),
        (s.milestone_hashes[1], True),
        (tail(main_node, "tagged"), True),
        (s.milestone_hashes[3], True),
        (tail(main_node, "t3"), False),
        (tail(main_node, "t4a"), False),
        (tail(main_node, "x"), False),
        (tail(main_node, "y"), False),
        (s.milestones[4][0].hash, False),
        (UNKNOWN_HASH, False),
    ]
    transactions = [h for h, _ in cases]
    expected = [state for _, state in cases]
    # IRI 1.8.6: confirmed by a milestone; tips are not read (iota.js omits them, PyOTA sends).
    variants: list[dict[str, Any]] = [
        {},
        {"tips": []},
        {"tips": [tail(main_node, "t3")]},
        {"tips": "anything"},
    ]
    for tips in variants:
        body = main_node.client.ok("getInclusionStates", transactions=transactions, **tips)
        assert list(body) == ["states", "duration"]
        assert body["states"] == expected
    assert_error(
        main_node.client.call("getInclusionStates"),
        400,
        "Invalid parameters: 'transactions' is required",
    )
    assert_error(
        main_node.client.call("getInclusionStates", transactions=["A" * 82]),
        400,
        "Invalid transactions input: transactions[0] must be 81 trytes long, got 82",
    )


def test_were_addresses_spent_from(main_node: LoadedNode) -> None:
    s = main_node.scenario
    cases = [
        (s.address("alice"), True),  # input of T1, confirmed by milestone 1
        (s.address("bob"), True),  # input of T2, confirmed by milestone 2
        (add_checksum(s.address("alice")), True),
        (s.address("alice1"), False),  # input of the invalid bundle X only
        (s.address("erin"), False),
        (s.address("frank"), False),
        (s.filler, False),
        (UNKNOWN_HASH, False),
    ]
    body = main_node.client.ok("wereAddressesSpentFrom", addresses=[a for a, _ in cases])
    assert list(body) == ["states", "duration"]
    assert body["states"] == [state for _, state in cases]
    assert_error(
        main_node.client.call("wereAddressesSpentFrom"),
        400,
        "Invalid parameters: 'addresses' is required",
    )
    wrong = add_checksum(UNKNOWN_HASH)[:-1] + "9"
    if add_checksum(UNKNOWN_HASH) == wrong:
        wrong = wrong[:-1] + "A"
    assert_error(
        main_node.client.call("wereAddressesSpentFrom", addresses=[wrong]),
        400,
        f"Invalid addresses input: addresses[0] has an invalid checksum: {wrong}",
    )


# --- checkConsistency ----------------------------------------------------------------------------

INCONSISTENT_LEDGER: Final = (
    "tails are not consistent (would lead to inconsistent ledger state or below max depth)"
)


def check(node: LoadedNode, *tails: str) -> dict[str, Any]:
    body = node.client.ok("checkConsistency", tails=list(tails))
    assert list(body) == ["state", "info", "duration"]
    del body["duration"]
    return body


def test_check_consistency(main_node: LoadedNode) -> None:
    s = main_node.scenario
    ok = {"state": True, "info": ""}
    assert check(main_node, tail(main_node, "t3")) == ok
    assert check(main_node, tail(main_node, "t3"), tail(main_node, "t4a")) == ok
    assert check(main_node, tail(main_node, "t4b")) == ok
    assert check(main_node, tail(main_node, "t1")) == ok  # confirmed
    inconsistent = {"state": False, "info": INCONSISTENT_LEDGER}
    assert check(main_node, tail(main_node, "t4a"), tail(main_node, "t4b")) == inconsistent
    assert check(main_node, tail(main_node, "t4a"), tail(main_node, "t4ar")) == inconsistent
    assert check(main_node, tail(main_node, "t2r")) == inconsistent
    assert check(main_node, tail(main_node, "x")) == {
        "state": False,
        "info": f"tails are not consistent (bundle is invalid): {tail(main_node, 'x')}",
    }
    # W's own bundle is valid; the invalid bundle is in its past cone.
    assert check(main_node, tail(main_node, "w")) == {"state": False, "info": INCONSISTENT_LEDGER}
    assert check(main_node, tail(main_node, "t3"), tail(main_node, "y")) == {
        "state": False,
        "info": f"tails are not solid (missing a referenced tx): {tail(main_node, 'y')}",
    }
    assert check(main_node, s.milestones[4][0].hash) == {
        "state": False,
        "info": f"tails are not solid (missing a referenced tx): {s.milestones[4][0].hash}",
    }


def test_check_consistency_errors(main_node: LoadedNode) -> None:
    s = main_node.scenario
    client = main_node.client
    assert_error(
        client.call("checkConsistency", tails=[tail(main_node, "t3"), UNKNOWN_HASH]),
        400,
        f"Invalid transaction, missing: {UNKNOWN_HASH}",
    )
    non_tail = s.bundles["t3"].transactions[1].hash
    assert_error(
        client.call("checkConsistency", tails=[non_tail]),
        400,
        f"Invalid transaction, not a tail: {non_tail}",
    )
    assert_error(client.call("checkConsistency"), 400, "Invalid parameters: 'tails' is required")
    assert_error(
        client.call("checkConsistency", tails=[1]),
        400,
        "Invalid tails input: tails[0] must be a string of 81 trytes, got a number",
    )


def test_check_consistency_stops_at_the_first_failing_tail(main_node: LoadedNode) -> None:
    y = tail(main_node, "y")
    assert check(main_node, y, UNKNOWN_HASH) == {
        "state": False,
        "info": f"tails are not solid (missing a referenced tx): {y}",
    }


@pytest.fixture(scope="module")
def deep_node(nodes: NodeFactory) -> Iterator[LoadedNode]:
    """A node that applied the 24 milestones of ``tangles.milestone_stream()``."""
    stream = milestone_stream()
    process = nodes("deep", stream.scenario)
    process.start()
    yield load(process, stream.scenario)
    assert process.stop() == 0, process.log_tail()


def test_check_consistency_below_max_depth(deep_node: LoadedNode) -> None:
    """With the latest solid milestone at 24 and IRI's max depth of 15, a tail whose
    unconfirmed past cone reaches a transaction confirmed by a milestone below 24 - 15 = 9 is
    below max depth (§4.16)."""
    stream = milestone_stream()
    s = stream.scenario
    latest = s.milestone_hashes[stream.length]
    builder = TangleBuilder()
    old = builder.message(trunk=stream.transfers[0].tail_hash, branch=latest, store=False)
    recent = builder.message(trunk=stream.transfers[11].tail_hash, branch=latest, store=False)
    on_old = builder.message(trunk=old.tail_hash, branch=recent.tail_hash, store=False)
    for bundle in (old, recent, on_old):
        deep_node.store(head_first(bundle))
    assert check(deep_node, recent.tail_hash) == {"state": True, "info": ""}
    below = {"state": False, "info": INCONSISTENT_LEDGER}
    assert check(deep_node, old.tail_hash) == below
    assert check(deep_node, on_old.tail_hash) == below
    assert check(deep_node, recent.tail_hash, old.tail_hash) == below


# --- getTips, getMissingTransactions ---------------------------------------------------------


def test_get_tips(main_node: LoadedNode) -> None:
    body = main_node.client.ok("getTips")
    assert list(body) == ["hashes", "duration"]
    assert len(body["hashes"]) == len(set(body["hashes"]))
    assert set(body["hashes"]) == main_node.expected_tips()


def test_get_missing_transactions(main_node: LoadedNode) -> None:
    # Y's trunk was never stored; nothing else is missing.
    body = main_node.client.ok("getMissingTransactions")
    assert body == {"hashes": [MISSING_HASH], "duration": body["duration"]}


# --- storeTransactions, broadcastTransactions ------------------------------------------------


def _too_big_value(tag: str) -> Transaction:
    # A value beyond the 33 usable trits: refused at ingest (§3.1 rule 2).
    return message(tag, value=3**40, address="PYRIEEVALUE".ljust(81, "9"))


def test_store_transactions_is_all_or_nothing(main_node: LoadedNode) -> None:
    client = main_node.client
    tag = "PYRIEESTORE"
    first, second = message(tag), message(tag)
    bad = _too_big_value(tag)
    response = client.call("storeTransactions", trytes=[first.trytes, bad.trytes, second.trytes])
    assert_error(
        response,
        400,
        f"Error: Invalid transaction value: trytes[1] (hash {bad.hash}): value field trits "
        "33..80 are not all zero (a value must fit in 33 trits)",
    )
    nothing = ["9" * 2673] * 3
    assert client.ok("getTrytes", hashes=[first.hash, bad.hash, second.hash])["trytes"] == nothing
    assert find(main_node, tags=[tag]) == set()
    main_node.store([first, second])
    body = client.ok("getTrytes", hashes=[first.hash, second.hash])
    assert body["trytes"] == [first.trytes, second.trytes]
    assert find(main_node, tags=[tag]) == {first.hash, second.hash}
    # Storing known transactions again is fine.
    main_node.store([first])
    tips = set(client.ok("getTips")["hashes"])
    assert {first.hash, second.hash} <= tips


def test_store_transactions_reports_the_rule_broken(main_node: LoadedNode) -> None:
    client = main_node.client
    # A value transaction on an address whose last trit is not 0 (M = 1, 1, 1).
    bad_address = message("PYRIEEADDRESS", value=1, address="M" * 81)
    assert_error(
        client.call("storeTransactions", trytes=[bad_address.trytes]),
        400,
        f"Error: Invalid transaction address: trytes[0] (hash {bad_address.hash}): address "
        f"{'M' * 81} moves value 1 but its last trit is 1, not 0",
    )
    # Attached more than two hours in the future.
    future_ms = int(time.time() * 1000) + 3 * 3600 * 1000
    stale = message("PYRIEEFUTURE", attachmentTimestamp=future_ms)
    response = client.call("storeTransactions", trytes=[stale.trytes])
    assert response.status == 400, str(response)
    prefix = (
        f"Error: Invalid transaction timestamp.: trytes[0] (hash {stale.hash}): "
        f"attachmentTimestamp {future_ms} ms is after "
    )
    assert response.json["error"].startswith(prefix), response.json
    assert response.json["error"].endswith(" ms (now + 2 hours)")
    assert (
        client.ok("getTrytes", hashes=[stale.hash, bad_address.hash])["trytes"] == ["9" * 2673] * 2
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Error: Invalid parameters: 'trytes' is required"),
        (
            {"trytes": "9" * 2673},
            "Error: Invalid trytes input: 'trytes' must be an array of strings, got a string",
        ),
        (
            {"trytes": ["9" * 10]},
            "Error: Invalid trytes input: trytes[0] must be 2673 trytes long, got 10",
        ),
        (
            {"trytes": ["9" * 2672 + "a"]},
            "Error: Invalid trytes input: trytes[0] holds 'a' at position 2672, which is not a "
            "tryte (9, A-Z)",
        ),
    ],
)
def test_store_transactions_errors(
    main_node: LoadedNode, params: dict[str, Any], message: str
) -> None:
    assert_error(main_node.client.call("storeTransactions", **params), 400, message)


def test_broadcast_transactions(main_node: LoadedNode) -> None:
    client = main_node.client
    tag = "PYRIEEBROADCAST"
    first, second = message(tag), message(tag)
    bad = _too_big_value(tag)
    # Invalid transactions are dropped without a word (§4.15); the valid ones are stored.
    body = client.ok("broadcastTransactions", trytes=[first.trytes, bad.trytes, second.trytes])
    assert list(body) == ["duration"]
    main_node.stored.update({first.hash: first, second.hash: second})
    body = client.ok("getTrytes", hashes=[first.hash, bad.hash, second.hash])
    assert body["trytes"] == [first.trytes, "9" * 2673, second.trytes]
    assert find(main_node, tags=[tag]) == {first.hash, second.hash}
    assert_error(
        client.call("broadcastTransactions", trytes=["9" * 5]),
        400,
        "Invalid trytes input: trytes[0] must be 2673 trytes long, got 5",
    )
    assert_error(
        client.call("broadcastTransactions"), 400, "Invalid parameters: 'trytes' is required"
    )


# --- commands pyri does not offer, OpenAPI ---------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "foo",
        "getNeighbors",
        "addNeighbors",
        "attachToTangle",
        "getTransactionsToApprove",
        "interruptAttachingToTangle",
        "GETBALANCES",
        "ixi.module",
    ],
)
def test_unknown_commands(main_node: LoadedNode, command: str) -> None:
    # From a trusted host the limited commands get as far as the lookup (§2.1).
    assert_error(main_node.client.call(command), 400, f"Command [{command}] is unknown")


def test_empty_command(main_node: LoadedNode) -> None:
    assert_error(main_node.client.call(""), 400, "Command can not be null or empty")


def test_default_limited_commands_from_a_remote_host(main_node: LoadedNode) -> None:
    remote = ApiClient(main_node.process.port, source=REMOTE)
    for command in (
        "addNeighbors",
        "getNeighbors",
        "removeNeighbors",
        "attachToTangle",
        "interruptAttachingToTangle",
    ):
        assert_error(remote.call(command), 401, f"COMMAND {command} is not available on this node")
    assert remote.ok("getNodeInfo")["latestSolidSubtangleMilestoneIndex"] == 3
    assert_error(remote.call("foo"), 400, "Command [foo] is unknown")


def test_openapi_document(main_node: LoadedNode) -> None:
    response = main_node.client.request(None, method="GET", path="/openapi.json", version=None)
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json
    assert document == json.loads((REPO / "docs" / "openapi.json").read_text())
    assert document["openapi"].startswith("3.1")


# --- authentication and --remote-limit-api ------------------------------------------------------

TOKEN: Final = "pyri-e2e-token"
GUARDED_BODY_LIMIT: Final = 20_000
USER: Final = "operator"
PASSWORD: Final = "correct horse"


def _basic(user: str, password: str) -> dict[str, str]:
    credentials = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def guarded_node(
    nodes: NodeFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NodeProcess]:
    """A fresh node (snapshot only) that wants credentials, limits getBalances and
    attachToTangle, and trusts 127.0.0.2 besides loopback. Its --remote-auth password is IRI's
    hash of PASSWORD (§1.2)."""
    hashed = iri_password_hash(PASSWORD)
    assert hashed is not None
    node = nodes(
        "guarded",
        main_scenario(),
        [
            "--remote-auth",
            f"{USER}:{hashed}",
            "--api-token",
            TOKEN,
            "--remote-limit-api",
            "getBalances, attachToTangle",
            "--remote-trusted-api-hosts",
            "127.0.0.2",
            "--max-requests-list",
            "50",
            "--max-get-trytes",
            "2",
            "--max-body-length",
            str(GUARDED_BODY_LIMIT),
        ],
    )
    node.start()
    yield node
    assert node.stop() == 0, node.log_tail()


def test_credentials_are_required(guarded_node: NodeProcess) -> None:
    client = guarded_node.client
    for headers, message in [
        ({}, "Authorization required: send an Authorization header (Bearer or Basic)"),
        (_bearer("wrong"), "Invalid bearer token"),
        (_basic(USER, "wrong"), "Invalid user name or password"),
        (_basic("someone", PASSWORD), "Invalid user name or password"),
        ({"Authorization": "Basic !!!"}, "Malformed Basic credentials: not base64"),
        (
            {"Authorization": "Digest x"},
            "Unsupported authorization scheme 'digest': use Bearer or Basic",
        ),
    ]:
        response = client.with_headers(headers).call("getNodeInfo")
        assert_error(response, 401, message)
        assert response.headers["www-authenticate"] == 'Basic realm="Iota Realm", Bearer'
    # Basic auth wraps everything, the CORS preflight included (§1.2).
    response = client.request(None, method="OPTIONS", version=None)
    assert response.status == 401


def test_bearer_and_basic_credentials_are_accepted(guarded_node: NodeProcess) -> None:
    client = guarded_node.client
    hashed = iri_password_hash(PASSWORD)
    assert hashed is not None
    for headers in (_bearer(TOKEN), _basic(USER, PASSWORD), _basic(USER, hashed)):
        body = client.with_headers(headers).ok("getNodeInfo")
        assert body["latestSolidSubtangleMilestoneIndex"] == 0
    for headers in (_bearer(TOKEN), _basic(USER, PASSWORD)):
        response = client.with_headers(headers).request(None, method="OPTIONS", version=None)
        assert response.status == 200
        assert response.body == b""


def test_limited_commands_need_a_trusted_host(guarded_node: NodeProcess) -> None:
    s = main_scenario()
    alice = s.address("alice")
    headers = _bearer(TOKEN)
    local = guarded_node.client.with_headers(headers)
    trusted = ApiClient(guarded_node.port, source="127.0.0.2", headers=headers)
    untrusted = ApiClient(guarded_node.port, source="127.0.0.3", headers=headers)
    # A fresh node answers getBalances from its snapshot (design.md, difference 4).
    for client in (local, trusted):
        body = client.ok("getBalances", addresses=[alice])
        assert body["balances"] == ["1000"]
        assert body["references"] == [NULL_HASH]
        assert body["milestoneIndex"] == 0
        assert_error(client.call("attachToTangle"), 400, "Command [attachToTangle] is unknown")
    for command in ("getBalances", "attachToTangle"):
        assert_error(
            untrusted.call(command, addresses=[alice]),
            401,
            f"COMMAND {command} is not available on this node",
        )
    # --remote-limit-api replaced the default list: getNeighbors is no longer limited.
    assert_error(untrusted.call("getNeighbors"), 400, "Command [getNeighbors] is unknown")
    assert untrusted.ok("getNodeInfo")["features"] == ["testnet", "WereAddressesSpentFrom"]
    # The limit applies after authentication.
    assert_error(
        ApiClient(guarded_node.port, source="127.0.0.3").call("getBalances", addresses=[alice]),
        401,
        "Authorization required: send an Authorization header (Bearer or Basic)",
    )


def test_commands_that_need_a_synchronized_node(guarded_node: NodeProcess) -> None:
    client = guarded_node.client.with_headers(_bearer(TOKEN))
    hashes = [UNKNOWN_HASH]
    assert_error(client.call("getInclusionStates", transactions=hashes), 400, NOT_SYNCHRONIZED)
    assert_error(client.call("checkConsistency", tails=hashes), 400, NOT_SYNCHRONIZED)
    # The others answer on an unsynchronized node.
    assert client.ok("getTrytes", hashes=hashes)["trytes"] == ["9" * 2673]
    assert client.ok("getTips")["hashes"] == []
    assert client.ok("getMissingTransactions")["hashes"] == []
    info = client.ok("getNodeInfo")
    assert info["latestMilestone"] == NULL_HASH
    assert info["latestMilestoneIndex"] == 0
    assert info["milestoneStartIndex"] == -1  # no milestone in the database


def test_configured_limits(guarded_node: NodeProcess) -> None:
    client = guarded_node.client.with_headers(_bearer(TOKEN))
    body = client.ok("getNodeAPIConfiguration")
    del body["duration"]
    assert body == {
        "maxFindTransactions": 100000,
        "maxRequestsList": 50,
        "maxGetTrytes": 2,
        "maxBodyLength": GUARDED_BODY_LIMIT,
        "testNet": True,
        "milestoneStartIndex": 0,
    }
    assert_error(
        client.call("getBalances", addresses=[UNKNOWN_HASH] * 51),
        400,
        "Could not complete request: 'addresses' holds 51 elements, more than the limit of 50 "
        "(--max-requests-list)",
    )
    assert client.ok("getBalances", addresses=[UNKNOWN_HASH] * 50)["balances"] == ["0"] * 50
    assert_error(
        client.call("getTrytes", hashes=[UNKNOWN_HASH] * 3),
        400,
        "Could not complete request: 3 transactions requested, more than the limit of 2 "
        "(--max-get-trytes)",
    )
    text = json.dumps({"command": "getNodeInfo", "pad": ""})
    fits = text[:-2] + " " * (GUARDED_BODY_LIMIT - len(text)) + '"}'
    assert len(fits) == GUARDED_BODY_LIMIT
    assert client.request(fits).status == 200
    assert_error(client.request(fits + " "), 400, "Request too long")
