"""The root of every error pyri raises on purpose.

Each layer defines its own subclasses here or in its own module; callers that need to tell
"bad input" from "node fault" catch these and nothing broader.
"""

from __future__ import annotations


class PyriError(Exception):
    """Base class of every error pyri raises deliberately."""


class TrinaryError(PyriError, ValueError):
    """A value is not valid trinary data: bad tryte characters, a wrong length, a trit outside
    -1..1, or an integer that does not fit its field. The message names the offending input."""


class CryptoError(PyriError, ValueError):
    """A cryptographic primitive was called with arguments it cannot use (a security level
    outside 1..3, an absorb length that is not a multiple of 243 for Kerl, a Merkle index out of
    range)."""
