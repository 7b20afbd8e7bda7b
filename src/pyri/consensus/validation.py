"""Ingest validation: whether a node accepts a transaction at all (IRI 1.8.6 reference, §3.1-3.3).

The checks run in IRI's order (``TransactionValidator.runValidation``), and the first failure
decides the verdict, so that pyri reports the same reason IRI would:

1. timestamp: inside the window from the snapshot time to two hours from now (§3.2);
2. value: value-field trits 33..80 are zero;
3. weight: the hash has at least ``mwm`` trailing zero trits;
4. address: a transaction that moves value has 0 as its address's trit 242.

Nothing else is checked at ingest: not the bundle, not the signature, not that trunk and branch
exist. Every function here is pure; the caller passes in the clock, the snapshot time and the
node's sets of solid entry points and recently requested hashes.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from types import MappingProxyType
from typing import Final, Literal, TypeAlias

from pyri.errors import PyriError
from pyri.model.transaction import Transaction

MAX_TIMESTAMP_FUTURE_S: Final = 2 * 60 * 60
MAX_TIMESTAMP_FUTURE_MS: Final = MAX_TIMESTAMP_FUTURE_S * 1000
MAINNET_MWM: Final = 14
# IRI raises any configured MWM to at least 13 unless it runs as a testnet (§3.3).
NON_TESTNET_MWM_FLOOR: Final = 13

ReasonCode: TypeAlias = Literal[
    "invalid_timestamp", "invalid_value", "insufficient_weight", "invalid_address"
]

# IRI's exception messages, which its API passes on (e.g. storeTransactions in 1.8.6 answers
# "Error: Invalid transaction hash"); kept word for word, the timestamp's full stop included.
MESSAGES: Final[Mapping[ReasonCode, str]] = MappingProxyType(
    {
        "invalid_timestamp": "Invalid transaction timestamp.",
        "invalid_value": "Invalid transaction value",
        "insufficient_weight": "Invalid transaction hash",
        "invalid_address": "Invalid transaction address",
    }
)

_NO_HASHES: Final[frozenset[str]] = frozenset()


class InvalidTransaction(PyriError):
    """A transaction failed ingest validation and must not be stored or gossiped.

    ``str(error)`` is IRI's own message for the failure (for API answers); ``code`` is a stable
    machine-readable reason (``invalid_timestamp`` means "stale", which IRI counts apart from the
    other reasons); ``detail`` says exactly which value broke which bound; ``tx_hash`` names the
    transaction.
    """

    def __init__(self, code: ReasonCode, tx_hash: str, detail: str) -> None:
        super().__init__(MESSAGES[code])
        self.code: ReasonCode = code
        self.message = MESSAGES[code]
        self.tx_hash = tx_hash
        self.detail = detail

    def __reduce__(self) -> tuple[type[InvalidTransaction], tuple[ReasonCode, str, str]]:
        # Exceptions pickle as cls(*args), and args holds only the message; ingest workers in
        # other processes hand these back, so rebuild from the constructor's own arguments.
        return (type(self), (self.code, self.tx_hash, self.detail))


def effective_mwm(configured: int, *, testnet: bool) -> int:
    """The minimum weight magnitude a node enforces: the configured one, raised to 13 unless the
    node runs as a testnet."""
    return configured if testnet else max(configured, NON_TESTNET_MWM_FLOOR)


def _timestamp_problem(
    tx: Transaction,
    *,
    snapshot_timestamp_s: int,
    now_ms: int,
    solid_entry_points: Container[str],
    recently_requested: Container[str],
) -> str | None:
    # Transactions this node asked for (mostly while solidifying a milestone) may be old.
    if tx.hash in recently_requested:
        return None
    if tx.attachment_timestamp == 0:
        # Unattached (e.g. pre-2018) transactions are judged by their own timestamp, in seconds.
        # Java's currentTimeMillis() / 1000 truncates; the clock is positive, so // is the same.
        latest_s = now_ms // 1000 + MAX_TIMESTAMP_FUTURE_S
        if tx.timestamp < snapshot_timestamp_s and tx.hash not in solid_entry_points:
            return (
                f"timestamp {tx.timestamp} s is before the snapshot time {snapshot_timestamp_s} s"
            )
        if tx.timestamp > latest_s:
            return f"timestamp {tx.timestamp} s is after {latest_s} s (now + 2 hours)"
        return None
    # Attached transactions are judged by the attachment timestamp alone, in milliseconds: the
    # plain timestamp is not looked at, and the solid-entry-point exemption does not apply.
    earliest_ms = snapshot_timestamp_s * 1000
    latest_ms = now_ms + MAX_TIMESTAMP_FUTURE_MS
    if tx.attachment_timestamp < earliest_ms:
        return (
            f"attachmentTimestamp {tx.attachment_timestamp} ms is before the snapshot time "
            f"{earliest_ms} ms"
        )
    if tx.attachment_timestamp > latest_ms:
        return (
            f"attachmentTimestamp {tx.attachment_timestamp} ms is after {latest_ms} ms "
            "(now + 2 hours)"
        )
    return None


def check_transaction(
    tx: Transaction,
    *,
    mwm: int,
    snapshot_timestamp_s: int,
    now_ms: int,
    solid_entry_points: Container[str] = _NO_HASHES,
    recently_requested: Container[str] = _NO_HASHES,
) -> InvalidTransaction | None:
    """The first rule ``tx`` breaks, as an (unraised) InvalidTransaction, or None if it is valid.

    ``snapshot_timestamp_s`` is the timestamp of the snapshot the node started from (the global
    snapshot's, or the latest local snapshot's milestone timestamp); ``now_ms`` is the wall clock.
    A hash in ``recently_requested`` skips the timestamp rule; a hash in ``solid_entry_points``
    may have an old plain timestamp when it has no attachment timestamp.
    """
    problem = _timestamp_problem(
        tx,
        snapshot_timestamp_s=snapshot_timestamp_s,
        now_ms=now_ms,
        solid_entry_points=solid_entry_points,
        recently_requested=recently_requested,
    )
    if problem is not None:
        return InvalidTransaction("invalid_timestamp", tx.hash, problem)
    if not tx.value_high_trits_zero:
        return InvalidTransaction(
            "invalid_value",
            tx.hash,
            "value field trits 33..80 are not all zero (a value must fit in 33 trits)",
        )
    if tx.weight_magnitude < mwm:
        return InvalidTransaction(
            "insufficient_weight",
            tx.hash,
            f"weight magnitude {tx.weight_magnitude} is below the minimum {mwm}",
        )
    if tx.value != 0 and tx.address_last_trit != 0:
        return InvalidTransaction(
            "invalid_address",
            tx.hash,
            f"address {tx.address} moves value {tx.value} but its last trit is "
            f"{tx.address_last_trit}, not 0",
        )
    return None


def validate_transaction(
    tx: Transaction,
    *,
    mwm: int,
    snapshot_timestamp_s: int,
    now_ms: int,
    solid_entry_points: Container[str] = _NO_HASHES,
    recently_requested: Container[str] = _NO_HASHES,
) -> None:
    """Raise InvalidTransaction for the first ingest rule ``tx`` breaks (see check_transaction)."""
    error = check_transaction(
        tx,
        mwm=mwm,
        snapshot_timestamp_s=snapshot_timestamp_s,
        now_ms=now_ms,
        solid_entry_points=solid_entry_points,
        recently_requested=recently_requested,
    )
    if error is not None:
        raise error


def check_batch(
    txs: Iterable[Transaction],
    *,
    mwm: int,
    snapshot_timestamp_s: int,
    now_ms: int,
    solid_entry_points: Container[str] = _NO_HASHES,
    recently_requested: Container[str] = _NO_HASHES,
) -> list[InvalidTransaction | None]:
    """check_transaction for each transaction, with one clock reading for the whole batch.

    The checks read fields parsed in advance, about a microsecond per transaction, so a plain
    loop keeps up with the batch parser and no vectorised form is needed.
    """
    return [
        check_transaction(
            tx,
            mwm=mwm,
            snapshot_timestamp_s=snapshot_timestamp_s,
            now_ms=now_ms,
            solid_entry_points=solid_entry_points,
            recently_requested=recently_requested,
        )
        for tx in txs
    ]
