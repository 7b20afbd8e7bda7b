"""Winternitz one-time signatures as IOTA uses them (ISS; iri-consensus-reference §4.4).

Every function is pure and works in any sponge mode: Kerl for wallets and the mainnet
coordinator, Curl-P-27 or Curl-P-81 for testnet coordinators. Hash chains of all chunks of a
key or signature are computed in one batched call, which is what makes verification fast.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from pyri.crypto.sponge import SpongeMode, hash_chains, hash_rows, hash_trits, new_sponge
from pyri.errors import CryptoError
from pyri.trinary import HASH_TRITS, Trits, int_to_trits, trits_to_int, trytes_to_trits

CHUNKS_PER_FRAGMENT: Final = 27
FRAGMENT_TRITS: Final = CHUNKS_PER_FRAGMENT * HASH_TRITS  # 6561, one signatureMessageFragment
MAX_TRYTE: Final = 13
SEGMENT_TRYTES: Final = 27

KERL: Final = SpongeMode.KERL


def _check_security(security: int) -> None:
    if security not in (1, 2, 3):
        raise CryptoError(f"security level must be 1, 2 or 3, got {security}")


def subseed(seed: Trits, index: int, mode: SpongeMode = KERL) -> Trits:
    """H(seed + index): the index is added to the seed as a 243-trit balanced integer, overflow
    past trit 242 dropped."""
    if np.asarray(seed).shape != (HASH_TRITS,):
        raise CryptoError(f"a seed must be 243 trits (81 trytes), got {np.asarray(seed).shape[0]}")
    if index < 0:
        raise CryptoError(f"key index must not be negative, got {index}")
    total = int_to_trits(trits_to_int(seed) + index)
    summed = np.zeros(HASH_TRITS, dtype=np.int8)
    summed[: min(HASH_TRITS, total.shape[0])] = total[:HASH_TRITS]
    return hash_trits(mode, summed)


def private_key(sub_seed: Trits, security: int, mode: SpongeMode = KERL) -> Trits:
    """27 * security consecutive squeezes after absorbing the subseed: 6561 trits per level."""
    _check_security(security)
    sponge = new_sponge(mode)
    sponge.absorb(sub_seed)
    return sponge.squeeze(FRAGMENT_TRITS * security)


def _fragment_digests(chunks_hashed: Trits, mode: SpongeMode) -> Trits:
    # (27 * s, 243) hashed chunks -> s digests of 243 trits, concatenated.
    fragments = chunks_hashed.reshape(-1, FRAGMENT_TRITS)
    return hash_rows(mode, fragments).reshape(-1)


def key_digests(key: Trits, mode: SpongeMode = KERL) -> Trits:
    """Per fragment: hash each chunk 26 times, then hash the fragment. 243 trits per fragment."""
    chunks = np.asarray(key, dtype=np.int8).reshape(-1, HASH_TRITS)
    counts = np.full(chunks.shape[0], 2 * MAX_TRYTE, dtype=np.int64)
    return _fragment_digests(hash_chains(mode, chunks, counts), mode)


def address_from_digests(digests: Trits, mode: SpongeMode = KERL) -> Trits:
    return hash_trits(mode, digests)


def address(seed: Trits, index: int, security: int, mode: SpongeMode = KERL) -> Trits:
    """The address of key ``index`` of ``seed`` at ``security``."""
    key = private_key(subseed(seed, index, mode), security, mode)
    return address_from_digests(key_digests(key, mode), mode)


def normalize(hash_trits_or_trytes: Trits | str) -> npt.NDArray[np.int8]:
    """The normalized form of a hash: 81 tryte values, each 27-tryte segment summing to 0.

    A positive sum is worked off from the front, each tryte going down to -13 before the next
    one is touched; a negative sum likewise upward to +13. This is IRI's one-step-at-a-time loop
    done in one pass.
    """
    if isinstance(hash_trits_or_trytes, str):
        trits = trytes_to_trits(hash_trits_or_trytes)
    else:
        trits = np.asarray(hash_trits_or_trytes, dtype=np.int8)
    values = (trits.reshape(-1, 3).astype(np.int16) @ np.array([1, 3, 9], dtype=np.int16)).tolist()
    for start in range(0, len(values), SEGMENT_TRYTES):
        total = sum(values[start : start + SEGMENT_TRYTES])
        j = start
        while total > 0:
            step = min(total, values[j] + MAX_TRYTE)
            values[j] -= step
            total -= step
            j += 1
        while total < 0:
            step = min(-total, MAX_TRYTE - values[j])
            values[j] += step
            total += step
            j += 1
    return np.array(values, dtype=np.int8)


def _segments(
    normalized: npt.NDArray[np.int8], fragments: int, first: int
) -> npt.NDArray[np.int64]:
    # Fragment k (counted from the input's first, at position `first`) signs segment k mod 3.
    rows = [normalized.reshape(3, SEGMENT_TRYTES)[(first + k) % 3] for k in range(fragments)]
    return np.concatenate(rows).astype(np.int64)


def sign(
    key: Trits, bundle_hash: Trits | str, mode: SpongeMode = KERL, first_fragment: int = 0
) -> Trits:
    """Signature fragments for ``key``: chunk j of fragment k hashed 13 - N_j times."""
    chunks = np.asarray(key, dtype=np.int8).reshape(-1, HASH_TRITS)
    fragments = chunks.shape[0] // CHUNKS_PER_FRAGMENT
    normalized = normalize(bundle_hash)
    counts = MAX_TRYTE - _segments(normalized, fragments, first_fragment)
    return hash_chains(mode, chunks, counts).reshape(-1)


def signature_digests(
    signature: Trits,
    normalized: npt.NDArray[np.int8],
    mode: SpongeMode = KERL,
    first_fragment: int = 0,
) -> Trits:
    """The key digests a signature implies: chunk j of fragment k hashed N_j + 13 times."""
    chunks = np.asarray(signature, dtype=np.int8).reshape(-1, HASH_TRITS)
    if chunks.shape[0] % CHUNKS_PER_FRAGMENT:
        raise CryptoError("a signature is made of whole 6561-trit fragments")
    fragments = chunks.shape[0] // CHUNKS_PER_FRAGMENT
    counts = _segments(normalized, fragments, first_fragment) + MAX_TRYTE
    return _fragment_digests(hash_chains(mode, chunks, counts), mode)


def verify(
    address_trits: Trits, bundle_hash: Trits | str, signature: Trits, mode: SpongeMode = KERL
) -> bool:
    """Whether ``signature`` (1 to 3 fragments, concatenated) signs ``bundle_hash`` for
    ``address_trits``."""
    chunks = np.asarray(signature).shape[0]
    if chunks == 0 or chunks % FRAGMENT_TRITS:
        return False
    digests = signature_digests(signature, normalize(bundle_hash), mode)
    return bool(np.array_equal(address_from_digests(digests, mode), address_trits))
