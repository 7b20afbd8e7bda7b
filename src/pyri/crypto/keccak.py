"""Keccak-384 with the original Keccak padding, from pycryptodome, callable from compiled code.

pycryptodome's ``Crypto.Hash.keccak`` object costs about 7 microseconds per hash in Python
overhead, ten times the permutation itself, and WOTS verification needs some 700 hashes per
signature. Its C library exports ``keccak_oneshot``; ``keccak_call`` below calls that function
from numba-compiled loops through its address (about 0.6 microseconds per hash). The address is
a run-time argument rather than a global so that the compiled kernels can be cached on disk.

``keccak_address()`` proves on first use that the one-shot path gives the same digest as the
public API, so a pycryptodome that changed its internals fails loudly instead of hashing wrong.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

from Crypto.Hash import keccak
from llvmlite import ir  # type: ignore[import-untyped]
from numba import types
from numba.extending import intrinsic

from pyri.errors import CryptoError

DIGEST_BYTES: Final = 48
CAPACITY_BYTES: Final = 2 * DIGEST_BYTES
ROUNDS: Final = 24
KECCAK_PADDING: Final = 0x01  # the original Keccak pad10*1, not FIPS-202's 0x06


def keccak384(data: bytes) -> bytes:
    """Keccak-384 of ``data`` through pycryptodome's public API (the reference path)."""
    return keccak.new(digest_bits=384, data=data).digest()


def _keccak_call(typingctx: Any, address: Any, message: Any, length: Any, digest: Any) -> Any:
    """Compiled-code call ``keccak_oneshot(message[:length]) -> digest[:48]`` at ``address``."""
    signature = types.int32(types.uintp, message, types.intp, digest)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        address_value, message_value, length_value, digest_value = args
        message_array = context.make_array(sig.args[1])(context, builder, message_value)
        digest_array = context.make_array(sig.args[3])(context, builder, digest_value)
        byte_ptr = ir.IntType(8).as_pointer()
        i64 = ir.IntType(64)
        i8 = ir.IntType(8)
        function_type = ir.FunctionType(ir.IntType(32), [byte_ptr, i64, byte_ptr, i64, i64, i8, i8])
        function = builder.inttoptr(address_value, function_type.as_pointer())
        return builder.call(
            function,
            [
                builder.bitcast(message_array.data, byte_ptr),
                length_value,
                builder.bitcast(digest_array.data, byte_ptr),
                ir.Constant(i64, DIGEST_BYTES),
                ir.Constant(i64, CAPACITY_BYTES),
                ir.Constant(i8, ROUNDS),
                ir.Constant(i8, KECCAK_PADDING),
            ],
        )

    return signature, codegen


# Typed as Any: numba intrinsics are called with the typing context filled in by numba.
keccak_call: Any = intrinsic(_keccak_call)


@cache
def keccak_address() -> int:
    """The address of pycryptodome's C ``keccak_oneshot``, checked against the public API."""
    from Crypto.Util import _raw_api

    if _raw_api.backend != "cffi":
        raise CryptoError(
            "pycryptodome is using its ctypes backend; install cffi so that pyri's compiled "
            "Kerl kernels can call Keccak"
        )
    function = keccak._raw_keccak_lib.keccak_oneshot
    probe = b"pyri keccak probe"
    out = _raw_api.ffi.new("uint8_t[48]")
    function(probe, len(probe), out, DIGEST_BYTES, CAPACITY_BYTES, ROUNDS, KECCAK_PADDING)
    if bytes(_raw_api.ffi.buffer(out)) != keccak384(probe):
        raise CryptoError("pycryptodome's keccak_oneshot disagrees with its Keccak-384 API")
    return int(_raw_api.ffi.cast("uintptr_t", function))
