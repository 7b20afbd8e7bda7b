"""Address checksums: the 9-tryte suffix client libraries append (a client convention; IRI's
own API never used it, pyri accepts it as design.md says)."""

from __future__ import annotations

from typing import Final

from pyri.crypto.kerl import kerl_hash
from pyri.errors import TrinaryError
from pyri.trinary import HASH_TRYTES, trits_to_trytes, trytes_to_trits, validate_trytes

CHECKSUM_TRYTES: Final = 9
ADDRESS_WITH_CHECKSUM_TRYTES: Final = HASH_TRYTES + CHECKSUM_TRYTES


def checksum(address: str) -> str:
    """The last 9 trytes of Kerl(address)."""
    validate_trytes(address, HASH_TRYTES, "address")
    return trits_to_trytes(kerl_hash(trytes_to_trits(address)))[-CHECKSUM_TRYTES:]


def add_checksum(address: str) -> str:
    return address + checksum(address)


def is_valid_checksum(address_with_checksum: str) -> bool:
    validate_trytes(address_with_checksum, ADDRESS_WITH_CHECKSUM_TRYTES, "address")
    return checksum(address_with_checksum[:HASH_TRYTES]) == address_with_checksum[HASH_TRYTES:]


def strip_checksum(address: str, name: str = "address") -> str:
    """An 81-tryte address from an 81- or 90-tryte one; a wrong checksum raises TrinaryError."""
    if isinstance(address, str) and len(address) == ADDRESS_WITH_CHECKSUM_TRYTES:
        if not is_valid_checksum(address):
            raise TrinaryError(f"{name} has an invalid checksum: {address}")
        return address[:HASH_TRYTES]
    return validate_trytes(address, HASH_TRYTES, name)
