"""Curl-P, the ternary sponge behind transaction hashes (81 rounds) and the old coordinator
signatures (27 rounds).

Two implementations of the same function:

* a scalar one (``curl_hash``, ``CurlSponge``) that works on one trit array, compiled with numba;
* a bit-sliced one (``curl_hash_batch``, ``curl_chain_batch``) that runs 64 independent sponges
  at once, one per bit of a 64-bit word, which is how ingest and Merkle-tree generation reach
  their throughput.

A trit is encoded in a lane as two bits (lo, hi): -1 = (1, 0), 0 = (1, 1), +1 = (0, 1). With
that encoding the Curl S-box becomes five bitwise operations per state trit for all 64 lanes.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
from numba import njit

from pyri.trinary import HASH_TRITS, Trits

STATE_TRITS: Final = 729
RATE: Final = HASH_TRITS
LANES: Final = 64
ROUNDS_P27: Final = 27
ROUNDS_P81: Final = 81

# F(a, b) indexed by a + 4*b + 5 (entries 3 and 7 cannot occur).
_TRUTH: Final = np.array([1, 0, -1, 2, 1, -1, 0, 2, -1, 1, 0], dtype=np.int8)


# --- scalar -----------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _transform(state: Trits, scratch: Trits, rounds: int, truth: Trits) -> None:
    for _ in range(rounds):
        scratch[:] = state
        p = 0
        for i in range(729):
            q = p + 364 if p < 365 else p - 365
            state[i] = truth[scratch[p] + 4 * scratch[q] + 5]
            p = q


@njit(cache=True, nogil=True)
def _absorb(state: Trits, trits: Trits, rounds: int, truth: Trits) -> None:
    scratch = np.empty(729, dtype=np.int8)
    length = trits.shape[0]
    offset = 0
    while True:
        n = min(243, length - offset)
        state[:n] = trits[offset : offset + n]
        _transform(state, scratch, rounds, truth)
        offset += n
        if offset >= length:
            break


@njit(cache=True, nogil=True)
def _squeeze(state: Trits, out: Trits, rounds: int, truth: Trits) -> None:
    scratch = np.empty(729, dtype=np.int8)
    length = out.shape[0]
    offset = 0
    while offset < length:
        n = min(243, length - offset)
        out[offset : offset + n] = state[:n]
        _transform(state, scratch, rounds, truth)
        offset += n


class CurlSponge:
    """A stateful Curl-P sponge: absorb overwrites the rate and transforms; squeeze copies the
    rate out, then transforms. Caller arrays are copied, never modified."""

    def __init__(self, rounds: int = ROUNDS_P81) -> None:
        self.rounds = rounds
        self._state = np.zeros(STATE_TRITS, dtype=np.int8)

    def reset(self) -> None:
        self._state[:] = 0

    def absorb(self, trits: Trits) -> None:
        _absorb(self._state, np.ascontiguousarray(trits, dtype=np.int8), self.rounds, _TRUTH)

    def squeeze(self, length: int = HASH_TRITS) -> Trits:
        out = np.empty(length, dtype=np.int8)
        _squeeze(self._state, out, self.rounds, _TRUTH)
        return out

    def state(self) -> Trits:
        """A copy of the 729-trit state (for proof of work's mid-state)."""
        return self._state.copy()


def curl_hash(trits: Trits, rounds: int = ROUNDS_P81, length: int = HASH_TRITS) -> Trits:
    """Absorb ``trits`` into a fresh Curl-P sponge and squeeze ``length`` trits."""
    sponge = CurlSponge(rounds)
    sponge.absorb(trits)
    return sponge.squeeze(length)


# --- bit-sliced, 64 lanes -----------------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def _sbox_lanes(
    x_lo: npt.NDArray[np.uint64],
    x_hi: npt.NDArray[np.uint64],
    y_lo: npt.NDArray[np.uint64],
    y_hi: npt.NDArray[np.uint64],
    out_lo: npt.NDArray[np.uint64],
    out_hi: npt.NDArray[np.uint64],
) -> None:
    # out[k] = F(x[k], y[k]) in every lane. Every index runs from 0 over views, so numba's
    # negative-index wraparound folds away and LLVM vectorizes the loop across trits. (Inlined
    # here but not into _transform_lanes: each way round measured slower.)
    for k in range(out_lo.shape[0]):
        a_lo = x_lo[k]
        a_hi = x_hi[k]
        b_lo = y_lo[k]
        b_hi = y_hi[k]
        delta = (a_lo | ~b_hi) & (b_lo ^ a_hi)
        out_lo[k] = ~delta
        out_hi[k] = (a_lo ^ b_hi) | delta


@njit(cache=True, nogil=True)
def _round_lanes(
    a_lo: npt.NDArray[np.uint64],
    a_hi: npt.NDArray[np.uint64],
    b_lo: npt.NDArray[np.uint64],
    b_hi: npt.NDArray[np.uint64],
    d: int,
) -> None:
    # b[k] = F(a[k], a[(k + d) mod 729]): two passes, before and after the wrap.
    c = 729 - d
    _sbox_lanes(a_lo[:c], a_hi[:c], a_lo[d:729], a_hi[d:729], b_lo[:c], b_hi[:c])
    _sbox_lanes(a_lo[c:729], a_hi[c:729], a_lo[:d], a_hi[:d], b_lo[c:729], b_hi[c:729])


@njit(cache=True, nogil=True)
def _transform_lanes(
    lo: npt.NDArray[np.uint64],
    hi: npt.NDArray[np.uint64],
    slo: npt.NDArray[np.uint64],
    shi: npt.NDArray[np.uint64],
    rounds: int,
) -> None:
    # Output trit i of a round is F(a[p], a[p + 364]) with p = 364*i mod 729: a gather, which
    # does not vectorize. Instead keep the state in a rotating order, position k holding trit
    # m*k mod 729. As 364 = -1/2 mod 729, writing the output with multiplier -2m makes position k
    # read positions k and k + d of the input, d = 364/m: an elementwise pass over the state and
    # a rotated view of it. One gather after the last round restores the natural order.
    # Rounds ping-pong between (lo, hi) and the scratch (slo, shi), so no round copies the state.
    inv = 1  # 1/m mod 729
    for r in range(rounds):
        inv = inv * 364 % 729
        if r % 2 == 0:
            _round_lanes(lo, hi, slo, shi, inv)
        else:
            _round_lanes(slo, shi, lo, hi, inv)
    if rounds % 2 == 0:
        slo[:] = lo
        shi[:] = hi
    k = 0
    for i in range(729):
        lo[i] = slo[k]
        hi[i] = shi[k]
        k += inv
        if k >= 729:
            k -= 729


@njit(cache=True, nogil=True)
def _pack_rows(
    trits: Trits,
    first: int,
    count: int,
    lo: npt.NDArray[np.uint64],
    hi: npt.NDArray[np.uint64],
) -> None:
    # Word i of (lo, hi) gets trits[first + lane, i] in lanes 0 .. count - 1 and trit 0 in the
    # rest. First the flags of 8 lanes to a byte, in loops along a row (which vectorize), then
    # the 8 bytes of each word combined. Branch-free: random trits make a per-trit branch
    # mispredict a third of the time. (Looping over lanes with bit 1 << (lane % 8) instead let
    # LLVM widen the bytes to 64-bit shifts, three times slower.)
    length = trits.shape[1]
    pos = np.zeros((8, length), dtype=np.uint8)
    neg = np.zeros((8, length), dtype=np.uint8)
    for g in range(8):
        pos_byte = pos[g]
        neg_byte = neg[g]
        for r in range(min(8, count - 8 * g)):
            row = trits[first + 8 * g + r]
            bit = np.uint8(1 << r)
            for i in range(length):
                t = row[i]
                pos_byte[i] |= np.uint8(t == 1) * bit
                neg_byte[i] |= np.uint8(t == -1) * bit
    for i in range(length):
        p = np.uint64(0)
        n = np.uint64(0)
        for g in range(8):
            p |= np.uint64(pos[g, i]) << np.uint64(8 * g)
            n |= np.uint64(neg[g, i]) << np.uint64(8 * g)
        lo[i] = ~p
        hi[i] = ~n


@njit(cache=True, nogil=True)
def _unpack(
    lo: npt.NDArray[np.uint64],
    hi: npt.NDArray[np.uint64],
    out: Trits,
    first: int,
    count: int,
    start: int,
    n: int,
) -> None:
    for lane in range(count):
        shift = np.uint64(lane)
        row = first + lane
        for i in range(n):
            out[row, start + i] = np.int8((hi[i] >> shift) & np.uint64(1)) - np.int8(
                (lo[i] >> shift) & np.uint64(1)
            )


@njit(cache=True, nogil=True)
def _hash_lanes(
    trits: Trits,
    out: Trits,
    rounds: int,
) -> None:
    rows, length = trits.shape
    out_length = out.shape[1]
    lo = np.empty(729, dtype=np.uint64)
    hi = np.empty(729, dtype=np.uint64)
    slo = np.empty(729, dtype=np.uint64)
    shi = np.empty(729, dtype=np.uint64)
    # A lane group's whole input, packed once.
    in_lo = np.empty(length, dtype=np.uint64)
    in_hi = np.empty(length, dtype=np.uint64)
    for first in range(0, rows, 64):
        count = min(64, rows - first)
        _pack_rows(trits, first, count, in_lo, in_hi)
        lo[:] = np.uint64(0xFFFFFFFFFFFFFFFF)
        hi[:] = np.uint64(0xFFFFFFFFFFFFFFFF)
        offset = 0
        while True:
            n = min(243, length - offset)
            lo[:n] = in_lo[offset : offset + n]
            hi[:n] = in_hi[offset : offset + n]
            _transform_lanes(lo, hi, slo, shi, rounds)
            offset += n
            if offset >= length:
                break
        offset = 0
        while offset < out_length:
            n = min(243, out_length - offset)
            _unpack(lo, hi, out, first, count, offset, n)
            offset += n
            # (The sponge transforms after its last squeeze too; here nothing could see that.)
            if offset < out_length:
                _transform_lanes(lo, hi, slo, shi, rounds)


def curl_hash_batch(trits: Trits, rounds: int = ROUNDS_P81, length: int = HASH_TRITS) -> Trits:
    """Hash every row of a (n, L) trit matrix independently, 64 rows per kernel pass.

    Row r of the result equals ``curl_hash(trits[r], rounds, length)``.
    """
    matrix = np.ascontiguousarray(trits, dtype=np.int8)
    if matrix.ndim != 2:
        raise ValueError(f"curl_hash_batch needs a 2-D trit matrix, got shape {matrix.shape}")
    out = np.empty((matrix.shape[0], length), dtype=np.int8)
    if matrix.shape[0]:
        _hash_lanes(matrix, out, rounds)
    return out


@njit(cache=True, nogil=True)
def _chain_lanes(
    chunks: Trits,
    counts: npt.NDArray[np.int64],
    out: Trits,
    rounds: int,
) -> None:
    rows = chunks.shape[0]
    lo = np.empty(729, dtype=np.uint64)
    hi = np.empty(729, dtype=np.uint64)
    slo = np.empty(729, dtype=np.uint64)
    shi = np.empty(729, dtype=np.uint64)
    cur_lo = np.empty(243, dtype=np.uint64)
    cur_hi = np.empty(243, dtype=np.uint64)
    for first in range(0, rows, 64):
        count = min(64, rows - first)
        _pack_rows(chunks, first, count, cur_lo, cur_hi)
        most = 0
        for lane in range(count):
            most = max(most, counts[first + lane])
        for step in range(most):
            # Lanes whose chain is finished keep their value: only `active` lanes take the new one.
            active = np.uint64(0)
            for lane in range(count):
                if counts[first + lane] > step:
                    active |= np.uint64(1) << np.uint64(lane)
            lo[:] = np.uint64(0xFFFFFFFFFFFFFFFF)
            hi[:] = np.uint64(0xFFFFFFFFFFFFFFFF)
            lo[:243] = cur_lo
            hi[:243] = cur_hi
            _transform_lanes(lo, hi, slo, shi, rounds)
            for i in range(243):
                cur_lo[i] = (lo[i] & active) | (cur_lo[i] & ~active)
                cur_hi[i] = (hi[i] & active) | (cur_hi[i] & ~active)
        _unpack(cur_lo, cur_hi, out, first, count, 0, 243)


def curl_chain_batch(chunks: Trits, counts: npt.ArrayLike, rounds: int) -> Trits:
    """Hash row r of a (n, 243) matrix ``counts[r]`` times over (fresh sponge, absorb 243,
    squeeze 243 each time), all rows at once. This is the WOTS hash chain."""
    matrix = np.ascontiguousarray(chunks, dtype=np.int8)
    steps = np.ascontiguousarray(counts, dtype=np.int64)
    out = np.empty_like(matrix)
    if matrix.shape[0]:
        _chain_lanes(matrix, steps, out, rounds)
    return out


# --- proof of work ------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _search_nonce(
    mid: Trits,
    block: Trits,
    nonce_start: int,
    mwm: int,
    max_tries: int,
    seed_value: int,
) -> Trits:
    """Vary the nonce trits block[nonce_start:243] until Curl-P-81 of (mid-state + block) ends
    in ``mwm`` zero trits. Each lane gets its own value in the first 4 nonce trits; the rest is
    a counter shared by all lanes. Returns the winning block, or an empty array."""
    all_ones = np.uint64(0xFFFFFFFFFFFFFFFF)
    mid_lo = np.empty(729, dtype=np.uint64)
    mid_hi = np.empty(729, dtype=np.uint64)
    for i in range(729):
        mid_lo[i] = np.uint64(0) if mid[i] == 1 else all_ones
        mid_hi[i] = np.uint64(0) if mid[i] == -1 else all_ones
    blk_lo = np.empty(243, dtype=np.uint64)
    blk_hi = np.empty(243, dtype=np.uint64)
    for i in range(243):
        blk_lo[i] = np.uint64(0) if block[i] == 1 else all_ones
        blk_hi[i] = np.uint64(0) if block[i] == -1 else all_ones
    # Lane identities in 4 balanced trits (-32..31 fits in +-40).
    for k in range(4):
        blk_lo[nonce_start + k] = all_ones
        blk_hi[nonce_start + k] = all_ones
    for lane in range(64):
        bit = np.uint64(1) << np.uint64(lane)
        v = lane - 32
        for k in range(4):
            t = ((v + 1) % 3) - 1
            v = (v - t) // 3
            if t == 1:
                blk_lo[nonce_start + k] ^= bit
            elif t == -1:
                blk_hi[nonce_start + k] ^= bit
    counter_start = nonce_start + 4
    counter = np.zeros(243 - counter_start, dtype=np.int8)
    # Start the counter at a caller-chosen value so that parallel searches do not overlap.
    v = seed_value
    for k in range(counter.shape[0]):
        t = ((v + 1) % 3) - 1
        v = (v - t) // 3
        counter[k] = t
    lo = np.empty(729, dtype=np.uint64)
    hi = np.empty(729, dtype=np.uint64)
    slo = np.empty(729, dtype=np.uint64)
    shi = np.empty(729, dtype=np.uint64)
    for _ in range(max_tries):
        for k in range(counter.shape[0]):
            t = counter[k]
            blk_lo[counter_start + k] = np.uint64(0) if t == 1 else all_ones
            blk_hi[counter_start + k] = np.uint64(0) if t == -1 else all_ones
        lo[:] = mid_lo
        hi[:] = mid_hi
        lo[:243] = blk_lo
        hi[:243] = blk_hi
        _transform_lanes(lo, hi, slo, shi, 81)
        found = all_ones
        for i in range(243 - mwm, 243):
            found &= lo[i] & hi[i]
        if found:
            lane = 0
            while not (found >> np.uint64(lane)) & np.uint64(1):
                lane += 1
            result = block.copy()
            shift = np.uint64(lane)
            for i in range(nonce_start, 243):
                result[i] = np.int8((blk_hi[i] >> shift) & np.uint64(1)) - np.int8(
                    (blk_lo[i] >> shift) & np.uint64(1)
                )
            return result
        # Balanced-ternary increment of the shared counter.
        for k in range(counter.shape[0]):
            if counter[k] < 1:
                counter[k] += 1
                break
            counter[k] = -1
    return np.empty(0, dtype=np.int8)


def search_nonce(
    mid_state: Trits,
    last_block: Trits,
    nonce_start: int,
    mwm: int,
    max_tries: int,
    seed_value: int = 0,
) -> Trits | None:
    """Bit-sliced nonce search (used by ``pyri.crypto.pow``); None when ``max_tries`` pass."""
    result = _search_nonce(
        np.ascontiguousarray(mid_state, dtype=np.int8),
        np.ascontiguousarray(last_block, dtype=np.int8),
        nonce_start,
        mwm,
        max_tries,
        seed_value,
    )
    return None if result.shape[0] == 0 else result
