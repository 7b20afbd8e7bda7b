"""pyri.consensus.milestone: IRI 1.8.6's milestone validation (reference §6.1, §6.2) on the real
milestones of milestones.json and on milestones signed here by a test coordinator
(``milestone_builder``), in every sponge, security level 1-3 and every key of a small tree.

Each test names the step of §6.2 that decides. The order matters: a change that breaks both the
bundle (step 3) and the signature (step 10) gives INCOMPLETE, because step 3 comes first and IRI
never calls a milestone with an invalid bundle INVALID.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest

from pyri.consensus.coordinator import CoordinatorConfig
from pyri.consensus.milestone import (
    MESSAGES,
    REASONS,
    MilestoneStatus,
    MilestoneVerdict,
    MilestoneVerdictError,
    coordinator_root,
    is_candidate,
    validate_milestone,
    validate_milestone_in,
)
from pyri.consensus.view import TxLinks, links_of
from pyri.crypto.sponge import SpongeMode
from pyri.model.bundle import BundleStatus, BundleVerdict
from pyri.model.transaction import OBSOLETE_TAG, Transaction, parse_batch
from pyri.storage.schema import TxMeta
from pyri.trinary import NULL_HASH
from tests.consensus.milestone_builder import (
    CoordinatorKeys,
    build_milestone,
    index_tag,
    lookup_of,
    parse_one,
    transaction_trytes,
    with_field,
)
from tests.vectors import cases, load_vectors

SEED = "MILESTONE9TEST9COORDINATOR9SEED".ljust(81, "9")
OTHER_SEED = "ANOTHER9COORDINATOR".ljust(81, "9")
DEPTH = 3
# Two approvees outside the bundle; absent from every lookup, which the tail-approval rule
# accepts (§5.6a quirk: a missing transaction reads as a tail).
TRUNK = "TRUNK".ljust(81, "9")
BRANCH = "BRANCH".ljust(81, "9")


@cache
def coordinator(
    mode: SpongeMode = SpongeMode.KERL, security: int = 2, depth: int = DEPTH, seed: str = SEED
) -> CoordinatorKeys:
    """Keys are the slow part; each tree is generated once per test run."""
    return CoordinatorKeys.generate(seed, depth, security, mode)


def milestone(keys: CoordinatorKeys, index: int, **forge: Any) -> list[Transaction]:
    return build_milestone(keys, index, trunk=TRUNK, branch=BRANCH, **forge)


def judge(
    bundle: list[Transaction],
    config: CoordinatorConfig,
    *,
    known_index_hash: str | None = None,
    cached_bundle: BundleVerdict | None = None,
    tail: Transaction | None = None,
    extra: tuple[Transaction, ...] = (),
) -> MilestoneVerdict:
    lookup = lookup_of(*bundle, *extra)
    return validate_milestone(
        bundle[0] if tail is None else tail,
        lookup.get,
        config,
        known_index_hash=known_index_hash,
        cached_bundle=cached_bundle,
    )


def assert_verdict(
    verdict: MilestoneVerdict, status: MilestoneStatus, reason: str, bundle: str | None = "valid"
) -> None:
    assert (verdict.status, verdict.reason) == (status, reason), verdict.message
    assert (verdict.bundle.reason if verdict.bundle else None) == bundle, verdict.bundle


# --- the real milestones (milestones.json) -------------------------------------------------------


def vector_config(case: Mapping[str, Any], **changes: object) -> CoordinatorConfig:
    """The IRI flags of the test the milestone comes from (``iri_settings``), plus changes."""
    settings = case["iri_settings"]
    flags: dict[str, object] = {k: v for k, v in settings.items() if k.startswith("--")}
    flags["--testnet-coordinator-signature-mode"] = settings["coordinator signature mode"]
    flags["--testnet-coordinator-security-level"] = settings["coordinator security level"]
    flags.update(changes)
    return CoordinatorConfig.from_flags(True, **flags)


def parse_vector(trytes: list[str]) -> list[Transaction]:
    parsed = parse_batch(trytes)
    assert all(isinstance(tx, Transaction) for tx in parsed)
    return [tx for tx in parsed if isinstance(tx, Transaction)]


@pytest.mark.parametrize("case", cases("milestones", "milestone"))
def test_real_milestones_are_valid(case: dict[str, Any]) -> None:
    # The vectors are attached bundles: tx i's trunk is tx i+1, the head's approvees are not
    # part of them (absent here), every signature transaction's branch is the head's trunk.
    bundle = parse_vector(case["trytes"])
    assert [tx.hash for tx in bundle] == case["transaction_hashes"]
    config = vector_config(case)
    tail = bundle[0]
    assert tail.milestone_index == case["milestone_index"]
    assert is_candidate(tail, config)
    assert not any(is_candidate(tx, config) for tx in bundle[1:])
    verdict = judge(bundle, config)
    assert_verdict(verdict, MilestoneStatus.VALID, "valid")
    assert (verdict.index, verdict.hash) == (case["milestone_index"], tail.hash)
    assert verdict.records_index
    assert verdict.bundle is not None and verdict.bundle.cacheable
    assert coordinator_root(bundle, tail.milestone_index, config) == case["coordinator_address"]


def negative(case: Mapping[str, Any]) -> tuple[list[Transaction], CoordinatorConfig]:
    """The bundle and configuration a milestone_negative case describes."""
    base = {c["id"]: c for c in load_vectors("milestones")["cases"]}[case["based_on"]]
    bundle = parse_vector(case.get("trytes", base["trytes"]))
    changes: dict[str, object] = {}
    if "coordinator_address" in case:
        changes["--testnet-coordinator"] = case["coordinator_address"]
    if "signature_mode KERL" in case["change"]:
        changes["--testnet-coordinator-signature-mode"] = "KERL"
    if "merkle_depth 8" in case["change"]:
        changes["--milestone-keys"] = 8
    return bundle, vector_config(base, **changes)


# What IRI 1.8.6 gives for each constructed case. The changed obsoleteTag is part of the essence,
# so the bundle hash no longer matches: step 3 fails first and the milestone is INCOMPLETE, not
# INVALID (§6.2 step 3; Appendix B item 8), although the Merkle path would also miss.
NEGATIVE_OUTCOMES: Mapping[str, tuple[MilestoneStatus, str, str]] = {
    "neg-wrong-coordinator": (MilestoneStatus.INVALID, "wrong_root", "valid"),
    "neg-wrong-sponge": (MilestoneStatus.INVALID, "wrong_root", "valid"),
    "neg-wrong-depth": (MilestoneStatus.INVALID, "wrong_root", "valid"),
    "neg-wrong-index": (MilestoneStatus.INCOMPLETE, "bundle_not_valid", "bundle_hash"),
    "neg-altered-signature": (MilestoneStatus.INVALID, "wrong_root", "valid"),
}


@pytest.mark.parametrize("case", cases("milestones", "milestone_negative"))
def test_real_milestones_made_to_fail(case: dict[str, Any]) -> None:
    bundle, config = negative(case)
    status, reason, bundle_reason = NEGATIVE_OUTCOMES[case["id"]]
    verdict = judge(bundle, config)
    assert_verdict(verdict, status, reason, bundle_reason)
    assert not verdict.records_index


def test_the_changed_index_alone_would_miss_the_coordinator() -> None:
    # neg-wrong-index once more with the bundle hash repaired: with step 3 passing, step 10
    # rejects it, which is what the vector's reason describes.
    case = next(c for c in load_vectors("milestones")["cases"] if c.get("id") == "neg-wrong-index")
    bundle, config = negative(case)
    assert bundle[0].milestone_index == 5
    assert coordinator_root(bundle, 5, config) != config.address


# --- built milestones: every key of a tree, every sponge and security level --------------------


@pytest.mark.parametrize("security", [1, 2, 3])
@pytest.mark.parametrize("mode", list(SpongeMode))
def test_every_key_signs_a_valid_milestone(mode: SpongeMode, security: int) -> None:
    keys = coordinator(mode, security)
    config = keys.config()
    assert config.max_index == 2**DEPTH
    for index in range(config.max_index):
        bundle = milestone(keys, index)
        assert len(bundle) == security + 1
        assert bundle[0].milestone_index == index
        verdict = judge(bundle, config)
        assert_verdict(verdict, MilestoneStatus.VALID, "valid")
        assert (verdict.index, verdict.hash) == (index, bundle[0].hash)


def test_a_deeper_mainnet_like_tree() -> None:
    # Kerl and security 2 as on mainnet, 16 keys; the last index is 2^D - 1.
    keys = coordinator(SpongeMode.KERL, 2, 4)
    for index in (0, 5, 10, 15):
        assert judge(milestone(keys, index), keys.config()).valid


def test_a_single_key_coordinator() -> None:
    # Depth 0: the coordinator address is the key's address, the path is empty, index 0 only.
    keys = coordinator(SpongeMode.CURLP27, 1, 0)
    assert keys.root == keys.leaf(0)
    assert judge(milestone(keys, 0), keys.config()).valid
    beyond = milestone(keys, 1, key_index=0, path_index=0)
    assert_verdict(
        judge(beyond, keys.config()), MilestoneStatus.INVALID, "index_out_of_range", None
    )


# --- step 1: the index range -----------------------------------------------------------------


@pytest.mark.parametrize("index", [-1, -7_174_453, 2**DEPTH, 2**DEPTH + 1, 7_174_453])
def test_step1_index_outside_the_tree_is_invalid(index: int) -> None:
    keys = coordinator()
    bundle = milestone(keys, index, key_index=0, path_index=0)
    assert bundle[0].milestone_index == index
    verdict = judge(bundle, keys.config())
    assert_verdict(verdict, MilestoneStatus.INVALID, "index_out_of_range", None)
    # Step 1 comes before the record of step 2.
    recorded = judge(bundle, keys.config(), known_index_hash=bundle[0].hash)
    assert recorded.reason == "index_out_of_range"


# --- step 2: the first milestone recorded for an index wins ----------------------------------


def test_step2_the_recorded_milestone_stays_valid_without_any_check() -> None:
    keys = coordinator()
    bundle = milestone(keys, 2)
    # Nothing else is looked at: not the bundle (here not even loadable), not the signature.
    nothing: dict[str, Transaction] = {}
    verdict = validate_milestone(
        bundle[0], nothing.get, keys.config(), known_index_hash=bundle[0].hash
    )
    assert_verdict(verdict, MilestoneStatus.VALID, "already_recorded", None)
    assert not verdict.records_index


def test_step2_another_milestone_for_a_recorded_index_is_invalid() -> None:
    keys = coordinator()
    first = milestone(keys, 2)
    # A genuine, correctly signed second milestone for the same index (other approvees).
    second = build_milestone(keys, 2, trunk=BRANCH, branch=TRUNK)
    assert judge(second, keys.config()).valid
    verdict = judge(second, keys.config(), known_index_hash=first[0].hash)
    assert_verdict(verdict, MilestoneStatus.INVALID, "index_taken", None)
    assert first[0].hash in verdict.message


# --- step 3: the bundle, extra rules on; anything but VALID is INCOMPLETE ----------------------


def test_step3_a_missing_transaction_is_incomplete() -> None:
    keys = coordinator(SpongeMode.KERL, 3)
    bundle = milestone(keys, 1)
    for missing in range(1, len(bundle)):
        present = bundle[:missing] + bundle[missing + 1 :]
        verdict = judge(present, keys.config())
        assert_verdict(verdict, MilestoneStatus.INCOMPLETE, "bundle_not_valid", "incomplete")
        assert verdict.bundle is not None and not verdict.bundle.cacheable
        assert "missing" in verdict.message


def test_step3_a_non_tail_is_incomplete() -> None:
    # IRI's bundle validator returns nothing for a non-tail; step 3 turns that into INCOMPLETE.
    keys = coordinator(SpongeMode.KERL, 2)
    bundle = milestone(keys, 1)
    verdict = judge(bundle, keys.config(), tail=bundle[1])
    assert_verdict(verdict, MilestoneStatus.INCOMPLETE, "bundle_not_valid", "not_a_tail")


def test_step3_an_invalid_bundle_is_incomplete_not_invalid() -> None:
    # A changed obsoleteTag (index 1 -> 2) breaks the bundle hash: INCOMPLETE, for good, even
    # though the signature would not reach the coordinator either (§6.2 step 3, §6.6).
    keys = coordinator(SpongeMode.CURLP27, 1)
    bundle = milestone(keys, 1)
    changed = with_field(bundle[0], OBSOLETE_TAG, index_tag(2))
    verdict = judge([changed, *bundle[1:]], keys.config())
    assert_verdict(verdict, MilestoneStatus.INCOMPLETE, "bundle_not_valid", "bundle_hash")
    # The caller caches this INVALID bundle verdict on the tail (§5.8).
    assert verdict.bundle is not None and verdict.bundle.validity_flag == -1


def test_step3_enforces_tail_approval() -> None:
    # The head approves a stored non-tail: the extra rule §5.6a fails, so INCOMPLETE.
    keys = coordinator(SpongeMode.KERL, 1)
    non_tail = parse_one(transaction_trytes(currentIndex=1, lastIndex=1))
    bundle = build_milestone(keys, 1, trunk=non_tail.hash, branch=BRANCH)
    verdict = judge(bundle, keys.config(), extra=(non_tail,))
    assert_verdict(verdict, MilestoneStatus.INCOMPLETE, "bundle_not_valid", "tail_approval")
    # The same bundle with the approvee absent passes: a missing transaction reads as a tail.
    assert judge(bundle, keys.config()).valid


def test_step3_branch_other_than_the_siblings_trunk_is_caught_by_the_extra_rules() -> None:
    # With exactly S + 1 transactions the sibling transaction is the head, so "branch ==
    # sibling's trunk" (step 5) is the extra rule §5.6b, which step 3 checks first: INCOMPLETE.
    # The forged branch is outside the essence and the signature, so nothing else breaks.
    keys = coordinator(SpongeMode.KERL, 2)
    bundle = milestone(keys, 4, branches={0: BRANCH})
    assert bundle[0].branch_transaction != bundle[2].trunk_transaction
    verdict = judge(bundle, keys.config())
    assert_verdict(verdict, MilestoneStatus.INCOMPLETE, "bundle_not_valid", "transaction_approval")


def test_step3_honours_the_cached_bundle_verdict() -> None:
    # A tail once flagged invalid (for instance by tip selection's extra rules) never becomes a
    # milestone, however genuine (§5.8 shortcut A, Appendix C item 3).
    keys = coordinator(SpongeMode.KERL, 1)
    bundle = milestone(keys, 6)
    flagged = BundleVerdict(BundleStatus.INVALID, "tail_approval", 0)
    verdict = judge(bundle, keys.config(), cached_bundle=flagged)
    assert_verdict(verdict, MilestoneStatus.INCOMPLETE, "bundle_not_valid", "tail_approval")
    # A cached VALID flag skips the bundle hash (shortcut B): a wrong bundle hash then passes
    # step 3, and the real signature still decides.
    # The change lies beyond the 15 index trits, so the index is still 6.
    changed = with_field(bundle[0], OBSOLETE_TAG, index_tag(6)[:5] + "PYRI".ljust(22, "9"))
    assert changed.milestone_index == 6
    unflagged = judge([changed, *bundle[1:]], keys.config())
    assert_verdict(unflagged, MilestoneStatus.INCOMPLETE, "bundle_not_valid", "bundle_hash")
    valid_flag = BundleVerdict(BundleStatus.VALID, "valid")
    flagged_valid = judge([changed, *bundle[1:]], keys.config(), cached_bundle=valid_flag)
    assert_verdict(flagged_valid, MilestoneStatus.VALID, "valid")


# --- step 5: structure --------------------------------------------------------------------------


def test_step5_a_sibling_transaction_that_is_not_the_head_is_invalid() -> None:
    # One more transaction after the sibling: the bundle is valid with the extra rules (every
    # branch is the head's trunk), but the signature transactions' branch is not the sibling's
    # trunk (that is the next bundle transaction): INVALID at step 5.
    keys = coordinator(SpongeMode.KERL, 2)
    bundle = milestone(keys, 3, extra_transactions=1)
    verdict = judge(bundle, keys.config())
    assert_verdict(verdict, MilestoneStatus.INVALID, "structure", "valid")
    # Pointing the branches at the sibling's trunk instead breaks §5.6b: INCOMPLETE. So no
    # milestone longer than S + 1 transactions can be valid.
    aimed = milestone(
        keys, 3, extra_transactions=1, branches={0: bundle[3].hash, 1: bundle[3].hash}
    )
    assert aimed[0].branch_transaction == aimed[2].trunk_transaction
    verdict = judge(aimed, keys.config())
    assert_verdict(verdict, MilestoneStatus.INCOMPLETE, "bundle_not_valid", "transaction_approval")


def test_step5_a_bundle_too_short_for_the_security_level_is_invalid() -> None:
    for built, expected in ((1, 2), (2, 3), (1, 3)):
        keys = coordinator(SpongeMode.CURLP27, built)
        config = keys.config(testnet_coordinator_security_level=expected)
        verdict = judge(milestone(keys, 0), config)
        assert_verdict(verdict, MilestoneStatus.INVALID, "structure", "valid")
        assert f"security {expected}" in verdict.message


def test_step5_a_bundle_of_a_higher_security_level_is_invalid() -> None:
    # Read with S = 1, a security-2 bundle's "sibling" is its second signature transaction,
    # whose trunk is the real sibling transaction, not the head's trunk.
    keys = coordinator(SpongeMode.CURLP27, 2)
    verdict = judge(milestone(keys, 0), keys.config(testnet_coordinator_security_level=1))
    assert_verdict(verdict, MilestoneStatus.INVALID, "structure", "valid")


# --- steps 6-10: signature and Merkle path ------------------------------------------------------


@pytest.mark.parametrize("mode", list(SpongeMode))
def test_forgeries_are_invalid(mode: SpongeMode) -> None:
    keys = coordinator(mode, 2)
    config = keys.config()
    forgeries = {
        "another key": milestone(keys, 5, key_index=6),
        "another path": milestone(keys, 5, path_index=4),
        # Key and path of 4, but the obsoleteTag claims 5: the path is walked with index 5.
        "another index": milestone(keys, 5, key_index=4, path_index=4),
        "another coordinator": milestone(coordinator(mode, 2, seed=OTHER_SEED), 5),
    }
    for name, bundle in forgeries.items():
        verdict = judge(bundle, config)
        assert_verdict(verdict, MilestoneStatus.INVALID, "wrong_root", "valid")
        assert not verdict.records_index, name
        assert verdict.bundle is not None and verdict.bundle.cacheable


def test_another_sponge_or_depth_misses_the_coordinator() -> None:
    keys = coordinator(SpongeMode.CURLP81, 1)
    bundle = milestone(keys, 2)
    for flags in (
        {"testnet_coordinator_signature_mode": "CURLP27"},
        {"testnet_coordinator_signature_mode": "KERL"},
        {"milestone_keys": DEPTH + 1},
        {"milestone_keys": DEPTH - 1},
    ):
        verdict = judge(bundle, keys.config(**flags))
        assert_verdict(verdict, MilestoneStatus.INVALID, "wrong_root", "valid")


def test_the_signature_covers_what_the_milestone_approves() -> None:
    # The coordinator signs the sibling transaction's hash, which includes its trunk and branch:
    # the same signatures under other approvees do not verify.
    keys = coordinator(SpongeMode.KERL, 1)
    genuine = milestone(keys, 3)
    other = build_milestone(keys, 3, trunk=BRANCH, branch=TRUNK)
    sibling = other[1]
    # Rebuild the tail with the genuine signature but chained to the other sibling transaction.
    tail = parse_one(
        transaction_trytes(
            signatureMessageFragment=genuine[0].signature_message_fragment,
            address=keys.root,
            obsoleteTag=index_tag(3),
            tag=index_tag(3),
            timestamp=genuine[0].timestamp,
            currentIndex=0,
            lastIndex=1,
            bundle=genuine[0].bundle,
            trunkTransaction=sibling.hash,
            branchTransaction=sibling.trunk_transaction,
        )
    )
    assert tail.bundle == sibling.bundle  # same essences, same bundle hash
    verdict = judge([tail, sibling], keys.config())
    assert_verdict(verdict, MilestoneStatus.INVALID, "wrong_root", "valid")


# --- --testnet-no-coo-validation ------------------------------------------------------------


def test_skipping_validation_accepts_a_wrong_signature_but_keeps_steps_1_to_5() -> None:
    keys = coordinator(SpongeMode.CURLP27, 2)
    config = keys.config(testnet_no_coo_validation=True)
    forged = milestone(keys, 5, key_index=6)
    verdict = judge(forged, config)
    assert_verdict(verdict, MilestoneStatus.VALID, "valid_unverified", "valid")
    assert verdict.records_index
    stranger = milestone(coordinator(SpongeMode.CURLP27, 2, seed=OTHER_SEED), 5)
    assert judge(stranger, config).valid
    # Step 1.
    out = milestone(keys, 2**DEPTH, key_index=0, path_index=0)
    assert judge(out, config).reason == "index_out_of_range"
    # Step 2.
    assert judge(forged, config, known_index_hash=NULL_HASH).reason == "index_taken"
    # Step 3.
    assert judge(forged[:2], config).status is MilestoneStatus.INCOMPLETE
    # Step 5.
    assert judge(milestone(keys, 5, extra_transactions=1), config).reason == "structure"


# --- the verdict, and reading through a TangleReader -----------------------------------------


@dataclass
class FakeReader:
    """A TangleReader over dictionaries."""

    transactions: dict[str, Transaction]
    verdicts: dict[str, BundleVerdict] = field(default_factory=dict)

    def transaction(self, tx_hash: str) -> Transaction | None:
        return self.transactions.get(tx_hash)

    def links(self, tx_hash: str) -> TxLinks | None:
        tx = self.transactions.get(tx_hash)
        return None if tx is None else links_of(tx)

    def meta(self, tx_hash: str) -> TxMeta | None:
        return TxMeta() if tx_hash in self.transactions else None

    def snapshot_index(self, tx_hash: str) -> int:
        return 0

    def is_solid_entry_point(self, tx_hash: str) -> bool:
        return tx_hash == NULL_HASH

    def cached_verdict(self, tail_hash: str) -> BundleVerdict | None:
        return self.verdicts.get(tail_hash)


def test_validation_through_a_reader_uses_the_cached_flag() -> None:
    keys = coordinator(SpongeMode.KERL, 2)
    bundle = milestone(keys, 7)
    reader = FakeReader(lookup_of(*bundle))
    verdict = validate_milestone_in(reader, bundle[0], keys.config(), known_index_hash=None)
    assert verdict.valid and verdict.bundle is not None
    reader.verdicts[bundle[0].hash] = BundleVerdict(BundleStatus.INVALID, "transaction_approval")
    verdict = validate_milestone_in(reader, bundle[0], keys.config(), known_index_hash=None)
    assert verdict.status is MilestoneStatus.INCOMPLETE


def test_verdicts_hold_together() -> None:
    assert set(MESSAGES) == set(REASONS)
    valid = BundleVerdict(BundleStatus.VALID, "valid")
    missing = BundleVerdict(BundleStatus.INCOMPLETE, "incomplete", 1)
    with pytest.raises(MilestoneVerdictError):
        MilestoneVerdict(MilestoneStatus.VALID, "wrong_root", 1, NULL_HASH, valid)
    with pytest.raises(MilestoneVerdictError):
        MilestoneVerdict(MilestoneStatus.INCOMPLETE, "bundle_not_valid", 1, NULL_HASH, valid)
    with pytest.raises(MilestoneVerdictError):
        MilestoneVerdict(MilestoneStatus.VALID, "valid", 1, NULL_HASH, missing)
    with pytest.raises(MilestoneVerdictError):
        MilestoneVerdict(MilestoneStatus.INVALID, "index_taken", 1, NULL_HASH, valid)
    verdict = MilestoneVerdict(
        MilestoneStatus.INCOMPLETE, "bundle_not_valid", 1, NULL_HASH, missing
    )
    assert verdict.message == (
        "the milestone bundle is not (yet) valid: a transaction of the bundle is missing "
        "(transaction 1)"
    )
