"""Compiled conversions for ingest-sized batches: tryte codes to a trit matrix, and rows (or a
column range of rows) of a trit matrix to the packed five-trits-a-byte form.

They compute exactly what ``pyri.trinary`` and ``pyri.storage.packing.pack_trits`` compute;
they exist because ingest converts a thousand transactions (2.7 million trytes, 8 MB of trits)
per batch, where numpy's gathers and whole-matrix passes cost 10-15 ms that a single compiled
pass does in a few. A separate module so that importing ``pyri.trinary`` loads no numba.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
from numba import njit

from pyri.trinary import ALPHABET, TRYTE_TRITS, Trits


def _code_trits() -> npt.NDArray[np.int8]:
    # ASCII code -> the tryte's three trits; codes outside the alphabet map to zeros, so
    # callers validate first.
    table = np.zeros((256, 3), dtype=np.int8)
    for index, char in enumerate(ALPHABET):
        table[ord(char)] = TRYTE_TRITS[index]
    table.setflags(write=False)
    return table


_CODE_TRITS: Final = _code_trits()


@njit(cache=True, nogil=True)
def _expand(codes: npt.NDArray[np.uint8], table: Trits, out: Trits) -> None:
    flat = out.reshape(-1)
    for i in range(codes.shape[0]):
        code = codes[i]
        flat[3 * i] = table[code, 0]
        flat[3 * i + 1] = table[code, 1]
        flat[3 * i + 2] = table[code, 2]


def tryte_codes_to_trits(codes: bytes, rows: int) -> Trits:
    """The (rows, 3 * len(codes) / rows) trit matrix of ASCII tryte codes that the caller has
    checked are all in the alphabet."""
    width = len(codes) // rows if rows else 0
    out = np.empty((rows, 3 * width), dtype=np.int8)
    if rows:
        _expand(np.frombuffer(codes, dtype=np.uint8), _CODE_TRITS, out)
    return out


@njit(cache=True, nogil=True)
def _pack_range(trits: Trits, start: int, length: int, out: npt.NDArray[np.int8]) -> None:
    # out[r, j] = sum over k < 5 of trits[r, start + 5j + k] * 3**k (a short last group takes
    # the trits there are), by Horner from the most significant trit. Row views and an int32
    # accumulator keep the loop free of 2-D index arithmetic and wide conversions (10x).
    whole = length // 5
    rest = length - 5 * whole
    for r in range(trits.shape[0]):
        row = trits[r, start : start + length]
        packed = out[r]
        for j in range(whole):
            base = 5 * j
            value = np.int32(row[base + 4])
            value = value * 3 + row[base + 3]
            value = value * 3 + row[base + 2]
            value = value * 3 + row[base + 1]
            packed[j] = value * 3 + row[base]
        if rest:
            value = np.int32(0)
            for k in range(rest - 1, -1, -1):
                value = value * 3 + row[5 * whole + k]
            packed[whole] = value


def pack_columns(trits: Trits, start: int, length: int) -> npt.NDArray[np.int8]:
    """Columns ``start:start + length`` of every row of an (n, L) trit matrix, packed: an
    (n, ceil(length / 5)) int8 matrix."""
    if trits.ndim != 2 or not 0 <= start <= start + length <= trits.shape[1]:
        raise ValueError(f"columns {start}:{start + length} are not in a matrix of {trits.shape}")
    out = np.empty((trits.shape[0], (length + 4) // 5), dtype=np.int8)
    _pack_range(trits, start, length, out)
    return out
