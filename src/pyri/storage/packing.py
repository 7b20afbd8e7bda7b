"""Batch conversion between trytes or trits and the packed form storage keeps them in.

The packed form is ``pyri.trinary.trits_to_bytes``'s: five trits to a signed byte, as IRI stored
them. Ingest packs about 50,000 hashes and 10,000 transactions a second, and ``trinary``'s
one-at-a-time route costs ~17 µs a hash, so these functions convert whole batches.

Trytes go straight to bytes without materialising trits: five trytes (15 trits) are exactly
three bytes, so each group of five tryte digits is read as one balanced base-27 number and
written out as three balanced base-243 digits, and back. That loop is compiled with numba, as
the crypto kernels are. All functions are pure and return new objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, cast

import numpy as np
import numpy.typing as npt
from numba import njit

from pyri.batch_trinary import pack_columns
from pyri.errors import TrinaryError
from pyri.storage.engine import StorageError
from pyri.trinary import ALPHABET, Trits, packed_length, validate_trytes

# (27**5 - 1) / 2 == (243**3 - 1) / 2: shifts a five-tryte (or three-byte) group value to >= 0,
# so the digits can be taken with non-negative % and //.
_GROUP_BIAS: Final = 7_174_453
_BAD: Final = 100


def _tables() -> tuple[npt.NDArray[np.int8], npt.NDArray[np.uint8]]:
    digit_of_code = np.full(256, _BAD, dtype=np.int8)  # ASCII code -> tryte value, _BAD if none
    for index, char in enumerate(ALPHABET):
        digit_of_code[ord(char)] = index if index <= 13 else index - 27
    # value + 13 -> ASCII code of the tryte
    code_of_digit = np.array([ord(ALPHABET[(v - 13) % 27]) for v in range(27)], dtype=np.uint8)
    for table in (digit_of_code, code_of_digit):
        table.flags.writeable = False
    return digit_of_code, code_of_digit


_DIGIT_OF_CODE, _CODE_OF_DIGIT = _tables()

# Compiled lazily on first use (loaded from numba's cache after the first run), so importing
# pyri.storage compiles nothing.


@njit(cache=True, nogil=True)
def _pack_codes(
    codes: npt.NDArray[np.uint8],
    width: int,
    digit_of_code: npt.NDArray[np.int8],
    out: npt.NDArray[np.int8],
) -> int:
    """Pack rows of ``width`` tryte codes into ``out``; the first bad row, or -1."""
    rows, packed = out.shape
    groups = (width + 4) // 5
    digits = np.zeros(5 * groups, dtype=np.int64)  # the row's tryte values, zero-padded
    for r in range(rows):
        bad = False
        for i in range(width):
            digit = digit_of_code[codes[r * width + i]]
            bad |= digit == 100  # _BAD
            digits[i] = digit
        if bad:
            return r
        for g in range(groups):
            i = 5 * g
            value = digits[i] + 27 * (
                digits[i + 1] + 27 * (digits[i + 2] + 27 * (digits[i + 3] + 27 * digits[i + 4]))
            )
            # Unsigned, so that % and // by a constant compile to multiplications.
            biased = np.uint64(value + 7_174_453)  # _GROUP_BIAS
            for k in range(3 * g, min(3 * g + 3, packed)):
                quotient = biased // np.uint64(243)
                out[r, k] = np.int64(biased - quotient * np.uint64(243)) - 121
                biased = quotient
    return -1


@njit(cache=True, nogil=True)
def _unpack_codes(
    data: npt.NDArray[np.uint8],
    width: int,
    code_of_digit: npt.NDArray[np.uint8],
    out: npt.NDArray[np.uint8],
) -> int:
    """Spell rows of packed bytes as ``width`` tryte codes into ``out``; the first row holding a
    byte outside -121..121, or -1."""
    rows = out.shape[0]
    packed = data.shape[0] // rows
    groups = (width + 4) // 5
    values = np.zeros(3 * groups, dtype=np.int64)  # the row's byte values, zero-padded
    for r in range(rows):
        bad = False
        for k in range(packed):
            byte = int(data[r * packed + k])
            bad |= 121 < byte < 135  # unsigned 122..134: signed 122..127 and -128..-122
            values[k] = byte - 256 if byte > 127 else byte
        if bad:
            return r
        for g in range(groups):
            k = 3 * g
            biased = np.uint64(values[k] + 243 * (values[k + 1] + 243 * values[k + 2]) + 7_174_453)
            for i in range(5 * g, min(5 * g + 5, width)):
                quotient = biased // np.uint64(27)
                out[r, i] = code_of_digit[biased - quotient * np.uint64(27)]
                biased = quotient
    return -1


def pack_trytes(trytes: Sequence[str], width: int) -> list[bytes]:
    """Pack strings of exactly ``width`` trytes; TrinaryError naming the first bad one."""
    if not trytes:
        return []
    try:
        joined = "".join(trytes)
    except TypeError:
        joined = ""  # a non-string: validate_trytes below names it
    if len(joined) != width * len(trytes):
        for item in trytes:
            validate_trytes(item, width)
    codes = np.frombuffer(joined.encode("ascii", "replace"), dtype=np.uint8)
    out = np.empty((len(trytes), packed_length(3 * width)), dtype=np.int8)
    bad = _pack_codes(codes, width, _DIGIT_OF_CODE, out)
    if bad >= 0:
        validate_trytes(trytes[bad], width)
        raise TrinaryError(f"trytes #{bad} are not {width} trytes")  # pragma: no cover
    return split_rows(out)


def unpack_trytes(records: Sequence[bytes], trit_count: int) -> list[str]:
    """Spell packed records of ``trit_count`` trits each (a multiple of 3) as trytes. Raises
    StorageError for a record of the wrong length or holding a byte outside -121..121."""
    if not records:
        return []
    width = packed_length(trit_count)
    data = b"".join(records)
    if len(data) != width * len(records) or any(len(record) != width for record in records):
        raise StorageError(f"packed records of {trit_count} trits must be {width} bytes each")
    tryte_count = trit_count // 3
    out = np.empty((len(records), tryte_count), dtype=np.uint8)
    bad = _unpack_codes(np.frombuffer(data, dtype=np.uint8), tryte_count, _CODE_OF_DIGIT, out)
    if bad >= 0:
        raise StorageError(f"packed record #{bad} holds a byte outside -121..121 (corrupted?)")
    text = out.tobytes().decode("ascii")
    return [text[i : i + tryte_count] for i in range(0, len(text), tryte_count)]


def pack_trits(trits: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """Pack each row of an (n, L) trit matrix (values -1..1) into ceil(L/5) bytes."""
    array = np.asarray(trits, dtype=np.int8)
    return pack_columns(array, 0, array.shape[1])


def _byte_trits() -> tuple[npt.NDArray[np.int8], npt.NDArray[np.bool_]]:
    trits = np.zeros((256, 5), dtype=np.int8)
    valid = np.zeros(256, dtype=np.bool_)
    for code in range(256):
        value = code - 256 if code > 127 else code
        if -121 <= value <= 121:
            valid[code] = True
            for position in range(5):
                trit = ((value + 1) % 3) - 1
                trits[code, position] = trit
                value = (value - trit) // 3
    trits.flags.writeable = False
    valid.flags.writeable = False
    return trits, valid


# Unsigned byte -> its five trits, and whether it is a valid packed byte at all.
_BYTE_TRITS, _BYTE_VALID = _byte_trits()


def unpack_rows(data: bytes, rows: int, trit_count: int) -> Trits:
    """Unpack ``rows`` records of ``trit_count`` packed trits each, stored back to back.
    Raises StorageError when ``data`` has the wrong length or a byte outside -121..121."""
    width = packed_length(trit_count)
    if len(data) != rows * width:
        raise StorageError(
            f"{len(data)} bytes are not {rows} packed records of {trit_count} trits ({width} bytes)"
        )
    codes = np.frombuffer(data, dtype=np.uint8).reshape(rows, width)
    if not _BYTE_VALID[codes].all():
        raise StorageError("packed trits hold a byte outside -121..121 (corrupted value?)")
    return _BYTE_TRITS[codes].reshape(rows, width * 5)[:, :trit_count]


def split_rows(packed: npt.NDArray[np.int8]) -> list[bytes]:
    """The rows of a 2-D packed array as separate ``bytes`` objects."""
    rows, width = packed.shape
    if not width:
        return [b""] * rows
    if rows < 32:
        # A few rows (the one hash key of an API call): slicing one blob costs least.
        blob = packed.tobytes()
        return [blob[i : i + width] for i in range(0, rows * width, width)]
    # Many rows: each row as one opaque numpy item, so tolist() makes the bytes objects in C
    # (5x faster than slicing; ~2 us fixed cost). Unlike fixed-width byte strings, void items
    # keep their trailing zero bytes.
    whole = np.ascontiguousarray(packed)
    return cast("list[bytes]", whole.view(np.dtype((np.void, width))).ravel().tolist())


def check_trits_shape(trits: npt.ArrayLike, width: int, name: str) -> npt.NDArray[np.int8]:
    """``trits`` as an (n, width) int8 matrix (a single row is promoted); TrinaryError if the
    last axis is not ``width`` long."""
    array = np.asarray(trits, dtype=np.int8)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2 or array.shape[1] != width:
        raise TrinaryError(f"{name} must be rows of {width} trits, got shape {array.shape}")
    return array
