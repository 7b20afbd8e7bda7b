"""Plain transactions for Tangle tests: zero-value, no proof of work, any trunk and branch.

Trytes are assembled field by field, so a test states exactly the links it needs."""

from __future__ import annotations

import random

from pyri.trinary import ALPHABET, NULL_HASH, int_to_trytes

TIMESTAMP = 1_700_000_000


def random_trytes(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(length))


def transaction_trytes(
    trunk: str = NULL_HASH,
    branch: str = NULL_HASH,
    *,
    rng: random.Random | None = None,
    address: str | None = None,
    value: int = 0,
    tag: str = "PYRI" + "9" * 23,
    timestamp: int = TIMESTAMP,
    attachment_timestamp: int = 0,
    current_index: int = 0,
    last_index: int = 0,
    bundle: str | None = None,
    obsolete_tag: str = "9" * 27,
    message: str | None = None,
) -> str:
    rng = rng or random.Random()
    trytes = (
        (message if message is not None else random_trytes(rng, 2187))
        + (address or random_trytes(rng, 80) + "9")
        + int_to_trytes(value, 27)
        + obsolete_tag
        + int_to_trytes(timestamp, 9)
        + int_to_trytes(current_index, 9)
        + int_to_trytes(last_index, 9)
        + (bundle or random_trytes(rng, 81))
        + trunk
        + branch
        + tag
        + int_to_trytes(attachment_timestamp, 9)
        + int_to_trytes(0, 9)
        + int_to_trytes(0, 9)
        + "9" * 27
    )
    assert len(trytes) == 2673
    return trytes
