"""Kerl: Keccak-384 wrapped for trits (iri-consensus-reference §4.3).

A 243-trit block becomes a 48-byte big-endian two's-complement integer (trit 242 ignored); a
digest becomes 243 balanced trits with trit 242 forced to 0; after every squeezed block the
complemented digest is absorbed into a fresh Keccak. Because of that last rule a Kerl state is
fully described by the bytes absorbed since the last squeeze, which is how the kernels below
keep it.

The conversions are compiled: in Python they would cost more than Keccak itself.
"""

from __future__ import annotations

from typing import Final, TypeAlias

import numpy as np
import numpy.typing as npt
from numba import njit

from pyri.crypto.keccak import DIGEST_BYTES, keccak384, keccak_address, keccak_call
from pyri.errors import CryptoError
from pyri.trinary import HASH_TRITS, Trits

Bytes: TypeAlias = npt.NDArray[np.uint8]

_CHUNK_TRITS: Final = 20  # 3^20 < 2^32: one chunk times a 32-bit limb fits in 64 bits
_LIMBS: Final = 12  # 12 x 32 bits = 384 bits


@njit(cache=True, nogil=True)
def _trits_to_bytes(trits: Trits, start: int, out: Bytes, out_start: int) -> None:
    """trits[start : start + 242] (trit 242 ignored) -> 48 big-endian two's-complement bytes."""
    mask = np.uint64(0xFFFFFFFF)
    limbs = np.zeros(12, dtype=np.uint64)  # little-endian 32-bit limbs, value mod 2^384
    top = 241
    while top >= 0:
        width = min(20, top + 1)
        chunk = 0
        multiplier = 1
        for j in range(top, top - width, -1):
            chunk = chunk * 3 + trits[start + j]
            multiplier *= 3
        top -= width
        carry = np.uint64(0)
        m = np.uint64(multiplier)
        for k in range(12):
            v = limbs[k] * m + carry
            limbs[k] = v & mask
            carry = v >> np.uint64(32)
        if chunk >= 0:
            add = np.uint64(chunk)
            for k in range(12):
                v = limbs[k] + add
                limbs[k] = v & mask
                add = v >> np.uint64(32)
                if add == 0:
                    break
        else:
            # Subtract |chunk| with borrow; running off the top wraps mod 2^384 (two's complement).
            sub = np.uint64(-chunk)
            for k in range(12):
                if limbs[k] >= sub:
                    limbs[k] -= sub
                    break
                limbs[k] = limbs[k] + np.uint64(0x100000000) - sub
                sub = np.uint64(1)
    for k in range(12):
        limb = limbs[11 - k]
        for b in range(4):
            out[out_start + 4 * k + b] = np.uint8((limb >> np.uint64(24 - 8 * b)) & np.uint64(255))


@njit(cache=True, nogil=True)
def _bytes_to_trits(data: Bytes, start: int, out: Trits, out_start: int) -> None:
    """48 big-endian two's-complement bytes -> 243 balanced trits, trit 242 forced to 0."""
    limbs = np.zeros(12, dtype=np.uint64)
    for k in range(12):
        limb = np.uint64(0)
        for b in range(4):
            limb = (limb << np.uint64(8)) | np.uint64(data[start + 4 * k + b])
        limbs[11 - k] = limb
    negative = data[start] >= 128
    if negative:
        # Magnitude of a negative two's-complement number: invert and add one.
        carry = np.uint64(1)
        for k in range(12):
            v = (limbs[k] ^ np.uint64(0xFFFFFFFF)) + carry
            limbs[k] = v & np.uint64(0xFFFFFFFF)
            carry = v >> np.uint64(32)
    # Unbalanced base-3 digits, 20 at a time (divide the 384-bit magnitude by 3^20).
    digits = np.zeros(260, dtype=np.int8)
    divisor = np.uint64(3486784401)
    position = 0
    for _ in range(13):
        remainder = np.uint64(0)
        for k in range(11, -1, -1):
            current = (remainder << np.uint64(32)) | limbs[k]
            limbs[k] = current // divisor
            remainder = current % divisor
        # Stay in uint64: signed Python-style % and // cost five times as much in this loop.
        for _j in range(20):
            digits[position] = remainder % np.uint64(3)
            remainder //= np.uint64(3)
            position += 1
    up = 0
    sign = -1 if negative else 1
    for i in range(243):
        d = digits[i] + up
        if d == 2:
            t = -1
            up = 1
        elif d == 3:
            t = 0
            up = 1
        else:
            t = d
            up = 0
        out[out_start + i] = sign * t
    out[out_start + 242] = 0


@njit(cache=True, nogil=True)
def _blocks_to_bytes(trits: Trits) -> Bytes:
    blocks = trits.shape[0] // 243
    out = np.empty(blocks * 48, dtype=np.uint8)
    for b in range(blocks):
        _trits_to_bytes(trits, 243 * b, out, 48 * b)
    return out


@njit(cache=True, nogil=True)
def _bytes_to_blocks(data: Bytes) -> Trits:
    blocks = data.shape[0] // 48
    out = np.empty(blocks * 243, dtype=np.int8)
    for b in range(blocks):
        _bytes_to_trits(data, 48 * b, out, 243 * b)
    return out


@njit(cache=True, nogil=True)
def _hash(keccak_fn: int, trits: Trits, squeezes: int) -> Trits:
    """A fresh Kerl absorbs ``trits`` (whole blocks) and squeezes ``squeezes`` blocks."""
    message = _blocks_to_bytes(trits)
    length = message.shape[0]
    digest = np.empty(48, dtype=np.uint8)
    out = np.empty(243 * squeezes, dtype=np.int8)
    for s in range(squeezes):
        keccak_call(keccak_fn, message, length, digest)
        _bytes_to_trits(digest, 0, out, 243 * s)
        if s + 1 < squeezes:
            for k in range(48):
                message[k] = digest[k] ^ np.uint8(255)
            length = 48
    return out


def _limbs_of(value: int) -> npt.NDArray[np.uint64]:
    return np.array([(value >> (32 * k)) & 0xFFFFFFFF for k in range(_LIMBS)], dtype=np.uint64)


_MODULUS: Final = _limbs_of(3**242)
_HALF: Final = _limbs_of((3**242 - 1) // 2)


@njit(cache=True, nogil=True)
def _compare(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]) -> int:
    for k in range(11, -1, -1):
        if a[k] != b[k]:
            return 1 if a[k] > b[k] else -1
    return 0


@njit(cache=True, nogil=True)
def _balanced_residue(
    digest: Bytes, out: Bytes, modulus: npt.NDArray[np.uint64], half: npt.NDArray[np.uint64]
) -> None:
    """out = the 48-byte form of (digest read as an integer) reduced into the balanced range
    mod 3^242, which is exactly what converting to trits and back gives. A hash chain step then
    costs one Keccak and this, instead of two full base conversions."""
    low = np.uint64(0xFFFFFFFF)
    limbs = np.empty(12, dtype=np.uint64)
    for k in range(12):
        limb = np.uint64(0)
        for b in range(4):
            limb = (limb << np.uint64(8)) | np.uint64(digest[4 * k + b])
        limbs[11 - k] = limb
    negative = digest[0] >= 128
    if negative:
        carry = np.uint64(1)
        for k in range(12):
            v = (limbs[k] ^ low) + carry
            limbs[k] = v & low
            carry = v >> np.uint64(32)
    if _compare(limbs, half) > 0:
        # |v| < 2^383 < 2 * 3^242, so one subtraction (or reflection) lands in range.
        if _compare(limbs, modulus) >= 0:
            larger, smaller = limbs, modulus
        else:
            larger, smaller = modulus, limbs
            negative = not negative
        borrow = np.uint64(0)
        result = np.empty(12, dtype=np.uint64)
        for k in range(12):
            subtrahend = smaller[k] + borrow
            if larger[k] >= subtrahend:
                result[k] = larger[k] - subtrahend
                borrow = np.uint64(0)
            else:
                result[k] = larger[k] + np.uint64(0x100000000) - subtrahend
                borrow = np.uint64(1)
        limbs[:] = result
    if negative:
        carry = np.uint64(1)
        for k in range(12):
            v = (limbs[k] ^ low) + carry
            limbs[k] = v & low
            carry = v >> np.uint64(32)
    for k in range(12):
        limb = limbs[11 - k]
        for b in range(4):
            out[4 * k + b] = np.uint8((limb >> np.uint64(24 - 8 * b)) & np.uint64(255))


@njit(cache=True, nogil=True)
def _chains(
    keccak_fn: int,
    chunks: Trits,
    counts: npt.NDArray[np.int64],
    modulus: npt.NDArray[np.uint64],
    half: npt.NDArray[np.uint64],
) -> Trits:
    """Row r of ``chunks`` hashed ``counts[r]`` times (fresh Kerl, one block in, one out)."""
    rows = chunks.shape[0]
    out = np.empty((rows, 243), dtype=np.int8)
    block = np.empty(48, dtype=np.uint8)
    digest = np.empty(48, dtype=np.uint8)
    for r in range(rows):
        if counts[r] <= 0:
            out[r] = chunks[r]
            continue
        _trits_to_bytes(chunks[r], 0, block, 0)
        for _ in range(counts[r]):
            keccak_call(keccak_fn, block, 48, digest)
            _balanced_residue(digest, block, modulus, half)
        _bytes_to_trits(block, 0, out[r], 0)
    return out


def _check_blocks(length: int) -> None:
    if length % HASH_TRITS:
        raise CryptoError(f"Kerl absorbs whole 243-trit blocks; got {length} trits")


def trits_to_kerl_bytes(trits: Trits) -> bytes:
    """The 48-byte form of each 243-trit block (trit 242 of each block ignored)."""
    array = np.ascontiguousarray(trits, dtype=np.int8)
    _check_blocks(array.shape[0])
    return bytes(_blocks_to_bytes(array))


def kerl_bytes_to_trits(data: bytes) -> Trits:
    """243 trits for each 48 bytes (trit 242 of each block is 0)."""
    if len(data) % DIGEST_BYTES:
        raise CryptoError(f"Kerl byte blocks are 48 bytes; got {len(data)}")
    return _bytes_to_blocks(np.frombuffer(data, dtype=np.uint8))


def kerl_hash(trits: Trits, squeezes: int = 1) -> Trits:
    """Absorb ``trits`` (a multiple of 243) into a fresh Kerl and squeeze ``squeezes`` blocks."""
    array = np.ascontiguousarray(trits, dtype=np.int8)
    _check_blocks(array.shape[0])
    return _hash(keccak_address(), array, squeezes)


def kerl_chains(chunks: Trits, counts: npt.ArrayLike) -> Trits:
    """Hash row r of a (n, 243) matrix ``counts[r]`` times: the WOTS hash chain."""
    matrix = np.ascontiguousarray(chunks, dtype=np.int8).reshape(-1, HASH_TRITS)
    steps = np.ascontiguousarray(counts, dtype=np.int64)
    return _chains(keccak_address(), matrix, steps, _MODULUS, _HALF)


class Kerl:
    """A stateful Kerl sponge. Absorb and squeeze take whole 243-trit blocks. Caller arrays are
    never modified (IRI zeroes trit 242 of the caller's buffer; pyri only ignores it)."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def reset(self) -> None:
        self._pending = bytearray()

    def absorb(self, trits: Trits) -> None:
        self._pending += trits_to_kerl_bytes(trits)

    def squeeze(self, length: int = HASH_TRITS) -> Trits:
        _check_blocks(length)
        out = np.empty(length, dtype=np.int8)
        for block in range(length // HASH_TRITS):
            digest = keccak384(bytes(self._pending))
            out[block * HASH_TRITS : (block + 1) * HASH_TRITS] = kerl_bytes_to_trits(digest)
            self._pending = bytearray(byte ^ 0xFF for byte in digest)
        return out


@njit(cache=True, nogil=True)
def _hash_rows(keccak_fn: int, rows: Trits) -> Trits:
    count, width = rows.shape
    out = np.empty((count, 243), dtype=np.int8)
    message = np.empty(width // 243 * 48, dtype=np.uint8)
    digest = np.empty(48, dtype=np.uint8)
    for r in range(count):
        for b in range(width // 243):
            _trits_to_bytes(rows[r], 243 * b, message, 48 * b)
        keccak_call(keccak_fn, message, message.shape[0], digest)
        _bytes_to_trits(digest, 0, out[r], 0)
    return out


def kerl_hash_rows(rows: Trits) -> Trits:
    """Each row of a (n, 243k) matrix absorbed by its own fresh Kerl, one block squeezed."""
    matrix = np.ascontiguousarray(rows, dtype=np.int8)
    if matrix.ndim != 2:
        raise CryptoError(f"kerl_hash_rows needs a 2-D trit matrix, got shape {matrix.shape}")
    _check_blocks(matrix.shape[1])
    return _hash_rows(keccak_address(), matrix)
