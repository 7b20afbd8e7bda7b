"""Seeds: 81 trytes that every key of a coordinator or wallet is derived from."""

from __future__ import annotations

import secrets
from pathlib import Path

from pyri.devnet.errors import DevnetError
from pyri.devnet.files import write_atomically
from pyri.errors import TrinaryError
from pyri.trinary import ALPHABET, HASH_TRYTES, validate_trytes


def random_seed() -> str:
    """A new seed from the operating system's secure random source."""
    return "".join(secrets.choice(ALPHABET) for _ in range(HASH_TRYTES))


def named_seed(name: str) -> str:
    """A deterministic, human-readable seed: ``name`` spelled in trytes and padded with 9s.
    Only for public test and demo funds: anyone can derive its keys."""
    trytes = "".join(c if c in ALPHABET else "9" for c in name.upper())
    if len(trytes) > HASH_TRYTES:
        raise DevnetError(f"seed name {name!r} is longer than {HASH_TRYTES} characters")
    return trytes.ljust(HASH_TRYTES, "9")


def check_seed(seed: str, what: str = "seed") -> str:
    """``seed`` if it is 81 trytes; DevnetError naming ``what`` otherwise."""
    try:
        return validate_trytes(seed.strip(), HASH_TRYTES, what)
    except TrinaryError as error:
        raise DevnetError(str(error)) from None


def seed_file(path: Path, given: str | None = None) -> str:
    """The seed kept in ``path``: read it, or write ``given`` (or a new random seed) there,
    readable by its owner only. A ``given`` seed that differs from the stored one is refused:
    the keys derived from the stored one are the ones in use."""
    if path.exists():
        stored = check_seed(path.read_text(encoding="ascii"), str(path))
        if given is not None and check_seed(given) != stored:
            raise DevnetError(f"{path} holds another seed than the one given")
        return stored
    seed = check_seed(given) if given is not None else random_seed()
    write_atomically(path, (seed + "\n").encode("ascii"), private=True)
    return seed
