"""getBalances: iri-api-reference §3 and design.md's differences 1-4, 7 and 8."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from pyri.api import ApiConfig, create_app
from pyri.api.app import ASGIApp
from pyri.api.fake_backend import FakeBackend
from pyri.crypto.checksum import add_checksum
from pyri.trinary import NULL_HASH
from tests.api.client import Response, call, request
from tests.api.conftest import (
    CONFIRMED,
    EMPTY,
    INVALID_TIP,
    M101,
    M102,
    OTHER,
    OVERDRAFT_TIP,
    RICH,
    TRANSFER_TIP,
    UNKNOWN,
    UNSOLID_TIP,
    error,
    numbered,
)

Api = Callable[..., Response]
SUPPLY = (3**33 - 1) // 2


def balances(api: Api, **params: Any) -> dict[str, Any]:
    response = api("getBalances", **params)
    assert response.status == 200, response.body
    body: dict[str, Any] = response.without_duration()
    return body


def test_one_address_without_tips(api: Api) -> None:
    response = api("getBalances", addresses=[RICH], threshold=100)
    assert response.status == 200
    assert response.header("content-type") == "application/json"
    assert response.header("access-control-allow-origin") == "*"
    body = response.json()
    # IRI's field order, duration last (§1.6), and exact JSON types (§3.2).
    assert list(body) == ["balances", "references", "milestoneIndex", "duration"]
    assert body["balances"] == ["900"]
    assert body["references"] == [M102]
    assert type(body["milestoneIndex"]) is int and body["milestoneIndex"] == 102
    assert type(body["duration"]) is int


def test_unknown_address_is_zero_and_order_is_kept(api: Api) -> None:
    body = balances(api, addresses=[EMPTY, OTHER, RICH])
    assert body["balances"] == ["0", "105", "900"]


def test_duplicate_addresses_are_answered_per_position(api: Api) -> None:
    body = balances(api, addresses=[RICH, OTHER, RICH, RICH])
    assert body["balances"] == ["900", "105", "900", "900"]


def test_no_addresses(api: Api) -> None:
    assert balances(api, addresses=[]) == {
        "balances": [],
        "references": [M102],
        "milestoneIndex": 102,
    }


def test_balances_are_exact_decimal_strings() -> None:
    backend = FakeBackend(snapshot_balances={RICH: SUPPLY})
    app = create_app(backend, ApiConfig())
    body = call(app, "getBalances", addresses=[RICH]).json()
    assert body["balances"] == ["2779530283277761"]


# --- addresses --------------------------------------------------------------------------------


def test_checksummed_addresses_are_stripped(api: Api) -> None:
    body = balances(api, addresses=[add_checksum(RICH), OTHER, add_checksum(OTHER)])
    assert body["balances"] == ["900", "105", "105"]


def test_wrong_checksum_names_the_address(api: Api) -> None:
    bad = RICH + "ABCDEFGHI"
    message = error(api("getBalances", addresses=[OTHER, bad]))
    assert message == f"Invalid addresses input: addresses[1] has an invalid checksum: {bad}"


def test_first_bad_address_is_reported(api: Api) -> None:
    bad_checksum = RICH + "ABCDEFGHI"
    message = error(api("getBalances", addresses=[OTHER, bad_checksum, "X"]))
    assert message.startswith("Invalid addresses input: addresses[1] has an invalid checksum")
    message = error(api("getBalances", addresses=["X", bad_checksum]))
    assert message.startswith("Invalid addresses input: addresses[0] must be")


def test_thousand_addresses(api: Api) -> None:
    addresses = [numbered(i) for i in range(999)] + [RICH]
    body = balances(api, addresses=addresses)
    assert body["balances"] == ["0"] * 999 + ["900"]


def test_thousand_checksummed_addresses(api: Api) -> None:
    addresses = [add_checksum(numbered(i)) for i in range(999)] + [add_checksum(RICH)]
    body = balances(api, addresses=addresses)
    assert body["balances"][-1] == "900" and len(body["balances"]) == 1000


def test_more_addresses_than_the_list_limit(api: Api) -> None:
    message = error(api("getBalances", addresses=[RICH] * 1001))
    assert message == (
        "Could not complete request: 'addresses' holds 1001 elements, more than the limit of "
        "1000 (--max-requests-list)"
    )


def test_list_limit_follows_the_configuration(backend: FakeBackend) -> None:
    app = create_app(backend, ApiConfig(max_requests_list=2))
    assert call(app, "getBalances", addresses=[RICH] * 2).status == 200
    assert error(call(app, "getBalances", addresses=[RICH] * 3)).startswith(
        "Could not complete request: 'addresses' holds 3 elements, more than the limit of 2"
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Invalid parameters: 'addresses' is required"),
        (
            {"addresses": None},
            "Invalid addresses input: 'addresses' must be an array of strings, got null",
        ),
        (
            {"addresses": RICH},
            "Invalid addresses input: 'addresses' must be an array of strings, got a string",
        ),
        (
            {"addresses": {"a": RICH}},
            "Invalid addresses input: 'addresses' must be an array of strings, got an object",
        ),
        (
            {"addresses": [1]},
            "Invalid addresses input: addresses[0] must be a string of 81 trytes "
            "(or 90 with a checksum), got a number",
        ),
        (
            {"addresses": [RICH, None]},
            "Invalid addresses input: addresses[1] must be a string of 81 trytes "
            "(or 90 with a checksum), got null",
        ),
        (
            {"addresses": [RICH[:80]]},
            "Invalid addresses input: addresses[0] must be 81 trytes (or 90 with a checksum) "
            "long, got 80",
        ),
        (
            {"addresses": [RICH + "A"]},
            "Invalid addresses input: addresses[0] must be 81 trytes (or 90 with a checksum) "
            "long, got 82",
        ),
        (
            {"addresses": [RICH.lower()]},
            "Invalid addresses input: addresses[0] holds 'r' at position 0, which is not a "
            "tryte (9, A-Z)",
        ),
        (
            {"addresses": [""]},
            "Invalid addresses input: addresses[0] must be 81 trytes (or 90 with a checksum) "
            "long, got 0",
        ),
        (
            {"addresses": [RICH[:-1] + "é"]},
            "Invalid addresses input: addresses[0] holds 'é' at position 80, which is not a "
            "tryte (9, A-Z)",
        ),
    ],
)
def test_bad_addresses(api: Api, params: dict[str, Any], message: str) -> None:
    assert error(api("getBalances", **params)) == message


def test_a_bad_address_is_reported_before_a_bad_threshold(api: Api) -> None:
    # IRI reads threshold only after addresses and tips (§2.6).
    message = error(api("getBalances", addresses=["X"], threshold=500))
    assert message.startswith("Invalid addresses input")
    message = error(api("getBalances", addresses=[RICH], tips=["X"], threshold=500))
    assert message.startswith("Invalid tips input")


# --- threshold (design.md, difference 2) ------------------------------------------------------


@pytest.mark.parametrize("threshold", [100, "100", 0, "0", 1, 50, 100.0, 1e2, "050"])
def test_accepted_thresholds(api: Api, threshold: object) -> None:
    assert balances(api, addresses=[RICH], threshold=threshold)["balances"] == ["900"]


def test_threshold_is_optional(api: Api) -> None:
    assert balances(api, addresses=[RICH])["balances"] == ["900"]


@pytest.mark.parametrize(
    "threshold",
    [101, -1, "abc", 1.5, True, False, None, [100], {}, "101", "-1", "1e2", "", " 100", 1e30],
)
def test_illegal_thresholds(api: Api, threshold: object) -> None:
    response = api("getBalances", addresses=[RICH], threshold=threshold)
    assert error(response) == "Illegal 'threshold'"


# --- tips -------------------------------------------------------------------------------------


@pytest.mark.parametrize("tips", [None, []])
def test_null_or_empty_tips_mean_no_tips(api: Api, tips: object) -> None:
    assert balances(api, addresses=[RICH], tips=tips) == {
        "balances": ["900"],
        "references": [M102],
        "milestoneIndex": 102,
    }


def test_balances_through_a_tip(api: Api) -> None:
    body = balances(api, addresses=[RICH, OTHER], tips=[TRANSFER_TIP])
    assert body == {
        "balances": ["850", "155"],
        "references": [TRANSFER_TIP],
        "milestoneIndex": 102,
    }


def test_references_are_the_tips_as_given(api: Api) -> None:
    body = balances(api, addresses=[RICH], tips=[TRANSFER_TIP, CONFIRMED, TRANSFER_TIP])
    assert body["references"] == [TRANSFER_TIP, CONFIRMED, TRANSFER_TIP]
    assert body["balances"] == ["850"]


def test_tips_with_no_addresses_still_check_the_tips(api: Api) -> None:
    assert error(api("getBalances", addresses=[], tips=[UNKNOWN])) == f"Tip not found: {UNKNOWN}"


def test_tip_not_found(api: Api) -> None:
    response = api("getBalances", addresses=[RICH], tips=[TRANSFER_TIP, UNKNOWN])
    assert error(response) == f"Tip not found: {UNKNOWN}"


def test_null_hash_tip_is_not_found(api: Api) -> None:
    response = api("getBalances", addresses=[RICH], tips=[NULL_HASH])
    assert error(response) == f"Tip not found: {NULL_HASH}"


@pytest.mark.parametrize("tip", [OVERDRAFT_TIP, UNSOLID_TIP, INVALID_TIP])
def test_inconsistent_tips(api: Api, tip: str) -> None:
    response = api("getBalances", addresses=[RICH], tips=[TRANSFER_TIP, tip])
    assert error(response) == "Tips are not consistent"


@pytest.mark.parametrize(
    ("tips", "message"),
    [
        ("X", "Invalid tips input: 'tips' must be an array of strings, got a string"),
        ({}, "Invalid tips input: 'tips' must be an array of strings, got an object"),
        (5, "Invalid tips input: 'tips' must be an array of strings, got a number"),
        ([None], "Invalid tips input: tips[0] must be a string of 81 trytes, got null"),
        (
            [TRANSFER_TIP, add_checksum(TRANSFER_TIP)],
            "Invalid tips input: tips[1] must be 81 trytes long, got 90",
        ),
        (
            [TRANSFER_TIP.lower()],
            "Invalid tips input: tips[0] holds 't' at position 0, which is not a tryte (9, A-Z)",
        ),
        (
            [TRANSFER_TIP] * 1001,
            "Could not complete request: 'tips' holds 1001 elements, more than the limit of "
            "1000 (--max-requests-list)",
        ),
    ],
)
def test_bad_tips(api: Api, tips: object, message: str) -> None:
    assert error(api("getBalances", addresses=[RICH], tips=tips)) == message


# --- a fresh node (design.md, difference 4) ---------------------------------------------------


def test_fresh_node_answers_with_the_snapshot() -> None:
    backend = FakeBackend(snapshot_index=7, snapshot_balances={RICH: 42})
    app = create_app(backend, ApiConfig())
    body = call(app, "getBalances", addresses=[RICH, OTHER]).without_duration()
    assert body == {"balances": ["42", "0"], "references": [NULL_HASH], "milestoneIndex": 7}


# --- milestoneIndex (design.md, difference 8) -------------------------------------------------


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (100, (["1000", "5"], NULL_HASH, 100)),
        (101, (["900", "105"], M101, 101)),
        ("101", (["900", "105"], M101, 101)),
        (102, (["900", "105"], M102, 102)),
    ],
)
def test_balances_at_a_milestone(
    api: Api, index: object, expected: tuple[list[str], str, int]
) -> None:
    body = balances(api, addresses=[RICH, OTHER], milestoneIndex=index)
    assert body == {
        "balances": expected[0],
        "references": [expected[1]],
        "milestoneIndex": expected[2],
    }


def test_null_milestone_index_is_ignored(api: Api) -> None:
    assert balances(api, addresses=[RICH], milestoneIndex=None)["milestoneIndex"] == 102


@pytest.mark.parametrize("index", [99, 103, 0, 2**31 - 1])
def test_milestone_index_outside_the_answerable_range(api: Api, index: int) -> None:
    assert error(api("getBalances", addresses=[RICH], milestoneIndex=index)) == (
        f"Invalid milestoneIndex input: milestone {index} is not available; "
        "this node can answer 100 to 102"
    )


@pytest.mark.parametrize(
    ("index", "shown"),
    [
        (-1, "-1"),
        (2**31, "2147483648"),
        (1.5, "1.5"),
        (True, "a boolean"),
        ("abc", "a string"),
        ([101], "an array"),
    ],
)
def test_bad_milestone_index(api: Api, index: object, shown: str) -> None:
    assert error(api("getBalances", addresses=[RICH], milestoneIndex=index)) == (
        f"Invalid milestoneIndex input: expected an integer from 0 to 2147483647, got {shown}"
    )


def test_milestone_index_with_tips_is_refused(api: Api) -> None:
    response = api("getBalances", addresses=[RICH], tips=[TRANSFER_TIP], milestoneIndex=101)
    assert error(response) == "Invalid parameters: 'milestoneIndex' cannot be combined with 'tips'"
    assert balances(api, addresses=[RICH], tips=[], milestoneIndex=101)["references"] == [M101]


# --- the seed page's own example request ------------------------------------------------------

SEED_EXAMPLE = (
    '{"command": "getBalances", "addresses": ["XJBOCKENYQEIQGMIUGLEIOOLEWHKHNUBHEFJSZCXCJYZHKDJQ'
    "TNIZXWFAIEVWCDDKYGUUBRNMAFKNDONBNLAHFUCKWDBFLAOPQOXCYPGAIQPHNTVIIGCWBWSVYBXKYCT9KAKMMUX9NMAVJ"
    'ZKVYWATSQHRNKQGIHFZI", "TTJ9ZVPOHTHROELJUAOLNEOLJCZEEGISPRCWBENWVNOY9IOKFJJT9OLEQRADCUP9MYOZB'
    "QAJQZH9CZJTGVRF9XRUTDSIO9XDEIWKASKWXDOGOCIQSNLWTSKMTADFDBUYRFLWWSSKRWXRBEMJTLDRZALGBOXJRXITQO"
    '"], "tips": ["DIUMVBXKBFSFHNBINLHP9ENB9MDILNVODEOYLEHNCMYCSSQIRHBNFUDPEQUWU9NJLJAZEOAPNQN9XVHG'
    'Q", "IXMKKU9YHWYF9KFFLIFOYTSJDPQLBE9CUMDILFAYYYHQKKIZMPTWYRWFXZEAJYKODXYGJEOVYGLWQNLZA"], '
    '"threshold": "100"}'
)


def test_seed_page_example(app: ASGIApp) -> None:
    # The page's placeholder addresses are 162 trytes long, which no address is.
    response = request(app, SEED_EXAMPLE)
    assert error(response) == (
        "Invalid addresses input: addresses[0] must be 81 trytes (or 90 with a checksum) long, "
        "got 162"
    )
    # With real (checksummed) addresses the string threshold passes and the unknown first tip
    # is what fails; a node that knew the tips would answer.
    fixed = orjson.loads(SEED_EXAMPLE)
    fixed["addresses"] = [add_checksum(RICH), add_checksum(OTHER)]
    assert error(request(app, fixed)) == f"Tip not found: {fixed['tips'][0]}"
