"""getBalances over HTTP against a real ``pyri run`` with a real tangle (issue 5, "Done when";
iri-api-reference §1-§3 and §9; design.md, differences 1-8).

The main node holds ``tangles.main_scenario()``: milestones 1-3 applied, unconfirmed valid
transfers, a double spend, an invalid bundle and an unsolid milestone 4. Expected balances come
from replaying the confirmed bundles on the snapshot (``tangles.replay``), not from the node.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any, Final

import orjson
import pytest

from pyri.crypto.checksum import add_checksum
from pyri.trinary import ALPHABET, NULL_HASH, int_to_trytes
from tests.e2e.conftest import NodeFactory
from tests.e2e.node import (
    ApiClient,
    LoadedNode,
    assert_duration,
    assert_error,
)
from tests.e2e.tangles import (
    MISSING_HASH,
    UNKNOWN_HASH,
    Scenario,
    head_first,
    milestone_stream,
)

NAMES: Final = (
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
NOT_CONSISTENT: Final = "Tips are not consistent"
ILLEGAL_THRESHOLD: Final = "Illegal 'threshold'"
MAX_BODY_LENGTH: Final = 1_000_000  # the default --max-body-length


def addresses(scenario: Scenario) -> list[str]:
    return [scenario.address(name) for name in NAMES]


def tail(node: LoadedNode, name: str) -> str:
    return node.scenario.bundles[name].tail_hash


def through(scenario: Scenario, bundles: Sequence[str], wanted: Sequence[str]) -> list[str]:
    """The confirmed balances at the latest solid milestone plus the value transactions of the
    named (unconfirmed, valid) bundles: getBalances' answer through tips whose cones hold them."""
    ledger = dict(scenario.ledgers[scenario.solid_index])
    for name in bundles:
        for tx in scenario.bundles[name].transactions:
            ledger[tx.address] = ledger.get(tx.address, 0) + tx.value
    return [str(ledger.get(address, 0)) for address in wanted]


def balances(client: ApiClient, **params: Any) -> dict[str, Any]:
    response = client.call("getBalances", **params)
    assert response.status == 200, str(response)
    body: dict[str, Any] = response.json
    assert list(body) == ["balances", "references", "milestoneIndex", "duration"]
    assert all(type(balance) is str for balance in body["balances"])
    assert type(body["milestoneIndex"]) is int
    assert_duration(body)
    return body


def fake_address(n: int) -> str:
    """Distinct addresses nobody holds funds on."""
    return ("PYRIEEFAKE" + int_to_trytes(n, 10)).ljust(81, "9")


# --- the confirmed ledger ----------------------------------------------------------------------


def test_no_tips_answers_the_ledger_of_the_latest_solid_milestone(main_node: LoadedNode) -> None:
    scenario = main_node.scenario
    wanted = addresses(scenario)
    response = main_node.client.call("getBalances", addresses=wanted, threshold=100)
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["keep-alive"] == "timeout=500, max=100"
    assert response.headers["content-length"] == str(len(response.body))
    body = balances(main_node.client, addresses=wanted, threshold=100)
    assert body["balances"] == scenario.balances(3, wanted)
    assert body["balances"][:3] == ["0", "700", "0"]  # alice spent all; alice1 got the rest
    assert body["references"] == [scenario.milestone_hashes[3]]
    # Milestone 4 is known but not solid: the ledger is at 3.
    assert body["milestoneIndex"] == 3
    info = main_node.client.ok("getNodeInfo")
    assert body["references"] == [info["latestSolidSubtangleMilestone"]]
    assert body["milestoneIndex"] == info["latestSolidSubtangleMilestoneIndex"]


@pytest.mark.parametrize("tips", [None, [], "absent"])
def test_null_and_empty_tips_mean_no_tips(main_node: LoadedNode, tips: object) -> None:
    scenario = main_node.scenario
    wanted = addresses(scenario)
    params: dict[str, object] = {"addresses": wanted}
    if tips != "absent":
        params["tips"] = tips
    body = balances(main_node.client, **params)
    assert body["balances"] == scenario.balances(3, wanted)
    assert body["references"] == [scenario.milestone_hashes[3]]
    assert body["milestoneIndex"] == 3


def test_unknown_and_null_addresses_are_zero_and_order_is_kept(main_node: LoadedNode) -> None:
    s = main_node.scenario
    wanted = [fake_address(1), s.address("carol"), NULL_HASH, s.address("alice1")]
    body = balances(main_node.client, addresses=wanted)
    assert body["balances"] == ["0", "300", "0", "700"]


def test_no_addresses_gives_no_balances(main_node: LoadedNode) -> None:
    body = balances(main_node.client, addresses=[])
    assert body["balances"] == []
    assert body["references"] == [main_node.scenario.milestone_hashes[3]]
    # The tips are still checked (§3.2).
    response = main_node.client.call("getBalances", addresses=[], tips=[UNKNOWN_HASH])
    assert_error(response, 400, f"Tip not found: {UNKNOWN_HASH}")


def test_duplicate_and_checksummed_addresses(main_node: LoadedNode) -> None:
    s = main_node.scenario
    alice1, carol, erin = s.address("alice1"), s.address("carol"), s.address("erin")
    wanted = [alice1, alice1, add_checksum(alice1), carol, add_checksum(erin), add_checksum(carol)]
    body = balances(main_node.client, addresses=wanted)
    assert body["balances"] == ["700", "700", "700", "300", "0", "300"]
    body = balances(main_node.client, addresses=wanted, tips=[tail(main_node, "t3")])
    assert body["balances"] == ["700", "700", "700", "0", "100", "0"]


def test_one_thousand_addresses(main_node: LoadedNode) -> None:
    s = main_node.scenario
    known = addresses(s)
    # Every known address twice (once with its checksum), the rest unknown: 1,000 in all.
    wanted = known + [add_checksum(a) for a in known]
    wanted += [fake_address(n) for n in range(1000 - len(wanted))]
    assert len(wanted) == 1000
    plain = [a[:81] for a in wanted]
    body = balances(main_node.client, addresses=wanted)
    assert body["balances"] == s.balances(3, plain)
    # alice1, bob1, carol, dave and the filler hold funds.
    assert body["balances"].count("0") == 1000 - 2 * 5
    body = balances(main_node.client, addresses=wanted, tips=[tail(main_node, "t4b")])
    assert body["balances"] == through(s, ["t3", "t4b"], plain)


# --- through tips ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tips", "bundles"),
    [
        (["t3"], ["t3"]),
        (["t4a"], ["t4a"]),
        # t4b approves t3: its cone holds both transfers.
        (["t4b"], ["t3", "t4b"]),
        # The walk of a later tip skips what an earlier one visited: t3 counts once.
        (["t3", "t4b"], ["t3", "t4b"]),
        (["t4b", "t3"], ["t3", "t4b"]),
        (["t3", "t4a"], ["t3", "t4a"]),
        (["t4a", "t4a"], ["t4a"]),
        # A reattachment of an unconfirmed transfer, alone, spends like the original.
        (["t4ar"], ["t4ar"]),
        # A tagged message confirmed by milestone 3: nothing unconfirmed in its cone.
        (["tagged"], []),
        (["t1"], []),
    ],
)
def test_consistent_tips(main_node: LoadedNode, tips: list[str], bundles: list[str]) -> None:
    s = main_node.scenario
    wanted = addresses(s)
    hashes = [tail(main_node, name) for name in tips]
    body = balances(main_node.client, addresses=wanted, tips=hashes, threshold=100)
    assert body["balances"] == through(s, bundles, wanted)
    # The tips exactly as given, order and duplicates kept; the index is the ledger's (§3.2).
    assert body["references"] == hashes
    assert body["milestoneIndex"] == 3


def test_spends_through_tips_are_exact(main_node: LoadedNode) -> None:
    s = main_node.scenario
    wanted = [s.address(n) for n in ("carol", "carol1", "erin", "dave", "frank", "gina")]
    body = balances(
        main_node.client, addresses=wanted, tips=[tail(main_node, "t3"), tail(main_node, "t4a")]
    )
    assert body["balances"] == ["0", "200", "100", "0", "200", "0"]


def test_milestone_and_non_tail_tips(main_node: LoadedNode) -> None:
    s = main_node.scenario
    wanted = addresses(s)
    milestone = s.milestone_hashes[3]
    body = balances(main_node.client, addresses=wanted, tips=[milestone])
    assert body["balances"] == s.balances(3, wanted)
    assert body["references"] == [milestone]
    # A tip that is not a tail contributes nothing (IRI 1.8.3+ walks tails only, §3.4).
    non_tail = s.bundles["t3"].transactions[1].hash
    body = balances(main_node.client, addresses=wanted, tips=[non_tail])
    assert body["balances"] == s.balances(3, wanted)
    assert body["references"] == [non_tail]
    # Even when its bundle is invalid.
    for tx in s.bundles["x"].transactions[1:]:
        body = balances(main_node.client, addresses=wanted, tips=[tx.hash])
        assert body["balances"] == s.balances(3, wanted)


def test_tip_not_found(main_node: LoadedNode) -> None:
    client = main_node.client
    wanted = addresses(main_node.scenario)
    for tips, missing in [
        ([UNKNOWN_HASH], UNKNOWN_HASH),
        ([tail(main_node, "t3"), UNKNOWN_HASH], UNKNOWN_HASH),
        ([UNKNOWN_HASH, tail(main_node, "x")], UNKNOWN_HASH),
        ([tail(main_node, "t4a"), MISSING_HASH, UNKNOWN_HASH], MISSING_HASH),
    ]:
        response = client.call("getBalances", addresses=wanted, tips=tips)
        assert_error(response, 400, f"Tip not found: {missing}")


def test_null_hash_tip_is_not_found(main_node: LoadedNode) -> None:
    # The null hash passes validation and then is not a stored transaction (§3.1 step 2).
    response = main_node.client.call(
        "getBalances", addresses=addresses(main_node.scenario), tips=[NULL_HASH]
    )
    assert_error(response, 400, f"Tip not found: {NULL_HASH}")


@pytest.mark.parametrize(
    "tips",
    [
        ["t4a", "t4b"],  # a double spend across two tips
        ["t4b", "t4a"],
        ["t3", "t4a", "t4b"],
        ["t4a", "t4ar"],  # two attachments of one bundle spend twice
        ["t2r"],  # a reattachment of a confirmed transfer spends bob's 500 again
        ["x"],  # an invalid bundle (bad signature)
        ["w"],  # a tip over the invalid bundle
        ["t3", "w"],
        ["y"],  # not solid: its trunk is missing
        ["milestone4"],  # not solid either
    ],
)
def test_inconsistent_tips(main_node: LoadedNode, tips: list[str]) -> None:
    s = main_node.scenario
    hashes = [
        s.milestones[4][0].hash if name == "milestone4" else tail(main_node, name) for name in tips
    ]
    response = main_node.client.call("getBalances", addresses=addresses(s), tips=hashes)
    assert_error(response, 400, NOT_CONSISTENT)


def test_tips_are_checked_in_order(main_node: LoadedNode) -> None:
    # IRI stops at the first failing tip (§3.3 step 4): an inconsistent tip before an unknown
    # one is "not consistent", the other way round "not found".
    s = main_node.scenario
    wanted = addresses(s)
    for first in ("x", "y"):
        response = main_node.client.call(
            "getBalances", addresses=wanted, tips=[tail(main_node, first), UNKNOWN_HASH]
        )
        assert_error(response, 400, NOT_CONSISTENT)


# --- the milestoneIndex extension -------------------------------------------------------------


def test_balances_at_every_past_milestone(main_node: LoadedNode) -> None:
    s = main_node.scenario
    wanted = addresses(s)
    for index in range(s.solid_index + 1):
        for given in (index, str(index)):
            body = balances(main_node.client, addresses=wanted, milestoneIndex=given)
            assert body["balances"] == s.balances(index, wanted), index
            assert body["references"] == [s.milestone_hashes[index]]
            assert body["milestoneIndex"] == index
    body = balances(main_node.client, addresses=wanted, milestoneIndex=None)
    assert body["milestoneIndex"] == 3


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            4,
            "Invalid milestoneIndex input: milestone 4 is not available; "
            "this node can answer 0 to 3",
        ),
        (
            2**31 - 1,
            "Invalid milestoneIndex input: milestone 2147483647 is not available; "
            "this node can answer 0 to 3",
        ),
        (-1, "Invalid milestoneIndex input: expected an integer from 0 to 2147483647, got -1"),
        (
            2**31,
            "Invalid milestoneIndex input: expected an integer from 0 to 2147483647, "
            "got 2147483648",
        ),
        (1.5, "Invalid milestoneIndex input: expected an integer from 0 to 2147483647, got 1.5"),
        (
            "x",
            "Invalid milestoneIndex input: expected an integer from 0 to 2147483647, got a string",
        ),
        (
            True,
            "Invalid milestoneIndex input: expected an integer from 0 to 2147483647, got a boolean",
        ),
        (
            [1],
            "Invalid milestoneIndex input: expected an integer from 0 to 2147483647, got an array",
        ),
    ],
)
def test_milestone_index_errors(main_node: LoadedNode, value: object, message: str) -> None:
    response = main_node.client.call(
        "getBalances", addresses=addresses(main_node.scenario), milestoneIndex=value
    )
    assert_error(response, 400, message)


def test_milestone_index_with_tips_is_refused(main_node: LoadedNode) -> None:
    response = main_node.client.call(
        "getBalances",
        addresses=addresses(main_node.scenario),
        tips=[tail(main_node, "t3")],
        milestoneIndex=2,
    )
    assert_error(
        response, 400, "Invalid parameters: 'milestoneIndex' cannot be combined with 'tips'"
    )


# --- threshold ----------------------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [0, 1, 50, 100, 100.0, "100", "0", "050"])
def test_accepted_thresholds_change_nothing(main_node: LoadedNode, threshold: object) -> None:
    s = main_node.scenario
    wanted = addresses(s)
    body = balances(main_node.client, addresses=wanted, threshold=threshold)
    assert body["balances"] == s.balances(3, wanted)
    body = balances(
        main_node.client, addresses=wanted, tips=[tail(main_node, "t3")], threshold=threshold
    )
    assert body["balances"] == through(s, ["t3"], wanted)


@pytest.mark.parametrize(
    "threshold",
    [
        101,
        -1,
        1000,
        100.5,
        0.5,
        "101",
        "-1",
        "1e2",
        "abc",
        "",
        " 100",
        None,
        True,
        False,
        [100],
        {},
    ],
)
def test_illegal_thresholds(main_node: LoadedNode, threshold: object) -> None:
    response = main_node.client.call(
        "getBalances", addresses=addresses(main_node.scenario), threshold=threshold
    )
    assert_error(response, 400, ILLEGAL_THRESHOLD)


def test_an_invalid_address_wins_over_an_illegal_threshold(main_node: LoadedNode) -> None:
    # IRI reads addresses and tips before threshold (§2.6).
    response = main_node.client.call("getBalances", addresses=["A" * 80], threshold=101)
    assert_error(
        response,
        400,
        "Invalid addresses input: addresses[0] must be 81 trytes (or 90 with a checksum) long, "
        "got 80",
    )
    response = main_node.client.call("getBalances", addresses=[], tips=["a" * 81], threshold=101)
    assert_error(
        response,
        400,
        "Invalid tips input: tips[0] holds 'a' at position 0, which is not a tryte (9, A-Z)",
    )
    response = main_node.client.call(
        "getBalances", addresses=[], tips=[UNKNOWN_HASH], threshold=101
    )
    assert_error(response, 400, ILLEGAL_THRESHOLD)


# --- transport and request errors ----------------------------------------------------------------


def test_api_version_header_must_be_present(main_node: LoadedNode) -> None:
    client = main_node.client
    body = {"command": "getBalances", "addresses": [main_node.scenario.address("carol")]}
    assert_error(client.request(body, version=None), 400, "Invalid API Version")
    # Only its presence counts (§1.3).
    for value in ("", "1", "2", "anything"):
        response = client.request(body, version=value)
        assert response.status == 200, str(response)
        assert response.json["balances"] == ["300"]
    # Header names are case-insensitive.
    response = client.request(body, version=None, headers={"x-iota-api-version": "1"})
    assert response.status == 200, str(response)


def _orjson_message(body: bytes) -> str:
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError as error:
        return f"Invalid JSON syntax: {error}"
    raise AssertionError(f"{body!r} is valid JSON")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "Invalid request payload: ''"),
        (b"  \n", "Invalid request payload: '  \n'"),
        (b"null", "Invalid request payload: 'null'"),
        (b"[]", "Invalid JSON syntax: the body must be a JSON object, got an array"),
        (b'"getBalances"', "Invalid JSON syntax: the body must be a JSON object, got a string"),
        (b"100", "Invalid JSON syntax: the body must be a JSON object, got a number"),
        (
            b'{"command": "getBalances", "addresses": [], "addresses": []}',
            "Invalid JSON syntax: duplicate key: addresses",
        ),
        (b'{"command": "getBalances", "addresses": [', None),
        (b'{"command": "getBalances", "addresses": [],}', None),
        (b"{command: getBalances, addresses: []}", None),
        (b"{'command': 'getBalances', 'addresses': []}", None),
        (b'{"command": "getBalances", "addresses": []} x', None),
        (b'{"command": "getBalances", "addresses": []}{}', None),
        (b'{"command": "getBalances", /* c */ "addresses": []}', None),
        (b'{"command": "getBalances", "addresses": [], "threshold": NaN}', None),
    ],
)
def test_bad_json(main_node: LoadedNode, body: bytes, message: str | None) -> None:
    expected = _orjson_message(body) if message is None else message
    assert_error(main_node.client.request(body), 400, expected)


def test_command_parameter(main_node: LoadedNode) -> None:
    client = main_node.client
    assert_error(
        client.request({"addresses": []}),
        400,
        "COMMAND parameter has not been specified in the request.",
    )
    assert_error(
        client.request({"command": None, "addresses": []}),
        400,
        "COMMAND parameter has not been specified in the request.",
    )
    assert_error(
        client.request({"command": ["getBalances"], "addresses": []}),
        400,
        "Invalid command input: 'command' must be a string, got an array",
    )
    assert_error(
        client.request({"command": "getbalances", "addresses": []}),
        400,
        "Command [getbalances] is unknown",
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Invalid parameters: 'addresses' is required"),
        ({"tips": []}, "Invalid parameters: 'addresses' is required"),
        (
            {"addresses": None},
            "Invalid addresses input: 'addresses' must be an array of strings, got null",
        ),
        (
            {"addresses": "A" * 81},
            "Invalid addresses input: 'addresses' must be an array of strings, got a string",
        ),
        (
            {"addresses": {"0": "A" * 81}},
            "Invalid addresses input: 'addresses' must be an array of strings, got an object",
        ),
        (
            {"addresses": 81},
            "Invalid addresses input: 'addresses' must be an array of strings, got a number",
        ),
        (
            {"addresses": [81]},
            "Invalid addresses input: addresses[0] must be a string of 81 trytes (or 90 with a "
            "checksum), got a number",
        ),
        (
            {"addresses": ["A" * 81, None]},
            "Invalid addresses input: addresses[1] must be a string of 81 trytes (or 90 with a "
            "checksum), got null",
        ),
        (
            {"addresses": [["A" * 81]]},
            "Invalid addresses input: addresses[0] must be a string of 81 trytes (or 90 with a "
            "checksum), got an array",
        ),
        (
            {"addresses": [], "tips": "A" * 81},
            "Invalid tips input: 'tips' must be an array of strings, got a string",
        ),
        (
            {"addresses": [], "tips": {}},
            "Invalid tips input: 'tips' must be an array of strings, got an object",
        ),
        (
            {"addresses": [], "tips": [True]},
            "Invalid tips input: tips[0] must be a string of 81 trytes, got a boolean",
        ),
        (
            {"addresses": [], "tips": [UNKNOWN_HASH, UNKNOWN_HASH[:80]]},
            "Invalid tips input: tips[1] must be 81 trytes long, got 80",
        ),
        (
            {"addresses": [], "tips": [UNKNOWN_HASH + "A"]},
            "Invalid tips input: tips[0] must be 81 trytes long, got 82",
        ),
        (
            {"addresses": [], "tips": [add_checksum(UNKNOWN_HASH)]},
            "Invalid tips input: tips[0] must be 81 trytes long, got 90",
        ),
    ],
)
def test_wrong_types(main_node: LoadedNode, params: dict[str, object], message: str) -> None:
    assert_error(main_node.client.call("getBalances", **params), 400, message)


def _bad_checksum(address: str) -> str:
    good = add_checksum(address)
    wrong = ALPHABET[(ALPHABET.index(good[-1]) + 1) % 27]
    return good[:-1] + wrong


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("A" * 80, "must be 81 trytes (or 90 with a checksum) long, got 80"),
        ("A" * 82, "must be 81 trytes (or 90 with a checksum) long, got 82"),
        ("A" * 89, "must be 81 trytes (or 90 with a checksum) long, got 89"),
        ("A" * 91, "must be 81 trytes (or 90 with a checksum) long, got 91"),
        ("", "must be 81 trytes (or 90 with a checksum) long, got 0"),
        ("AB" + "c" * 79, "holds 'c' at position 2, which is not a tryte (9, A-Z)"),
        ("A" * 40 + " " + "A" * 40, "holds ' ' at position 40, which is not a tryte (9, A-Z)"),
        ("A" * 80 + "0", "holds '0' at position 80, which is not a tryte (9, A-Z)"),
        ("É" + "A" * 80, "holds 'É' at position 0, which is not a tryte (9, A-Z)"),
    ],
)
def test_bad_addresses(main_node: LoadedNode, bad: str, problem: str) -> None:
    good = main_node.scenario.address("carol")
    response = main_node.client.call("getBalances", addresses=[good, bad, good])
    assert_error(response, 400, f"Invalid addresses input: addresses[1] {problem}")


def test_bad_checksum(main_node: LoadedNode) -> None:
    s = main_node.scenario
    carol, erin = s.address("carol"), s.address("erin")
    wrong = _bad_checksum(carol)
    response = main_node.client.call(
        "getBalances", addresses=[add_checksum(erin), wrong, add_checksum(carol)]
    )
    assert_error(
        response, 400, f"Invalid addresses input: addresses[1] has an invalid checksum: {wrong}"
    )
    # The first bad element in list order is the one reported.
    response = main_node.client.call("getBalances", addresses=[wrong, "A" * 80])
    assert_error(
        response, 400, f"Invalid addresses input: addresses[0] has an invalid checksum: {wrong}"
    )
    response = main_node.client.call("getBalances", addresses=["A" * 80, wrong])
    assert_error(
        response,
        400,
        "Invalid addresses input: addresses[0] must be 81 trytes (or 90 with a checksum) long, "
        "got 80",
    )


def test_list_limits(main_node: LoadedNode) -> None:
    wanted = [fake_address(n) for n in range(1001)]
    response = main_node.client.call("getBalances", addresses=wanted)
    assert_error(
        response,
        400,
        "Could not complete request: 'addresses' holds 1001 elements, more than the limit of "
        "1000 (--max-requests-list)",
    )
    response = main_node.client.call("getBalances", addresses=[], tips=[UNKNOWN_HASH] * 1001)
    assert_error(
        response,
        400,
        "Could not complete request: 'tips' holds 1001 elements, more than the limit of "
        "1000 (--max-requests-list)",
    )


def _padded(request: dict[str, object], length: int, pad: str = " ") -> bytes:
    """``request`` as JSON, padded inside a "pad" string to exactly ``length`` characters."""
    text = orjson.dumps({**request, "pad": ""}).decode()
    missing = length - len(text)
    assert missing >= 0
    return (text[:-2] + pad * missing + '"}').encode()


def test_body_length_limit(main_node: LoadedNode) -> None:
    s = main_node.scenario
    request: dict[str, object] = {"command": "getBalances", "addresses": [s.address("carol")]}
    # A body of exactly --max-body-length characters is accepted; one more is not (§1.3).
    response = main_node.client.request(_padded(request, MAX_BODY_LENGTH))
    assert response.status == 200, str(response)
    assert response.json["balances"] == ["300"]
    assert_error(
        main_node.client.request(_padded(request, MAX_BODY_LENGTH + 1)), 400, "Request too long"
    )
    # The limit counts characters (UTF-16 units), not bytes: two bytes per 'é' still fit.
    body = _padded(request, MAX_BODY_LENGTH, pad="é")
    assert len(body) > MAX_BODY_LENGTH
    response = main_node.client.request(body)
    assert response.status == 200, str(response)
    # The version check comes first (§1.3).
    response = main_node.client.request(_padded(request, MAX_BODY_LENGTH + 1), version=None)
    assert_error(response, 400, "Invalid API Version")


def test_any_path_and_method_but_options(main_node: LoadedNode) -> None:
    body = {"command": "getBalances", "addresses": [main_node.scenario.address("carol")]}
    for method, path in [("POST", "/any/path?x=1"), ("PUT", "/"), ("GET", "/")]:
        response = main_node.client.request(body, method=method, path=path)
        assert response.status == 200, f"{method} {path}: {response}"
        assert response.json["balances"] == ["300"]
    response = main_node.client.request(None, method="GET")
    assert_error(response, 400, "Invalid request payload: ''")
    response = main_node.client.request(None, method="OPTIONS", version=None)
    assert response.status == 200
    assert response.body == b""
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["allow"] == "GET,HEAD,POST,PUT,DELETE,TRACE,OPTIONS,CONNECT,PATCH"
    assert response.headers["access-control-allow-headers"] == (
        "User-Agent, Origin, X-Requested-With, Content-Type, Accept, X-IOTA-API-Version"
    )


# --- a fresh node, and answers while milestones are applied -------------------------------------


def test_answers_while_milestones_are_applied_are_self_consistent(nodes: NodeFactory) -> None:
    """A fresh node answers from its snapshot; then, while a stream of transfers and milestones
    arrives, every answer of several hammering threads is the ledger of exactly one milestone:
    its balances, its hash and its index together."""
    stream = milestone_stream()
    s = stream.scenario
    node = nodes("stream", s)
    node.start()
    client = node.client
    wanted = stream.addresses
    # A node that applied no milestone answers with the snapshot, never "Tip not found" (4).
    body = balances(client, addresses=wanted)
    assert body == {
        "balances": s.balances(0, wanted),
        "references": [NULL_HASH],
        "milestoneIndex": 0,
        "duration": body["duration"],
    }

    stop = threading.Event()
    seen: list[list[int]] = []
    problems: list[str] = []

    def hammer() -> None:
        indexes: list[int] = []
        seen.append(indexes)
        reader = ApiClient(node.port)
        while not stop.is_set():
            try:
                response = reader.call("getBalances", addresses=wanted)
                if response.status != 200:
                    problems.append(str(response))
                    continue
                answer = response.json
                index = answer["milestoneIndex"]
                if indexes and index < indexes[-1]:
                    problems.append(f"index went back from {indexes[-1]} to {index}")
                elif answer["references"] != [s.milestone_hashes[index]]:
                    problems.append(f"references of {index}: {answer['references']}")
                elif answer["balances"] != s.balances(index, wanted):
                    problems.append(f"balances at {index}: {answer['balances']}")
                indexes.append(index)
            except Exception as error:  # a dropped connection, a bad body, ...
                problems.append(repr(error))
            if len(problems) > 10:
                return

    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for transfer, milestone in zip(stream.transfers, stream.milestones, strict=True):
            client.store(head_first(transfer))
            client.store(head_first(milestone))
    finally:
        time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert problems == []
    observed = {index for indexes in seen for index in indexes}
    assert len(observed) >= 2, observed  # the readers did overlap milestone application
    assert max(observed) == stream.length
    body = balances(client, addresses=wanted)
    assert body["balances"] == s.balances(stream.length, wanted)
    assert body["milestoneIndex"] == stream.length
    for index in range(stream.length + 1):
        body = balances(client, addresses=wanted, milestoneIndex=index)
        assert body["balances"] == s.balances(index, wanted), index
        assert body["references"] == [s.milestone_hashes[index]]
    log = node.log_text()
    for index in range(1, stream.length + 1):
        assert f"milestone {index} applied: " in log
    assert node.stop() == 0
