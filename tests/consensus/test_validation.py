"""pyri.consensus.validation: IRI 1.8.6 ingest rules on real transactions and on real
transactions changed to break exactly one rule.

A changed transaction gets a new hash, which almost never carries proof of work; tests of the
rules after the weight check therefore pass ``mwm=0``, and the ordering tests show what the
same transaction gives with the mainnet MWM.
"""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from pyri.consensus.validation import (
    MAINNET_MWM,
    InvalidTransaction,
    check_batch,
    check_transaction,
    effective_mwm,
    validate_transaction,
)
from pyri.errors import PyriError
from pyri.model.transaction import (
    ADDRESS,
    ATTACHMENT_TIMESTAMP,
    VALUE,
    Field,
    Transaction,
)
from pyri.trinary import int_to_trytes
from tests.vectors import cases, load_vectors

MAINNET_SNAPSHOT_TIME = 1_554_904_800  # SNAPSHOT_TIME, seconds


def vector_trytes(case_id: str) -> str:
    """The trytes of one transactions.json case (skips the test when the vectors are missing)."""
    found = [c for c in load_vectors("transactions")["cases"] if c["id"] == case_id]
    assert len(found) == 1, case_id
    trytes: str = found[0]["trytes"]
    return trytes


def real(case_id: str) -> Transaction:
    return Transaction.from_trytes(vector_trytes(case_id))


def changed(case_id: str, field: Field, value: str | int, at: int = 0) -> Transaction:
    """The vector transaction with ``value`` written into ``field`` (at tryte ``at`` of it)."""
    text = int_to_trytes(value, field.length) if isinstance(value, int) else value
    trytes = vector_trytes(case_id)
    start = field.offset + at
    assert start + len(text) <= field.offset + field.length
    return Transaction.from_trytes(trytes[:start] + text + trytes[start + len(text) :])


def rejection(tx: Transaction, **kwargs: Any) -> InvalidTransaction:
    with pytest.raises(InvalidTransaction) as info:
        validate_transaction(tx, **kwargs)
    return info.value


def around(tx: Transaction, **overrides: Any) -> dict[str, Any]:
    """Parameters under which ``tx``'s timestamp is comfortably valid, with overrides."""
    moment_ms = tx.attachment_timestamp or tx.timestamp * 1000
    params: dict[str, Any] = {
        "mwm": MAINNET_MWM,
        "snapshot_timestamp_s": moment_ms // 1000 - 86_400,
        "now_ms": moment_ms,
    }
    params.update(overrides)
    return params


# --- passing cases ---------------------------------------------------------------------------

# Real attached transactions with mainnet proof of work (value transactions among them); the
# placeholder that says the vectors are missing is kept, so that the skip shows in the report.
MAINNET_WEIGHT = [
    param
    for param in cases("transactions")
    if param.values[0] is None
    or (
        param.values[0]["hash_trailing_zero_trits"] >= MAINNET_MWM
        and param.values[0]["fields"]["attachmentTimestamp"] > 0
    )
]


@pytest.mark.parametrize("case", MAINNET_WEIGHT)
def test_real_transactions_with_mainnet_weight_are_valid(case: dict[str, Any]) -> None:
    tx = Transaction.from_trytes(case["trytes"])
    validate_transaction(tx, **around(tx))
    assert check_transaction(tx, **around(tx)) is None


def test_august_2020_transactions_pass_against_the_mainnet_snapshot() -> None:
    for case_id in ("bee-batched-DATA_8019-53", "bee-batched-DATA_8019-20"):
        tx = real(case_id)
        validate_transaction(
            tx,
            mwm=MAINNET_MWM,
            snapshot_timestamp_s=MAINNET_SNAPSHOT_TIME,
            now_ms=tx.attachment_timestamp + 1000,
        )


def test_max_supply_value_is_in_range() -> None:
    tx = real("iri-BundleValidatorTest-MaxSupply-1")
    assert tx.value == -2_779_530_283_277_761
    validate_transaction(tx, **around(tx))


def test_zero_value_transaction_may_use_any_address() -> None:
    # Real zero-value transactions whose address ends in trit +1 and -1.
    for case_id in ("bee-batched-DATA_8019-8", "bee-batched-DATA_8019-2"):
        tx = real(case_id)
        assert tx.value == 0 and tx.address_last_trit != 0
        validate_transaction(tx, **around(tx))


# --- timestamp: attachment timestamp (milliseconds) ----------------------------------------


def test_stale_attachment_timestamp_before_the_mainnet_snapshot() -> None:
    tx = real("samples-bundle-0")  # attached in March 2018, before the April 2019 snapshot
    error = rejection(tx, mwm=MAINNET_MWM, snapshot_timestamp_s=MAINNET_SNAPSHOT_TIME, now_ms=0)

    assert isinstance(error, PyriError)
    assert error.code == "invalid_timestamp"
    assert str(error) == error.message == "Invalid transaction timestamp."
    assert error.detail == (
        "attachmentTimestamp 1522184104751 ms is before the snapshot time 1554904800000 ms"
    )
    assert error.tx_hash == tx.hash


def test_attachment_timestamp_lower_bound_is_snapshot_time_in_ms_strict() -> None:
    # 1597847580336 ms: the latest whole second not after it is 1597847580.
    tx = real("bee-batched-DATA_8019-0")
    validate_transaction(tx, **around(tx, snapshot_timestamp_s=1_597_847_580))
    error = rejection(tx, **around(tx, snapshot_timestamp_s=1_597_847_581))
    assert (error.code, error.detail) == (
        "invalid_timestamp",
        "attachmentTimestamp 1597847580336 ms is before the snapshot time 1597847581000 ms",
    )


def test_attachment_timestamp_equal_to_the_snapshot_time_is_valid() -> None:
    on_time = changed("bee-batched-DATA_8019-0", ATTACHMENT_TIMESTAMP, 1_600_000_000_000)
    early = changed("bee-batched-DATA_8019-0", ATTACHMENT_TIMESTAMP, 1_599_999_999_999)
    params: dict[str, Any] = {
        "mwm": 0,
        "snapshot_timestamp_s": 1_600_000_000,
        "now_ms": 1_600_000_000_000,
    }

    validate_transaction(on_time, **params)
    assert rejection(early, **params).code == "invalid_timestamp"


def test_attachment_timestamp_upper_bound_is_now_plus_two_hours_strict() -> None:
    tx = real("bee-batched-DATA_8019-0")
    validate_transaction(tx, **around(tx, now_ms=tx.attachment_timestamp - 7_200_000))
    error = rejection(tx, **around(tx, now_ms=tx.attachment_timestamp - 7_200_001))
    assert (error.code, error.detail) == (
        "invalid_timestamp",
        "attachmentTimestamp 1597847580336 ms is after 1597847580335 ms (now + 2 hours)",
    )


def test_negative_attachment_timestamp_is_stale() -> None:
    tx = real("samples-transactionObject")
    assert tx.attachment_timestamp < 0
    error = rejection(tx, mwm=0, snapshot_timestamp_s=0, now_ms=1_600_000_000_000)
    assert error.code == "invalid_timestamp"


def test_plain_timestamp_is_ignored_when_attached() -> None:
    # This issuer wrote milliseconds into the seconds field: checked as seconds, it would lie
    # some 50,000 years ahead. IRI looks only at the attachment timestamp.
    tx = real("bee-batched-DATA_8019-0")
    assert tx.timestamp == 1_597_847_580_335
    validate_transaction(tx, **around(tx))
    # And a plain timestamp older than the snapshot does not matter either.
    early = real("iri-BundleValidatorTest-comment-0")
    validate_transaction(early, **around(early, snapshot_timestamp_s=early.timestamp + 2))


def test_solid_entry_point_exemption_does_not_cover_attached_transactions() -> None:
    tx = real("samples-bundle-0")
    error = rejection(
        tx,
        mwm=MAINNET_MWM,
        snapshot_timestamp_s=MAINNET_SNAPSHOT_TIME,
        now_ms=0,
        solid_entry_points={tx.hash},
    )
    assert error.code == "invalid_timestamp"


def test_recently_requested_transactions_skip_the_timestamp_rule() -> None:
    tx = real("samples-bundle-0")
    params: dict[str, Any] = {
        "mwm": MAINNET_MWM,
        "snapshot_timestamp_s": MAINNET_SNAPSHOT_TIME,
        "now_ms": 0,
    }
    validate_transaction(tx, recently_requested={tx.hash}, **params)
    assert rejection(tx, recently_requested={"9" * 81}, **params).code == "invalid_timestamp"


# --- timestamp: plain timestamp (seconds), attachment timestamp zero -----------------------

# A real unattached milestone transaction of October 2018, weight 5: mwm=0 isolates the rule.
UNATTACHED = "iri-MilestoneTrackerTest-CURLP27-1"


def test_unattached_lower_bound_is_the_snapshot_time_strict() -> None:
    tx = real(UNATTACHED)
    assert tx.attachment_timestamp == 0 and tx.timestamp == 1_538_496_514
    now_ms = tx.timestamp * 1000
    validate_transaction(tx, mwm=0, snapshot_timestamp_s=tx.timestamp, now_ms=now_ms)
    error = rejection(tx, mwm=0, snapshot_timestamp_s=tx.timestamp + 1, now_ms=now_ms)
    assert (error.code, str(error), error.detail) == (
        "invalid_timestamp",
        "Invalid transaction timestamp.",
        "timestamp 1538496514 s is before the snapshot time 1538496515 s",
    )


def test_unattached_old_solid_entry_point_is_exempt() -> None:
    tx = real(UNATTACHED)
    params: dict[str, Any] = {
        "mwm": 0,
        "snapshot_timestamp_s": MAINNET_SNAPSHOT_TIME,
        "now_ms": 1_600_000_000_000,
    }
    validate_transaction(tx, solid_entry_points={tx.hash}, **params)
    assert rejection(tx, solid_entry_points={"9" * 81}, **params).code == "invalid_timestamp"


def test_unattached_upper_bound_is_now_plus_7200_seconds_strict() -> None:
    tx = real(UNATTACHED)
    limit_ms = (tx.timestamp - 7200) * 1000
    validate_transaction(tx, mwm=0, snapshot_timestamp_s=0, now_ms=limit_ms)
    error = rejection(tx, mwm=0, snapshot_timestamp_s=0, now_ms=limit_ms - 1)
    assert (error.code, error.detail) == (
        "invalid_timestamp",
        "timestamp 1538496514 s is after 1538496513 s (now + 2 hours)",
    )


def test_unattached_upper_bound_truncates_the_clock_to_seconds() -> None:
    # IRI compares with currentTimeMillis() / 1000: 999 ms short of the limit is a whole second
    # short, although rounding would reach it.
    tx = real(UNATTACHED)
    now_ms = (tx.timestamp - 7201) * 1000 + 999
    assert rejection(tx, mwm=0, snapshot_timestamp_s=0, now_ms=now_ms).code == "invalid_timestamp"


# --- value ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("at", "tryte"), [(11, "A"), (26, "I"), (20, "Z")])
def test_high_value_trits_are_invalid(at: int, tryte: str) -> None:
    # Value trytes 11..26 hold value trits 33..80 (tx trits 6837..6884).
    tx = changed("samples-bundle-0", VALUE, tryte, at=at)
    assert tx.value == 1995  # the usable 33 trits are untouched
    error = rejection(tx, **around(tx))
    assert (error.code, str(error), error.detail) == (
        "invalid_value",
        "Invalid transaction value",
        "value field trits 33..80 are not all zero (a value must fit in 33 trits)",
    )


def test_value_trit_32_is_still_usable() -> None:
    tx = changed("samples-bundle-0", VALUE, "I", at=10)  # tryte 10: trits 30, 31, 32
    assert tx.value_high_trits_zero and tx.value == 1995 + 3**32
    assert check_transaction(tx, **around(tx, mwm=0)) is None


# --- weight magnitude ------------------------------------------------------------------------


def test_weight_at_the_mwm_passes_and_below_fails() -> None:
    tx = real("samples-bundle-0")
    assert tx.weight_magnitude == 14
    validate_transaction(tx, **around(tx, mwm=14))
    error = rejection(tx, **around(tx, mwm=15))
    assert (error.code, str(error), error.detail) == (
        "insufficient_weight",
        "Invalid transaction hash",
        "weight magnitude 14 is below the minimum 15",
    )


# --- address of value transactions ----------------------------------------------------------


@pytest.mark.parametrize(("last_tryte", "trit"), [("I", 1), ("R", -1)])
def test_value_to_an_address_with_a_nonzero_last_trit_is_invalid(
    last_tryte: str, trit: int
) -> None:
    tx = changed("samples-bundle-0", ADDRESS, last_tryte, at=80)
    assert tx.address_last_trit == trit
    error = rejection(tx, **around(tx, mwm=0))
    assert (error.code, str(error), error.detail) == (
        "invalid_address",
        "Invalid transaction address",
        f"address {tx.address} moves value 1995 but its last trit is {trit}, not 0",
    )


def test_negative_value_needs_the_zero_last_trit_too() -> None:
    tx = changed("bee-batched-DATA_8019-8", VALUE, -1)
    assert tx.value == -1 and tx.address_last_trit == 1
    assert rejection(tx, **around(tx, mwm=0)).code == "invalid_address"


def test_address_last_trit_zero_with_other_trits_set_is_valid() -> None:
    tx = changed("samples-bundle-0", ADDRESS, "C", at=80)  # "C" is trits (0, 1, 0)
    assert tx.address_last_trit == 0
    validate_transaction(tx, **around(tx, mwm=0))


# --- order of the checks ---------------------------------------------------------------------


def test_checks_run_in_iri_order() -> None:
    both = changed("samples-bundle-0", VALUE, "A" * 16, at=11)  # bad value, and no PoW any more
    value_and_weight = around(both)
    assert rejection(both, **value_and_weight).code == "invalid_value"
    stale = dict(value_and_weight, now_ms=both.attachment_timestamp - 7_200_001)
    assert rejection(both, **stale).code == "invalid_timestamp"

    address = changed("samples-bundle-0", ADDRESS, "I", at=80)
    assert address.weight_magnitude < MAINNET_MWM
    assert rejection(address, **around(address)).code == "insufficient_weight"
    assert rejection(address, **around(address, mwm=0)).code == "invalid_address"


# --- batch and configuration -------------------------------------------------------------------


def test_check_batch_matches_single_checks() -> None:
    txs = [
        real("samples-bundle-0"),
        changed("samples-bundle-0", VALUE, "A", at=11),
        real("bee-batched-DATA_8019-0"),
        changed("samples-bundle-0", ADDRESS, "I", at=80),
    ]
    params: dict[str, Any] = {
        "mwm": 14,
        "snapshot_timestamp_s": 1_500_000_000,
        "now_ms": 1_600_000_000_000,
    }

    results = check_batch(txs, **params)

    assert [None if r is None else r.code for r in results] == [
        None,
        "invalid_value",
        None,
        "insufficient_weight",
    ]
    for tx, result in zip(txs, results, strict=True):
        single = check_transaction(tx, **params)
        assert (single is None) == (result is None)
        if single is not None and result is not None:
            assert (single.code, single.detail, single.tx_hash) == (
                result.code,
                result.detail,
                result.tx_hash,
            )


def test_effective_mwm_has_a_floor_of_13_outside_testnet() -> None:
    assert effective_mwm(14, testnet=False) == 14
    assert effective_mwm(9, testnet=False) == 13
    assert effective_mwm(9, testnet=True) == 9
    assert effective_mwm(1, testnet=True) == 1


def test_invalid_transaction_survives_pickling() -> None:
    error = InvalidTransaction("invalid_value", "9" * 81, "value field trits 33..80 ...")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, str(copy), copy.tx_hash, copy.detail) == (
        "invalid_value",
        "Invalid transaction value",
        "9" * 81,
        "value field trits 33..80 ...",
    )
