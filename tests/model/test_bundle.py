"""pyri.model.bundle against bundles.json, plus constructed bundles for the rules and IRI quirks
the vectors do not reach.

How the vectors are judged: bundles.json states *content* validity of the list as given
(``format``: "currentIndex == position and lastIndex == count-1 for every transaction"), and most
of its bundles were built offline, so they are unattached (trunk and branch are 9s) and cannot be
assembled through trunks. Every case is therefore judged with ``validate_bundle`` on the list in
the order given; a mis-ordered list fails on its indices, as in the vectors. The cases whose trunk
chain is real (``checks.trunk_chain``) are also assembled from element 0 through a lookup by hash,
as IRI does, and checked against IRI's own assertions (where IRI leaves the tail's flag at 0, the
verdict is INCOMPLETE or UNKNOWN, not INVALID). Unattached valid bundles are attached here
(trunk/branch are outside the essence, so hash and signatures stay valid) and assembled too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyri.crypto import wots
from pyri.crypto.kerl import kerl_hash
from pyri.model.bundle import (
    MESSAGES,
    REASONS,
    SUPPLY,
    BundleStatus,
    BundleVerdict,
    BundleVerdictError,
    Lookup,
    ReasonCode,
    assemble_bundle,
    decode_verdicts,
    revalidate_cached,
    validate_bundle,
    validate_from_tail,
)
from pyri.model.transaction import (
    ADDRESS,
    BRANCH_TRANSACTION,
    BUNDLE,
    CURRENT_INDEX,
    LAST_INDEX,
    SIGNATURE_MESSAGE_FRAGMENT,
    TRANSACTION_TRYTES,
    TRUNK_TRANSACTION,
    VALUE,
    Field,
    Transaction,
    parse_batch,
)
from pyri.storage.schema import hashes_from_keys
from pyri.trinary import ALPHABET, Trits, int_to_trytes, trits_to_trytes, trytes_to_trits
from tests.vectors import cases, load_vectors

BUNDLES = cases("bundles")
# Cases whose trunks really chain (the IRI ones); the rest are unattached or re-serialised.
ATTACHED = [p for p in BUNDLES if p.values[0] is None or p.values[0]["checks"]["trunk_chain"]]

# pyri reason code -> the vectors' name for the rule it belongs to.
VECTOR_REASON: dict[ReasonCode, str] = {
    "not_a_tail": "indices",
    "negative_last_index": "indices",
    "current_index": "indices",
    "last_index": "indices",
    "value_range": "value_range",
    "address_last_trit": "value_address_last_trit",
    "value_sum": "value_sum",
    "bundle_hash": "bundle_hash",
    "signature": "signatures",
    "incomplete": "incomplete",
}
# IRI checks in stages: the one-pass walk, then the sum, the bundle hash, the signatures. The
# reported rule must come from the earliest stage any expected reason belongs to.
STAGE = {
    "incomplete": 0,
    "indices": 0,
    "value_range": 0,
    "value_address_last_trit": 0,
    "value_sum": 1,
    "bundle_hash": 2,
    "signatures": 3,
}

# Assembled from their tail, IRI's own tests say: the tail flag is left 0 for a missing
# transaction and for a transaction whose bundle field differs (the loader stops before it).
IRI_FROM_TAIL: dict[str, tuple[BundleStatus, ReasonCode, int]] = {
    "iri-missingNonTail": (BundleStatus.INCOMPLETE, "incomplete", 0),
    "iri-invalidBundleHashTail": (BundleStatus.UNKNOWN, "foreign_bundle", 0),
    "iri-invalidBundleHashNonTail": (BundleStatus.UNKNOWN, "foreign_bundle", 0),
    "iri-validBundle": (BundleStatus.VALID, "valid", 1),
    "iri-biggerValidBundle": (BundleStatus.VALID, "valid", 1),
    "iri-invalidSignature": (BundleStatus.INVALID, "signature", -1),
    "iri-invalidIndices": (BundleStatus.INVALID, "current_index", -1),
}

NULL_ADDRESS = "9" * 81  # last trit 0, so it may carry value
OUTSIDE_TRUNK = "T" * 81
OUTSIDE_BRANCH = "B" * 81
FIELDS: dict[str, Field] = {
    "address": ADDRESS,
    "value": VALUE,
    "current_index": CURRENT_INDEX,
    "last_index": LAST_INDEX,
    "bundle": BUNDLE,
    "trunk_transaction": TRUNK_TRANSACTION,
    "branch_transaction": BRANCH_TRANSACTION,
    "signature_message_fragment": SIGNATURE_MESSAGE_FRAGMENT,
}


# --- helpers ------------------------------------------------------------------------------------


def parse(trytes: Sequence[str]) -> list[Transaction]:
    parsed = parse_batch(list(trytes))
    assert all(isinstance(tx, Transaction) for tx in parsed)
    return [tx for tx in parsed if isinstance(tx, Transaction)]


def vector(case_id: str) -> list[Transaction]:
    found = [c for c in load_vectors("bundles")["cases"] if c["id"] == case_id]
    assert len(found) == 1, case_id
    return parse(found[0]["trytes"])


def replace(tx: Transaction | None = None, **changes: str | int) -> Transaction:
    """``tx`` (default: all 9s) with fields replaced; integers are written as balanced trytes."""
    trytes = tx.trytes if tx is not None else "9" * TRANSACTION_TRYTES
    for name, value in changes.items():
        where = FIELDS[name]
        text = value if isinstance(value, str) else int_to_trytes(value, where.length)
        assert len(text) == where.length
        trytes = trytes[: where.offset] + text + trytes[where.offset + where.length :]
    return Transaction.from_trytes(trytes)


def blank(index: int, last: int, value: int = 0, address: str = NULL_ADDRESS) -> Transaction:
    return replace(address=address, value=value, current_index=index, last_index=last)


def bundle_hash(txs: Sequence[Transaction]) -> str:
    return trits_to_trytes(kerl_hash(trytes_to_trits("".join(tx.essence for tx in txs))))


def rebundle(txs: Sequence[Transaction]) -> list[Transaction]:
    """The same essences with a correct bundle field (for checks that come after the hash)."""
    digest = bundle_hash(txs)
    return [replace(tx, bundle=digest) for tx in txs]


def attach(
    txs: Sequence[Transaction],
    trunk: str = OUTSIDE_TRUNK,
    branch: str = OUTSIDE_BRANCH,
    others_branch: str | None = None,
) -> list[Transaction]:
    """Chain ``txs`` through trunks, head first, as attachToTangle does: the head approves
    ``trunk`` and ``branch``, every other transaction's branch is the head's trunk (unless
    ``others_branch`` says otherwise)."""
    chained = [replace(txs[-1], trunk_transaction=trunk, branch_transaction=branch)]
    for tx in reversed(txs[:-1]):
        chained.append(
            replace(
                tx,
                trunk_transaction=chained[-1].hash,
                branch_transaction=others_branch or trunk,
            )
        )
    return chained[::-1]


def lookup_of(*groups: Sequence[Transaction]) -> Lookup:
    stored = {tx.hash: tx for group in groups for tx in group}
    return stored.get


def no_lookup(hash_: str) -> Transaction | None:
    raise AssertionError(f"nothing should be loaded, but {hash_} was")


@cache
def key(index: int, security: int) -> Trits:
    seed = trytes_to_trits("PYRIBUNDLETEST".ljust(81, "9"))
    return wots.private_key(wots.subseed(seed, index), security)


def address_of(*keys: Trits) -> str:
    """The address of one key, or of several keys signing together (a multisig address)."""
    return trits_to_trytes(
        wots.address_from_digests(np.concatenate([wots.key_digests(k) for k in keys]))
    )


def build(
    spec: Sequence[tuple[str, int] | tuple[tuple[Trits, ...], int]],
    *,
    restart_segments: bool = False,
) -> list[Transaction]:
    """A signed bundle: ``(address, value)`` is an output or message, ``(keys, value)`` an input
    whose fragments fill one transaction each (value on the first, 0 on the rest). Several keys
    sign one after the other, continuing the segment count unless ``restart_segments``."""
    rows: list[tuple[str, int, str]] = []
    inputs: list[tuple[int, tuple[Trits, ...]]] = []
    for owner, value in spec:
        if isinstance(owner, str):
            rows.append((owner, value, "9" * 2187))
            continue
        inputs.append((len(rows), owner))
        fragments = sum(k.shape[0] for k in owner) // wots.FRAGMENT_TRITS
        rows += [(address_of(*owner), value if f == 0 else 0, "") for f in range(fragments)]
    last = len(rows) - 1
    txs = [blank(i, last, value, address) for i, (address, value, _) in enumerate(rows)]
    txs = rebundle(txs)
    digest = txs[0].bundle
    for start, keys in inputs:
        signature, first = [], 0
        for k in keys:
            signature.append(wots.sign(k, digest, first_fragment=0 if restart_segments else first))
            first += k.shape[0] // wots.FRAGMENT_TRITS
        text = trits_to_trytes(np.concatenate(signature))
        for f in range(len(text) // 2187):
            fragment = text[2187 * f : 2187 * (f + 1)]
            txs[start + f] = replace(txs[start + f], signature_message_fragment=fragment)
    return txs


def assert_valid_diff(verdict: BundleVerdict, txs: Sequence[Transaction]) -> None:
    assert verdict.valid and verdict.reason == "valid" and verdict.index is None
    assert sum(verdict.value_diff.values()) == 0
    assert all(verdict.value_diff.values())
    assert verdict.spent_addresses == tuple(dict.fromkeys(t.address for t in txs if t.value < 0))
    for address in verdict.spent_addresses:
        assert verdict.value_diff.get(address, 0) <= 0


# --- the vectors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", BUNDLES)
def test_vector_verdict_of_the_list_as_given(case: dict[str, Any]) -> None:
    txs = parse(case["trytes"])
    verdict = validate_bundle(txs)

    assert verdict.valid is case["expected"]["valid"], verdict.message
    if verdict.valid:
        assert_valid_diff(verdict, txs)
        assert verdict.cacheable and verdict.validity_flag == 1
        return
    assert not verdict.value_diff and not verdict.spent_addresses
    reasons = case["expected"]["reasons"]
    assert VECTOR_REASON[verdict.reason] in reasons
    assert STAGE[VECTOR_REASON[verdict.reason]] == min(STAGE[r] for r in reasons)


@pytest.mark.parametrize("case", ATTACHED)
def test_vector_assembled_from_its_tail(case: dict[str, Any]) -> None:
    txs = parse(case["trytes"])
    lookup = lookup_of(txs)
    verdict = validate_from_tail(txs[0], lookup)

    listed = validate_bundle(txs)
    status, reason, flag = IRI_FROM_TAIL.get(
        case["id"], (listed.status, listed.reason, listed.validity_flag)
    )
    assert (verdict.status, verdict.reason, verdict.validity_flag) == (status, reason, flag)
    if verdict.valid:
        assert verdict == listed
        assert assemble_bundle(txs[0], lookup) == txs
    elif txs[0].current_index == 0:
        # The loader gets the whole chain unless a transaction is missing or foreign.
        broken = verdict.status in (BundleStatus.INCOMPLETE, BundleStatus.UNKNOWN)
        assert (assemble_bundle(txs[0], lookup) is None) is broken


def test_non_tail_bundle_hash_mismatch_is_unknown_not_invalid() -> None:
    # Appendix B item 8: the loader stops before the transaction with the other bundle field.
    txs = vector("iri-invalidBundleHashNonTail")
    verdict = validate_from_tail(txs[0], lookup_of(txs))

    assert (verdict.status, verdict.reason, verdict.index) == (
        BundleStatus.UNKNOWN,
        "foreign_bundle",
        2,
    )
    assert not verdict.cacheable
    # Judged as a list, the same transactions break the bundle-hash rule.
    assert validate_bundle(txs).reason == "bundle_hash"


def test_approval_failure_only_under_extra_rules() -> None:
    txs = vector("iri-approvalFailure")

    assert validate_bundle(txs).valid
    strict = validate_bundle(txs, enforce_extra_rules=True)
    assert (strict.status, strict.reason, strict.index) == (
        BundleStatus.INVALID,
        "transaction_approval",
        1,
    )
    assert strict.cacheable


def test_value_diff_of_the_bigger_valid_bundle() -> None:
    txs = vector("iri-biggerValidBundle")
    verdict = validate_bundle(txs)

    expected: dict[str, int] = {}
    for tx in txs:
        if tx.value:
            expected[tx.address] = expected.get(tx.address, 0) + tx.value
    assert dict(verdict.value_diff) == expected
    assert verdict.value_diff[txs[6].address] == -19_775_074_881_463
    assert verdict.spent_addresses == (txs[6].address,)
    assert_valid_diff(verdict, txs)


VALID_CASES = [p for p in BUNDLES if p.values[0] is not None and p.values[0]["expected"]["valid"]]


@pytest.mark.parametrize("case", VALID_CASES)
def test_valid_vectors_attached_and_assembled(case: dict[str, Any]) -> None:
    txs = attach(parse(case["trytes"]))
    lookup = lookup_of(txs)

    assert assemble_bundle(txs[0], lookup) == txs
    verdict = validate_from_tail(txs[0], lookup, enforce_extra_rules=True)
    assert verdict.valid, verdict.message
    assert verdict == validate_bundle(parse(case["trytes"]))


# --- constructed: the semantic walk (§5.5) --------------------------------------------------------


@pytest.mark.parametrize("sign", [1, -1])
def test_running_sum_outside_the_supply(sign: int) -> None:
    txs = [blank(0, 2, sign * SUPPLY), blank(1, 2, sign), blank(2, 2, -sign * SUPPLY)]
    verdict = validate_bundle(txs)
    assert (verdict.reason, verdict.index) == ("value_range", 1)


def test_running_sum_may_reach_the_supply_exactly() -> None:
    txs = rebundle([blank(0, 1, SUPPLY), blank(1, 1, -SUPPLY)])
    # The walk and the hash pass; the input has no signature.
    assert (validate_bundle(txs).reason, validate_bundle(txs).index) == ("signature", 1)


def test_value_on_an_address_whose_last_trit_is_not_zero() -> None:
    odd_address = "9" * 80 + "I"  # last tryte (0, 0, 1)
    txs = [blank(0, 1, 5, odd_address), blank(1, 1, -5)]
    assert (validate_bundle(txs).reason, validate_bundle(txs).index) == ("address_last_trit", 0)
    # Without value the same address is fine.
    assert validate_bundle(rebundle([blank(0, 0, 0, odd_address)])).valid


def test_zero_value_single_transaction_is_a_valid_bundle() -> None:
    verdict = validate_bundle(rebundle([blank(0, 0)]))
    assert verdict.valid and not verdict.value_diff and not verdict.spent_addresses


def test_transactions_beyond_last_index() -> None:
    txs = rebundle([blank(0, 1), blank(1, 1)])
    verdict = validate_bundle([*txs, blank(2, 1)])
    assert (verdict.status, verdict.reason, verdict.index) == (
        BundleStatus.INVALID,
        "last_index",
        2,
    )


def test_negative_last_index_is_invalid_but_never_cached() -> None:
    # IRI throws here (Appendix C item 1) and writes no flag; pyri says INVALID.
    tail = blank(0, -1)
    for verdict in (validate_bundle([tail]), validate_from_tail(tail, no_lookup)):
        assert (verdict.status, verdict.reason) == (BundleStatus.INVALID, "negative_last_index")
        assert not verdict.cacheable and verdict.validity_flag == 0
    assert assemble_bundle(tail, no_lookup) is None


def test_not_a_tail() -> None:
    txs = vector("iri-validBundle")
    verdict = validate_from_tail(txs[1], no_lookup)
    assert (verdict.status, verdict.reason) == (BundleStatus.INVALID, "not_a_tail")
    assert not verdict.cacheable  # IRI refuses a non-tail without writing its flag
    assert assemble_bundle(txs[1], no_lookup) is None


def test_empty_list_is_incomplete() -> None:
    assert validate_bundle([]).status is BundleStatus.INCOMPLETE


def test_rule_broken_before_a_missing_entry_is_invalid() -> None:
    txs = vector("mut-sec3-current-index")  # entry 3 has currentIndex 4
    assert validate_bundle(txs[:4]).reason == "current_index"
    attached = attach(txs)
    verdict = validate_from_tail(attached[0], lookup_of(attached[:4]))
    assert (verdict.status, verdict.reason, verdict.index) == (
        BundleStatus.INVALID,
        "current_index",
        3,
    )


def test_missing_entry_before_a_broken_rule_is_incomplete() -> None:
    txs = vector("mut-sec3-current-index")
    verdict = validate_bundle(txs[:2])
    assert (verdict.status, verdict.reason, verdict.index) == (
        BundleStatus.INCOMPLETE,
        "incomplete",
        2,
    )
    attached = attach(txs)
    from_tail = validate_from_tail(attached[0], lookup_of(attached[:2], attached[3:]))
    assert from_tail == verdict
    assert not verdict.cacheable and verdict.validity_flag == 0


def test_chain_reaching_a_tail_is_unknown() -> None:
    # Appendix B item 7: the loader stops at a transaction with currentIndex 0.
    txs = vector("computed-sec2")
    broken = attach([*txs[:2], replace(txs[2], current_index=0), *txs[3:]])
    verdict = validate_from_tail(broken[0], lookup_of(broken))
    assert (verdict.status, verdict.reason, verdict.index) == (
        BundleStatus.UNKNOWN,
        "unexpected_tail",
        2,
    )
    assert validate_bundle(broken).reason == "current_index"


# --- constructed: signatures (§5.7) --------------------------------------------------------------


def test_security_levels_and_a_net_zero_address() -> None:
    sec1, sec3 = key(0, 1), key(1, 3)
    a1, a3 = address_of(sec1), address_of(sec3)
    txs = build([(a1, 100), ((sec1,), -100), ((sec3,), -40), (NULL_ADDRESS, 30), (a3, 10)])
    verdict = validate_bundle(txs)

    assert_valid_diff(verdict, txs)
    # a1 receives what it spends: no balance change, but it is still spent from.
    assert dict(verdict.value_diff) == {a3: -30, NULL_ADDRESS: 30}
    assert verdict.spent_addresses == (a1, a3)


def test_fragments_beyond_three_wrap_around_the_segments() -> None:
    # A 5-fragment input (a 2-key and a 3-key signer): fragment k signs normalized segment
    # k mod 3, so the second key's fragments 2, 3, 4 sign segments 2, 0, 1.
    keys = (key(2, 2), key(3, 3))
    txs = build([(NULL_ADDRESS, 7), (keys, -7)])
    assert len(txs) == 6
    assert validate_bundle(txs).valid

    # Restarting the second key at segment 0 is what IRI does not do.
    restarted = build([(NULL_ADDRESS, 7), (keys, -7)], restart_segments=True)
    verdict = validate_bundle(restarted)
    assert (verdict.reason, verdict.index) == ("signature", 1)


def test_which_transactions_carry_an_inputs_fragments() -> None:
    sec1 = key(0, 1)
    own = address_of(sec1)
    # A zero-value transaction at the input's address right after it is read as a fragment ...
    assert validate_bundle(build([((sec1,), -3), (own, 0), (NULL_ADDRESS, 3)])).reason == (
        "signature"
    )
    # ... one with value at that address ends the input, whatever its sign ...
    returned = validate_bundle(build([((sec1,), -3), (own, 3)]))
    assert returned.valid and not returned.value_diff and returned.spent_addresses == (own,)
    # ... and a zero-value transaction at another address is free data, never checked.
    free = build([(NULL_ADDRESS, 3), ((sec1,), -3), (address_of(key(4, 1)), 0)])
    assert validate_bundle(free).valid


# --- constructed: extra rules (§5.6) -------------------------------------------------------------


def test_tail_approval() -> None:
    txs = vector("computed-sec1")
    non_tail = vector("iri-validBundle")[1]
    tail = vector("samples-bundleWithZeroValue")[0]

    bad = attach(txs, trunk=tail.hash, branch=non_tail.hash)
    lookup = lookup_of(bad, [non_tail, tail])
    strict = validate_from_tail(bad[0], lookup, enforce_extra_rules=True)
    assert (strict.reason, strict.index) == ("tail_approval", 1)
    assert validate_from_tail(bad[0], lookup).valid
    # Quirk: an approvee that is not stored counts as a tail.
    assert validate_from_tail(bad[0], lookup_of(bad, [tail]), enforce_extra_rules=True).valid


def test_transaction_approval_from_the_tail() -> None:
    txs = attach(vector("computed-sec2"), others_branch=OUTSIDE_BRANCH)
    lookup = lookup_of(txs)
    strict = validate_from_tail(txs[0], lookup, enforce_extra_rules=True)
    assert (strict.reason, strict.index) == ("transaction_approval", 0)
    assert validate_from_tail(txs[0], lookup).valid


def test_bundle_hash_is_checked_before_extra_rules_and_signatures() -> None:
    txs = attach(vector("mut-sec3-bundle-field"), others_branch=OUTSIDE_BRANCH)
    verdict = validate_bundle(txs, enforce_extra_rules=True)
    assert (verdict.reason, verdict.index) == ("bundle_hash", 3)


# --- caching (§5.8) -----------------------------------------------------------------------------


def test_cached_invalid_from_an_extra_rule_also_fails_without_extra_rules() -> None:
    # Shortcut A with consensus impact: the ledger step (no extra rules) then refuses the bundle.
    txs = attach(vector("computed-sec2"), others_branch=OUTSIDE_BRANCH)
    lookup = lookup_of(txs)
    strict = validate_from_tail(txs[0], lookup, enforce_extra_rules=True)
    assert strict.cacheable and strict.validity_flag == -1
    stored = BundleVerdict.decode(strict.encode())

    assert validate_from_tail(txs[0], no_lookup, cached=stored) == strict
    assert validate_from_tail(txs[0], lookup).valid  # only a node without the flag accepts it


def test_cached_valid_skips_hash_extra_rules_and_signatures_but_still_walks() -> None:
    # Shortcut B: a bundle first judged without extra rules later passes extra-rule callers.
    txs = attach(vector("computed-sec2"), others_branch=OUTSIDE_BRANCH)
    lookup = lookup_of(txs)
    first = validate_from_tail(txs[0], lookup)
    assert first.valid and first.cacheable and first.validity_flag == 1
    again = validate_from_tail(txs[0], lookup, enforce_extra_rules=True, cached=first)
    assert again == first

    # Not even the signature is looked at again ...
    forged = attach(vector("mut-sec3-signature"))
    assert validate_from_tail(forged[0], lookup_of(forged)).reason == "signature"
    assert validate_from_tail(forged[0], lookup_of(forged), cached=first).valid
    # ... but the semantic walk runs: a transaction pruned since is noticed.
    verdict = validate_from_tail(txs[0], lookup_of(txs[:3]), cached=first)
    assert verdict.status is BundleStatus.INCOMPLETE and not verdict.cacheable


def trunks_of(*groups: Sequence[Transaction]) -> Callable[[str], str | None]:
    stored = {tx.hash: tx.trunk_transaction for group in groups for tx in group}
    return stored.get


def test_a_cached_verdict_revalidated_from_trunks_is_validate_from_tails_answer() -> None:
    txs = attach(vector("computed-sec2"), others_branch=OUTSIDE_BRANCH)
    first = validate_from_tail(txs[0], lookup_of(txs))
    tail = txs[0]

    def both(stored: Sequence[Transaction]) -> tuple[BundleVerdict, BundleVerdict]:
        full = validate_from_tail(tail, lookup_of(stored), enforce_extra_rules=True, cached=first)
        light = revalidate_cached(tail.trunk_transaction, tail.last_index, first, trunks_of(stored))
        return full, light

    full, light = both(txs)
    assert full == light == first and light is first
    # Any transaction of the chain pruned since: INCOMPLETE at the first one missing.
    for gone in range(1, len(txs)):
        full, light = both(txs[:gone] + txs[gone + 1 :])
        assert full == light
        assert (light.status, light.index) == (BundleStatus.INCOMPLETE, gone)


def no_trunks(hash_: str) -> str | None:
    raise AssertionError(f"nothing should be read, but {hash_} was")


def test_a_cached_invalid_is_returned_and_no_other_status_is_a_cached_one() -> None:
    invalid = BundleVerdict(BundleStatus.INVALID, "signature", 2)
    assert revalidate_cached(OUTSIDE_TRUNK, 3, invalid, no_trunks) is invalid
    valid = validate_bundle([blank(0, 0)])
    negative = revalidate_cached(OUTSIDE_TRUNK, -1, valid, no_trunks)
    assert negative == validate_from_tail(blank(0, -1), no_lookup, cached=valid)
    incomplete = BundleVerdict(BundleStatus.INCOMPLETE, "incomplete")
    with pytest.raises(ValueError, match="INCOMPLETE"):
        revalidate_cached(OUTSIDE_TRUNK, 3, incomplete, no_trunks)


@pytest.mark.parametrize("reason", REASONS)
def test_which_verdicts_iri_writes_to_the_tail_flag(reason: ReasonCode) -> None:
    verdict = BundleVerdict(status_of(reason), reason)
    written = reason not in ("incomplete", "foreign_bundle", "unexpected_tail", "not_a_tail")
    written = written and reason != "negative_last_index"
    assert verdict.cacheable is written
    assert verdict.validity_flag == ((1 if reason == "valid" else -1) if written else 0)


# --- the verdict type ---------------------------------------------------------------------------

ADDRESSES = st.text(alphabet=ALPHABET, min_size=81, max_size=81)
VALUES = st.integers(-SUPPLY, SUPPLY).filter(bool)
INDEXES = st.none() | st.integers(0, 2**40)


def status_of(reason: ReasonCode) -> BundleStatus:
    if reason == "valid":
        return BundleStatus.VALID
    if reason == "incomplete":
        return BundleStatus.INCOMPLETE
    if reason in ("foreign_bundle", "unexpected_tail"):
        return BundleStatus.UNKNOWN
    return BundleStatus.INVALID


@st.composite
def verdicts(draw: st.DrawFn) -> BundleVerdict:
    reason: ReasonCode = draw(st.sampled_from(REASONS))
    if reason != "valid":
        return BundleVerdict(status_of(reason), reason, draw(INDEXES))
    diff = draw(st.dictionaries(ADDRESSES, VALUES, max_size=6))
    spent = draw(st.lists(ADDRESSES, max_size=4, unique=True))
    return BundleVerdict(BundleStatus.VALID, "valid", None, diff, tuple(spent))


@given(verdicts())
def test_encode_decode_round_trip(verdict: BundleVerdict) -> None:
    data = verdict.encode()
    decoded = BundleVerdict.decode(data)
    assert decoded == verdict
    assert list(decoded.value_diff.items()) == list(verdict.value_diff.items())
    assert decoded.message == verdict.message


def test_encoded_verdicts_are_compact() -> None:
    verdict = validate_bundle(vector("samples-bundle"))
    assert len(validate_bundle([]).encode()) == 18
    # 3 addresses with values, 1 spent address: 57 bytes per entry, 49 per spent address.
    assert len(verdict.encode()) == 18 + 3 * 57 + 49


@given(st.lists(verdicts(), max_size=8), st.randoms())
def test_decoding_many_verdicts_at_once(drawn: list[BundleVerdict], rng: Any) -> None:
    encoded = [v.encode() for v in drawn] * 2  # equal encodings share one verdict
    rng.shuffle(encoded)
    decoded = decode_verdicts(encoded)
    assert decoded == [BundleVerdict.decode(data) for data in encoded]
    for data, verdict in zip(encoded, decoded, strict=True):
        assert verdict is decoded[encoded.index(data)]
    # The store's compiled converter reads the packed addresses the same way.
    assert decode_verdicts(encoded, hashes_from_keys) == decoded


def test_a_corrupt_address_is_a_malformed_verdict_whichever_converter() -> None:
    data = b"\x01\x00" + b"\xff" * 8 + bytes(4) + b"\x00\x00\x00\x01" + b"\x7f" * 49
    for unpack in (None, hashes_from_keys):
        with pytest.raises(BundleVerdictError):
            decode_verdicts([data], unpack)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x02" + bytes(17),  # unknown version
        b"\x01\xff" + bytes(16),  # unknown reason
        BundleVerdict(BundleStatus.INVALID, "value_sum").encode() + b"\x00",
        BundleVerdict(BundleStatus.VALID, "valid", None, {"A" * 81: 1}).encode()[:-20],
        # version 1, "valid", no index, no diff, one spent address whose bytes are not trits
        b"\x01\x00" + b"\xff" * 8 + bytes(4) + b"\x00\x00\x00\x01" + b"\x7f" * 49,
    ],
)
def test_decode_refuses_malformed_data(data: bytes) -> None:
    with pytest.raises(BundleVerdictError):
        BundleVerdict.decode(data)
    with pytest.raises(BundleVerdictError):
        decode_verdicts([BundleVerdict(BundleStatus.VALID, "valid").encode(), data])


def test_verdict_parts_must_agree() -> None:
    with pytest.raises(BundleVerdictError):
        BundleVerdict(BundleStatus.VALID, "signature")
    with pytest.raises(BundleVerdictError):
        BundleVerdict(BundleStatus.INVALID, "value_sum", None, {"A" * 81: 1})


def test_verdict_is_read_only_and_hashable() -> None:
    verdict = validate_bundle(vector("samples-bundle"))
    with pytest.raises(TypeError):
        verdict.value_diff["X" * 81] = 1  # type: ignore[index]
    assert hash(verdict) == hash(BundleVerdict.decode(verdict.encode()))
    assert set(MESSAGES) == set(REASONS)
