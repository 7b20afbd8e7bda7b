"""A stand-in for pysha3's ``sha3`` module, enough for PyOTA 2.1.0.

PyOTA's Kerl calls ``sha3.keccak_384()`` and then only ``update`` and ``digest`` (it makes a new
object after each digest). pysha3 does not build on Python 3.11, so the compatibility tests put
this directory on ``sys.path`` and give PyOTA pycryptodome's Keccak (original padding, as
pysha3's ``keccak_384``) instead.
"""

from __future__ import annotations

from typing import Any

from Crypto.Hash import keccak


def keccak_384(data: bytes = b"") -> Any:
    """A Keccak-384 hash object (pycryptodome), optionally fed ``data``."""
    digest = keccak.new(digest_bits=384)
    if data:
        digest.update(data)
    return digest
