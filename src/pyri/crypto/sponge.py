"""The three sponges behind one small interface, so that WOTS and Merkle code is written once and
runs with Kerl (user bundles, mainnet coordinator), Curl-P-27 (testnet coordinator) or Curl-P-81.
"""

from __future__ import annotations

import enum
from typing import Protocol

import numpy as np
import numpy.typing as npt

from pyri.trinary import HASH_TRITS, Trits


class SpongeMode(enum.Enum):
    """A sponge, named as IRI's ``--testnet-coordinator-signature-mode`` names it."""

    CURLP27 = "CURLP27"
    CURLP81 = "CURLP81"
    KERL = "KERL"

    @classmethod
    def parse(cls, name: str) -> SpongeMode:
        try:
            return cls(name.upper())
        except ValueError:
            allowed = ", ".join(mode.value for mode in cls)
            message = f"unknown signature mode {name!r}; expected one of {allowed}"
            raise ValueError(message) from None


class Sponge(Protocol):
    def reset(self) -> None: ...
    def absorb(self, trits: Trits) -> None: ...
    def squeeze(self, length: int = HASH_TRITS) -> Trits: ...


def new_sponge(mode: SpongeMode) -> Sponge:
    """A fresh stateful sponge of the given mode."""
    if mode is SpongeMode.KERL:
        from pyri.crypto.kerl import Kerl

        return Kerl()
    from pyri.crypto.curl import ROUNDS_P27, ROUNDS_P81, CurlSponge

    return CurlSponge(ROUNDS_P27 if mode is SpongeMode.CURLP27 else ROUNDS_P81)


def hash_trits(mode: SpongeMode, trits: Trits, length: int = HASH_TRITS) -> Trits:
    """A fresh sponge absorbs ``trits`` and squeezes ``length`` trits."""
    if mode is SpongeMode.KERL:
        from pyri.crypto.kerl import kerl_hash

        return kerl_hash(trits, length // HASH_TRITS)
    from pyri.crypto.curl import curl_hash

    return curl_hash(trits, _rounds(mode), length)


def hash_rows(mode: SpongeMode, rows: Trits) -> Trits:
    """Hash every row of a (n, L) matrix to 243 trits (batched for Curl-P)."""
    if mode is SpongeMode.KERL:
        from pyri.crypto.kerl import kerl_hash_rows

        return kerl_hash_rows(rows)
    from pyri.crypto.curl import curl_hash_batch

    return curl_hash_batch(rows, _rounds(mode))


def hash_chains(mode: SpongeMode, chunks: Trits, counts: npt.ArrayLike) -> Trits:
    """Row r of a (n, 243) matrix hashed ``counts[r]`` times, each time with a fresh sponge."""
    if mode is SpongeMode.KERL:
        from pyri.crypto.kerl import kerl_chains

        return kerl_chains(chunks, counts)
    from pyri.crypto.curl import curl_chain_batch

    return curl_chain_batch(chunks, np.asarray(counts), _rounds(mode))


def _rounds(mode: SpongeMode) -> int:
    return 27 if mode is SpongeMode.CURLP27 else 81
