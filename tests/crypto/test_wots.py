"""WOTS/ISS against addresses.json and signing.json, plus sign -> verify round trips."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyri.crypto import wots
from pyri.crypto.sponge import SpongeMode
from pyri.errors import CryptoError
from pyri.trinary import trits_to_trytes, trytes_to_trits, values_to_trytes
from tests.vectors import cases, seed_trytes


def _seed(case: dict[str, Any]) -> np.ndarray:
    return trytes_to_trits(seed_trytes(case["seed"]))


@pytest.mark.parametrize("case", cases("addresses", "address"))
def test_addresses(case: dict[str, Any]) -> None:
    address = wots.address(_seed(case), int(case["index"]), int(case["security"]))
    assert trits_to_trytes(address) == case["address"]


@pytest.mark.parametrize("case", cases("addresses", "address_nonstandard"))
def test_address_with_curl_p81(case: dict[str, Any]) -> None:
    mode = SpongeMode.parse(case["sponge"])
    address = wots.address(_seed(case), int(case["index"]), int(case["security"]), mode)
    assert trits_to_trytes(address) == case["address"]


@pytest.mark.parametrize("case", cases("signing", "subseed"))
def test_subseed(case: dict[str, Any]) -> None:
    assert trits_to_trytes(wots.subseed(_seed(case), int(case["index"]))) == case["subseed"]


@pytest.mark.parametrize("case", cases("signing", "private_key"))
def test_private_key(case: dict[str, Any]) -> None:
    if "seed" in case:
        sub_seed = wots.subseed(_seed(case), int(case["index"]))
        assert trits_to_trytes(sub_seed) == case["subseed"]
    else:
        sub_seed = trytes_to_trits(case["subseed"])
    key = wots.private_key(sub_seed, int(case["security"]))
    assert trits_to_trytes(key) == case["private_key"]


@pytest.mark.parametrize("case", cases("signing", "private_key_nonstandard"))
def test_seed_longer_than_81_trytes_is_refused(case: dict[str, Any]) -> None:
    # PyOTA and iota.js disagree on such seeds; pyri takes neither side and refuses them.
    with pytest.raises(CryptoError, match="seed must be 243 trits"):
        wots.subseed(trytes_to_trits(case["seed"]), int(case["index"]))


@pytest.mark.parametrize("case", cases("signing", "normalized_bundle_hash"))
def test_normalized_bundle_hash(case: dict[str, Any]) -> None:
    normalized = wots.normalize(case["hash"])
    assert normalized.tolist() == case["normalized_values"]
    assert values_to_trytes(normalized) == case["normalized_trytes"]


@pytest.mark.parametrize("case", cases("signing", "signature_fragments_from_key"))
def test_signature_fragments_from_key(case: dict[str, Any]) -> None:
    signature = wots.sign(trytes_to_trits(case["private_key"]), case["bundle_hash"])
    assert trits_to_trytes(signature) == "".join(case["signature_fragments"])


@pytest.mark.parametrize("case", cases("signing", "sign"))
def test_sign(case: dict[str, Any]) -> None:
    security = int(case["security"])
    key = wots.private_key(wots.subseed(_seed(case), int(case["index"])), security)
    assert values_to_trytes(wots.normalize(case["bundle_hash"])) == case["normalized_bundle_hash"]
    digests = wots.key_digests(key)
    assert trits_to_trytes(digests) == case["key_digests"]
    assert trits_to_trytes(wots.address_from_digests(digests)) == case["address"]
    signature = wots.sign(key, case["bundle_hash"])
    assert trits_to_trytes(signature) == "".join(case["signature_fragments"])
    assert wots.verify(trytes_to_trits(case["address"]), case["bundle_hash"], signature)


@pytest.mark.parametrize("case", cases("signing", "verify"))
def test_verify(case: dict[str, Any]) -> None:
    signature = trytes_to_trits("".join(case["signature_fragments"]))
    result = wots.verify(trytes_to_trits(case["address"]), case["bundle_hash"], signature)
    assert result is case["valid"], case["reason"]


@settings(max_examples=12, deadline=None)
@given(
    st.binary(min_size=81, max_size=81),
    st.integers(0, 2**20),
    st.integers(1, 3),
    st.sampled_from(list(SpongeMode)),
    st.binary(min_size=81, max_size=81),
)
def test_sign_then_verify(
    seed_bytes: bytes, index: int, security: int, mode: SpongeMode, hash_bytes: bytes
) -> None:
    seed = np.frombuffer(seed_bytes, dtype=np.uint8).astype(np.int16) % 3 - 1
    seed = np.repeat(seed.astype(np.int8), 3)
    bundle_hash = (np.frombuffer(hash_bytes * 3, dtype=np.uint8) % 3).astype(np.int8) - 1
    key = wots.private_key(wots.subseed(seed, index, mode), security, mode)
    address = wots.address_from_digests(wots.key_digests(key, mode), mode)
    signature = wots.sign(key, bundle_hash, mode)
    assert wots.verify(address, bundle_hash, signature, mode)
    # A flipped trit anywhere in the signature, the hash or the address breaks verification.
    position = int.from_bytes(hash_bytes[:4], "big") % signature.shape[0]
    tampered = signature.copy()
    tampered[position] = 1 if tampered[position] != 1 else -1
    assert not wots.verify(address, bundle_hash, tampered, mode)
    other_hash = bundle_hash.copy()
    other_hash[0] = 1 if other_hash[0] != 1 else 0
    if not np.array_equal(wots.normalize(other_hash), wots.normalize(bundle_hash)):
        assert not wots.verify(address, other_hash, signature, mode)
    wrong_address = address.copy()
    wrong_address[5] = 1 if wrong_address[5] != 1 else -1
    assert not wots.verify(wrong_address, bundle_hash, signature, mode)


def test_normalized_segments_sum_to_zero() -> None:
    for fill in "AZM9N":
        normalized = wots.normalize(fill * 81)
        assert normalized.reshape(3, 27).sum(axis=1).tolist() == [0, 0, 0]
    assert values_to_trytes(wots.normalize("A" * 81)) == ("NO" + "A" * 25) * 3
    assert values_to_trytes(wots.normalize("Z" * 81)) == ("ML" + "Z" * 25) * 3


def test_bad_arguments() -> None:
    seed = np.zeros(243, dtype=np.int8)
    with pytest.raises(CryptoError, match="security level must be 1, 2 or 3, got 4"):
        wots.private_key(seed, 4)
    with pytest.raises(CryptoError, match="must not be negative"):
        wots.subseed(seed, -1)
    assert not wots.verify(seed, seed, np.zeros(100, dtype=np.int8))
