"""Proof of work: the nonce search behind attachToTangle, and the weight magnitude of a hash.

The search hashes the first 32 blocks of the transaction once and then re-hashes only the last
block (tag, attachment timestamps, nonce) per try, 64 candidate nonces at a time on the
bit-sliced Curl-P-81 kernel.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from pyri.crypto.curl import ROUNDS_P81, CurlSponge, search_nonce
from pyri.errors import CryptoError
from pyri.trinary import HASH_TRITS, Trits

TRANSACTION_TRITS: Final = 8019
NONCE_OFFSET: Final = 7938
NONCE_TRITS: Final = 81
_LAST_BLOCK: Final = TRANSACTION_TRITS - HASH_TRITS  # 7776: 32 whole blocks precede it
_UNBOUNDED: Final = 1 << 62


def weight_magnitude(hash_trits: Trits) -> int:
    """Trailing zero trits of a hash, counted from trit 242 down; an all-zero hash gives 243."""
    nonzero = np.flatnonzero(np.asarray(hash_trits))
    return HASH_TRITS if nonzero.size == 0 else HASH_TRITS - 1 - int(nonzero[-1])


def weight_magnitudes(hashes: Trits) -> npt.NDArray[np.int64]:
    """``weight_magnitude`` of every row of a (n, 243) matrix of hashes."""
    nonzero = np.asarray(hashes) != 0
    # argmax finds the first True, so on reversed rows it counts the trailing zeros; a row
    # without any nonzero trit would give 0 and is patched to 243.
    trailing = np.argmax(nonzero[:, ::-1], axis=1).astype(np.int64)
    result: npt.NDArray[np.int64] = np.where(nonzero.any(axis=1), trailing, nonzero.shape[1])
    return result


def find_nonce(transaction: Trits, mwm: int, seed_value: int = 0) -> Trits:
    """A nonce (81 trits) that gives ``transaction`` a Curl-P-81 hash with at least ``mwm``
    trailing zero trits. ``transaction`` itself is not modified."""
    trits = np.asarray(transaction, dtype=np.int8)
    if trits.shape != (TRANSACTION_TRITS,):
        raise CryptoError(f"proof of work needs 8019 transaction trits, got {trits.shape}")
    if not 0 <= mwm <= HASH_TRITS:
        raise CryptoError(f"minimum weight magnitude must lie in 0..243, got {mwm}")
    sponge = CurlSponge(ROUNDS_P81)
    sponge.absorb(trits[:_LAST_BLOCK])
    block = search_nonce(
        sponge.state(), trits[_LAST_BLOCK:], NONCE_OFFSET - _LAST_BLOCK, mwm, _UNBOUNDED, seed_value
    )
    if block is None:  # pragma: no cover - 2^62 tries do not run out
        raise CryptoError("nonce search exhausted")
    return block[NONCE_OFFSET - _LAST_BLOCK :].copy()


def attach(transaction: Trits, mwm: int) -> Trits:
    """A copy of ``transaction`` with a nonce that meets ``mwm``."""
    result = np.array(transaction, dtype=np.int8, copy=True)
    result[NONCE_OFFSET:] = find_nonce(result, mwm)
    return result
