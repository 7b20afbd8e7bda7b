"""Declarative request parameters: each command module declares its parameters as instances of
the classes below and reads them in IRI's order; ``read`` returns the validated value or raises
``BadRequest``.

IRI answered parameter failures with 500 and a bare message (iri-api-reference §2.3-2.4); pyri
answers 400 (design.md, difference 1) and keeps IRI's wording as the start of the message
(``Invalid addresses input``, ``Invalid parameters``, ``Could not complete request``), followed
by what exactly was wrong, e.g. ``Invalid addresses input: addresses[2] must be 81 trytes (or 90
with a checksum) long, got 80``. Clients that compare IRI's messages can match the prefix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, cast

from pyri.api.errors import BadRequest
from pyri.crypto.checksum import ADDRESS_WITH_CHECKSUM_TRYTES, CHECKSUM_TRYTES
from pyri.crypto.kerl import kerl_hash_rows
from pyri.trinary import (
    HASH_TRYTES,
    NULL_HASH,
    trits_batch_to_trytes,
    trytes_batch_to_trits,
)

Request = Mapping[str, object]

TRANSACTION_TRYTES: Final = 2673
TAG_TRYTES: Final = 27
# Java's int range bounds every index IRI keeps (milestone indexes are ints).
MAX_INDEX: Final = 2**31 - 1

# A sentinel for "key absent", which IRI tells apart from JSON null (§2.4 A).
_ABSENT: Final = object()
# re's [A-Z] is ASCII only, so this is exactly the tryte alphabet; about 0.2 us for a hash.
_is_trytes: Final = re.compile(r"[9A-Z]*").fullmatch
_first_non_tryte: Final = re.compile(r"[^9A-Z]").search
# A decimal string of at most ten significant digits: anything longer is out of every range
# these parameters accept (2^31 - 1 has ten), and int() of a huge digit string would raise.
_small_decimal: Final = re.compile(r"0*[0-9]{1,10}").fullmatch


def json_type(value: object) -> str:
    """How a decoded JSON value is called in messages ("a string", "null", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _element_problem(where: str, item: object, expected: str) -> str:
    """Why a list element is not the tryte string it should be (only called on failure)."""
    if not isinstance(item, str):
        return f"{where} must be a string of {expected}, got {json_type(item)}"
    bad = _first_non_tryte(item)
    if bad is not None:
        return (
            f"{where} holds {bad.group()!r} at position {bad.start()}, "
            "which is not a tryte (9, A-Z)"
        )
    return f"{where} must be {expected} long, got {len(item)}"


def _checksum_failures(addresses: list[str]) -> list[bool]:
    """Per 90-tryte address, whether its checksum is wrong.

    One batched Kerl call for all of them (strip_checksum hashes one address per call, about
    70 us each, which 1,000 addresses would turn into 70 ms).
    """
    trits = trytes_batch_to_trits([a[:HASH_TRYTES] for a in addresses], HASH_TRYTES)
    digests = trits_batch_to_trytes(kerl_hash_rows(trits))
    return [
        digest[-CHECKSUM_TRYTES:] != address[HASH_TRYTES:]
        for digest, address in zip(digests, addresses, strict=True)
    ]


def _read_list(request: Request, key: str, limit: int, *, optional: bool = False) -> list[object]:
    """The raw list under ``key`` (IRI's helper B, steps 1-3, §2.4)."""
    value = request.get(key, _ABSENT)
    if type(value) is list:
        if len(value) > limit:
            # IRI counts the raw list, duplicates included (§2.4 B.3).
            raise BadRequest(
                f"Could not complete request: '{key}' holds {len(value)} elements, "
                f"more than the limit of {limit} (--max-requests-list)"
            )
        return value
    if optional and (value is _ABSENT or value is None):
        return []
    if value is _ABSENT:
        raise BadRequest(f"Invalid parameters: '{key}' is required")
    raise BadRequest(
        f"Invalid {key} input: '{key}' must be an array of strings, got {json_type(value)}"
    )


@dataclass(frozen=True, slots=True)
class TryteList:
    """A list of tryte strings of one length (IRI's helper B, §2.4): hashes (81) or transaction
    trytes (2673). With ``optional``, an absent key or JSON null reads as [] (getBalances'
    ``tips``, design.md difference 4); otherwise an absent key is ``Invalid parameters``."""

    key: str
    length: int = HASH_TRYTES
    optional: bool = False

    def read(self, request: Request, limit: int) -> list[str]:
        if self.optional and request.get(self.key) is None:
            return []  # absent or null: the common case of getBalances' tips, kept short
        items = _read_list(request, self.key, limit, optional=self.optional)
        length = self.length
        for index, item in enumerate(items):
            if type(item) is not str or len(item) != length or not _is_trytes(item):
                problem = _element_problem(f"{self.key}[{index}]", item, f"{length} trytes")
                raise BadRequest(f"Invalid {self.key} input: {problem}")
        return cast("list[str]", items)  # every element was just checked to be a str


@dataclass(frozen=True, slots=True)
class AddressList:
    """A list of addresses: 81 trytes as in IRI, or 90 trytes whose last 9 are a valid checksum,
    which is stripped (design.md, difference 3). A wrong checksum names the address."""

    key: str = "addresses"

    def read(self, request: Request, limit: int) -> list[str]:
        items = _read_list(request, self.key, limit)
        for item in items:
            if type(item) is not str or len(item) != HASH_TRYTES or not _is_trytes(item):
                break
        else:
            # The common case, every element an 81-tryte address: the list as given.
            return cast("list[str]", items)
        result: list[str] = []
        checksummed: list[tuple[int, str]] = []
        shape_error: str | None = None
        for index, item in enumerate(items):
            if type(item) is str and _is_trytes(item):
                if len(item) == HASH_TRYTES:
                    result.append(item)
                    continue
                if len(item) == ADDRESS_WITH_CHECKSUM_TRYTES:
                    checksummed.append((index, item))
                    result.append(item[:HASH_TRYTES])
                    continue
            where = f"{self.key}[{index}]"
            shape_error = _element_problem(where, item, "81 trytes (or 90 with a checksum)")
            break
        # The first bad element in list order is reported; every checksummed address seen
        # comes before the malformed one, if any.
        if checksummed:
            wrong = _checksum_failures([item for _, item in checksummed])
            for (index, item), is_wrong in zip(checksummed, wrong, strict=True):
                if is_wrong:
                    raise BadRequest(
                        f"Invalid {self.key} input: {self.key}[{index}] has an invalid "
                        f"checksum: {item}"
                    )
        if shape_error is not None:
            raise BadRequest(f"Invalid {self.key} input: {shape_error}")
        return result


@dataclass(frozen=True, slots=True)
class HashSet:
    """findTransactions' ``bundles``, ``addresses`` and ``approvees`` (IRI's helper C, §2.4):
    a list made a set, the null hash refused. None when the key is absent, because the presence
    of a key is what selects a criterion (§4.8)."""

    key: str
    addresses: bool = False

    def read(self, request: Request, limit: int) -> frozenset[str] | None:
        if self.key not in request:
            return None
        if self.addresses:
            items = AddressList(self.key).read(request, limit)
        else:
            items = TryteList(self.key).read(request, limit)
        for index, item in enumerate(items):
            if item == NULL_HASH:
                raise BadRequest(
                    f"Invalid {self.key} input: {self.key}[{index}] is the null hash (81 nines)"
                )
        return frozenset(items)


@dataclass(frozen=True, slots=True)
class TagSet:
    """findTransactions' ``tags``. IRI does not check them: it right-pads each with 9 to 81
    characters, refuses a tag that is then all 9 (``Invalid tag input``, singular) and an
    81-nines tag (``Invalid tags input``), and fails with a Java exception on longer tags or
    non-tryte characters (§4.8). pyri refuses those with 400, and also a tag longer than 27
    trytes unless the excess is all 9, since a 27-tryte tag field can never match it; the
    backend gets every tag as exactly 27 trytes."""

    key: str = "tags"

    def read(self, request: Request, limit: int) -> frozenset[str] | None:
        if self.key not in request:
            return None
        items = _read_list(request, self.key, limit)
        checked: list[str] = []
        # Two passes, as in IRI: the set is checked for the null hash before any tag is padded.
        for index, item in enumerate(items):
            where = f"{self.key}[{index}]"
            if type(item) is not str or not _is_trytes(item) or len(item) > HASH_TRYTES:
                problem = _element_problem(where, item, f"at most {TAG_TRYTES} trytes")
                raise BadRequest(f"Invalid {self.key} input: {problem}")
            if item == NULL_HASH:
                raise BadRequest(f"Invalid {self.key} input: {where} is the null hash (81 nines)")
            checked.append(item)
        tags: set[str] = set()
        for index, item in enumerate(checked):
            where = f"{self.key}[{index}]"
            if len(item) > TAG_TRYTES and item[TAG_TRYTES:].strip("9"):
                raise BadRequest(
                    f"Invalid {self.key} input: {where} must be at most {TAG_TRYTES} trytes "
                    f"long (or padded with 9), got {len(item)}"
                )
            tag = item[:TAG_TRYTES].ljust(TAG_TRYTES, "9")
            if tag == "9" * TAG_TRYTES:
                raise BadRequest(f"Invalid tag input: {where} is empty or all nines")
            tags.add(tag)
        return frozenset(tags)


def _as_integer(value: object) -> int | None:
    """A JSON integer (also written 100.0 or 1e2: JSON Schema counts those as integers) or a
    decimal string of up to ten significant digits; None for anything else, booleans included
    (Python's True is an int)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _small_decimal(value):
        return int(value)
    return None


@dataclass(frozen=True, slots=True)
class Threshold:
    """getBalances' ``threshold`` (design.md, difference 2): optional, 100 when absent; an
    integer or decimal string from 0 to 100 inclusive, as the spec page says; anything else is
    400 ``Illegal 'threshold'``. It never changes the result."""

    key: str = "threshold"
    default: int = 100

    def read(self, request: Request) -> int:
        value = request.get(self.key, _ABSENT)
        if value is _ABSENT:
            return self.default
        number = _as_integer(value)
        if number is None or not 0 <= number <= 100:
            raise BadRequest("Illegal 'threshold'")
        return number


@dataclass(frozen=True, slots=True)
class OptionalIndex:
    """An optional milestone index (getBalances' ``milestoneIndex`` extension, design.md
    difference 8): absent or null = None; otherwise an integer (or decimal string) from 0 to
    2^31 - 1."""

    key: str

    def read(self, request: Request) -> int | None:
        value = request.get(self.key)
        if value is None:
            return None
        number = _as_integer(value)
        if number is None or not 0 <= number <= MAX_INDEX:
            number_like = isinstance(value, int | float) and not isinstance(value, bool)
            shown = repr(value) if number_like else json_type(value)
            raise BadRequest(
                f"Invalid {self.key} input: expected an integer from 0 to {MAX_INDEX}, got {shown}"
            )
        return number
