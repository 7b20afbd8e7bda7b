"""Snapshot files: the global snapshot and its signature (§8.1, §8.2), and the local snapshot
files of IRI 1.8.1-1.8.5 (§8.3).

Everything here is parsing and writing; nothing touches the database. A file is either read
into a ``SnapshotState`` or refused with one ``SnapshotError`` whose message names the file,
the line and the problem, so an operator can fix the file without reading code.

Where IRI is lenient in a way no file it wrote (or the IOTA Foundation published) ever needed,
pyri is strict: IRI lets a later duplicate address overwrite an earlier one, ignores lines after
the meta file's entries, and would parse ``+5`` or an address shorter than 81 trytes; pyri
refuses all of these, because a file that relies on them was not written by IRI and a silently
different ledger is worse than a node that does not start. Every file IRI accepts *and* wrote
is accepted, and every file IRI refuses is refused.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final, TypeAlias

import numpy as np
import numpy.typing as npt

from pyri.crypto.kerl import kerl_hash
from pyri.crypto.merkle import root_from_path
from pyri.crypto.sponge import SpongeMode
from pyri.crypto.wots import address_from_digests, normalize, signature_digests
from pyri.errors import PyriError
from pyri.model.bundle import SUPPLY
from pyri.trinary import (
    HASH_TRITS,
    HASH_TRYTES,
    NULL_HASH,
    Trits,
    bytes_to_trytes,
    is_trytes,
    trits_to_trytes,
    trytes_to_trits,
)

PathLike: TypeAlias = str | os.PathLike[str]

JAVA_INT_MAX: Final = 2**31 - 1  # milestone indexes are Java ints in IRI
JAVA_LONG_MAX: Final = 2**63 - 1  # timestamps are Java longs

# §8.1 and §10: the key that signs the mainnet global snapshot since IRI 1.4.2.4, the depth of
# its key tree, and the leaf used for the 2019-04-10 file (IRI 1.7.0 to 1.8.6).
SNAPSHOT_PUBLIC_KEY: Final = (
    "TTXJUGKTNPOOEXSTQVVACENJOQUROXYKDRCVK9LHUXILCLABLGJTIPNF9REWHOIMEUKWQLUOKD9CZUYAC"
)
SNAPSHOT_PUBLIC_KEY_DEPTH: Final = 6
MAINNET_SNAPSHOT_SIGNATURE_INDEX: Final = 12
# IRI 1.3 (``Snapshot.java``) checked its 2017 mainnet file against this address directly:
# Kerl fragments and no Merkle path.
V1_3_SNAPSHOT_PUBLIC_KEY: Final = (
    "BRUTUMFFJVCXEPKHZBKBHWDKARQEYCUVSCUUESJWBSSAMHAWRVHZZGROIIOETMWDKRFODD9NMC9TPOWGD"
)

SIGNATURE_FRAGMENT_TRYTES: Final = 2187  # 27 chunks of 81 trytes, §4.4
SIGNATURE_FRAGMENTS: Final = 3  # SignedFiles reads at most three fragment lines, §8.1 step 2
# §8.1 step 1: a line's ASCII trytes (6 trits per character) go into a 729-trit buffer, so a
# line of 122 characters (732 trits) overflows it and IRI throws.
MAX_SIGNED_LINE_CHARS: Final = 3 * HASH_TRITS // 6
_DIGEST_ROW_TRITS: Final = 3 * HASH_TRITS

_BALANCE_LINE: Final = re.compile(r"([9A-Z]{81})([;:])(-?[0-9]+)")
_HASH_INDEX_LINE: Final = re.compile(r"([9A-Z]{81});([0-9]+)")
_DECIMAL: Final = re.compile(r"[0-9]+")
_SIGNED_DECIMAL: Final = re.compile(r"-?[0-9]+")
_HASH: Final = re.compile(r"[9A-Z]{81}")
_LINE_BREAK: Final = re.compile(r"\r\n|\r|\n")


class SnapshotError(PyriError, ValueError):
    """A snapshot file (global state, signature, local meta or state) is missing, malformed, or
    describes a ledger IRI would refuse: a negative balance, a total other than the supply. The
    message names the file and, where there is one, the line."""


@dataclass(frozen=True)
class SnapshotState:
    """A ledger snapshot: the balances at milestone ``index`` plus the metadata a node starts
    from (§7.1). Zero balances are dropped on construction (IRI removes them, §7.1); the maps
    are copied into read-only views, so a state never changes after it is made.

    The constructor checks nothing else, so that a caller can build a state (an empty one for a
    database without a snapshot, for instance); ``validate_snapshot_state`` checks what IRI
    checks when it loads a snapshot, and the writers run it before writing.
    """

    balances: Mapping[str, int]
    index: int
    hash: str
    timestamp: int
    solid_entry_points: Mapping[str, int]
    seen_milestones: Mapping[str, int]

    def __post_init__(self) -> None:
        balances = {address: value for address, value in self.balances.items() if value != 0}
        object.__setattr__(self, "balances", MappingProxyType(balances))
        object.__setattr__(
            self, "solid_entry_points", MappingProxyType(dict(self.solid_entry_points))
        )
        object.__setattr__(self, "seen_milestones", MappingProxyType(dict(self.seen_milestones)))

    @property
    def total(self) -> int:
        """The sum of all balances; SUPPLY for every state IRI would load."""
        return sum(self.balances.values())


def global_snapshot_state(
    balances: Mapping[str, int], *, index: int, timestamp: int
) -> SnapshotState:
    """The state IRI builds around a global snapshot file (§8.2): hash NULL_HASH, the solid
    entry point NULL_HASH at the milestone start index (§7.8), no seen milestones."""
    return SnapshotState(
        balances=balances,
        index=index,
        hash=NULL_HASH,
        timestamp=timestamp,
        solid_entry_points={NULL_HASH: index},
        seen_milestones={},
    )


# --- checks ---------------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_supply(total: int, where: str) -> None:
    # §7.1 hasCorrectSupply. An empty file sums to 0 and fails here, as in IRI.
    if total != SUPPLY:
        raise SnapshotError(f"{where}: balances sum to {total}, not the supply {SUPPLY}")


def validate_snapshot_state(state: SnapshotState, where: str = "snapshot state") -> None:
    """Raise SnapshotError unless IRI would load ``state`` (§7.1, §8.1, §8.3): 81-tryte
    addresses and hashes, integer balances, none negative, summing to the supply, and indexes and
    timestamp that fit IRI's Java int and long fields."""
    for address, balance in state.balances.items():
        if not isinstance(address, str) or _HASH.fullmatch(address) is None:
            raise SnapshotError(f"{where}: address {_show(address)} is not 81 trytes (9, A-Z)")
        if not _is_int(balance):
            raise SnapshotError(f"{where}: balance of {address} is not an integer: {balance!r}")
        if balance < 0:
            raise SnapshotError(f"{where}: negative balance {balance} for address {address}")
    _check_supply(state.total, where)
    if not isinstance(state.hash, str) or _HASH.fullmatch(state.hash) is None:
        raise SnapshotError(f"{where}: milestone hash {_show(state.hash)} is not 81 trytes")
    _check_range(where, "milestone index", state.index, JAVA_INT_MAX)
    _check_range(where, "timestamp", state.timestamp, JAVA_LONG_MAX)
    for name, entries in (
        ("solid entry point", state.solid_entry_points),
        ("seen milestone", state.seen_milestones),
    ):
        for entry_hash, entry_index in entries.items():
            if not isinstance(entry_hash, str) or _HASH.fullmatch(entry_hash) is None:
                raise SnapshotError(f"{where}: {name} {_show(entry_hash)} is not 81 trytes")
            _check_range(where, f"index of {name} {entry_hash}", entry_index, JAVA_INT_MAX)


def _check_range(where: str, name: str, value: object, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise SnapshotError(
            f"{where}: {name} must be an integer from 0 to {maximum}, got {value!r}"
        )


# --- reading lines --------------------------------------------------------------------------


def _show(value: object, limit: int = 100) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise SnapshotError(f"{path}: cannot read: {error.strerror or error}") from error


def _java_lines(text: str) -> list[str]:
    """The lines Java's ``BufferedReader`` yields: split at CR LF, CR or LF, and a terminator at
    the very end closes the last line rather than opening an empty one. (``str.splitlines``
    also splits at form feeds and other characters Java treats as text.)"""
    lines = text.split("\n") if "\r" not in text else _LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


def _content_lines(lines: list[str]) -> int:
    """How many lines carry content: empty lines at the end of a file are tolerated (an editor's
    extra newline), anywhere else they are an error."""
    count = len(lines)
    while count and lines[count - 1] == "":
        count -= 1
    return count


# --- balances (global snapshot and local .snapshot.state) -----------------------------------


def _parse_balances(where: Path, lines: list[str], separators: str) -> dict[str, int]:
    balances: dict[str, int] = {}
    for number, line in enumerate(lines[: _content_lines(lines)], start=1):
        match = _BALANCE_LINE.fullmatch(line)
        if match is None or match.group(2) not in separators:
            raise SnapshotError(f"{where}:{number}: {_diagnose_balance_line(line, separators)}")
        address = match.group(1)
        balance = int(match.group(3))
        if address in balances:
            first = next(n for n, text in enumerate(lines, 1) if text[:HASH_TRYTES] == address)
            raise SnapshotError(
                f"{where}:{number}: duplicate address {address} (first on line {first})"
            )
        if balance < 0:
            raise SnapshotError(f"{where}:{number}: negative balance {balance} for {address}")
        # No valid file holds more than the supply on one address; checking it per line names
        # the line, and keeps every value inside IRI's Java long.
        if balance > SUPPLY:
            raise SnapshotError(
                f"{where}:{number}: balance {balance} of {address} exceeds the supply {SUPPLY}"
            )
        balances[address] = balance
    _check_supply(sum(balances.values()), str(where))
    return balances


def _diagnose_balance_line(line: str, separators: str) -> str:
    """What is wrong with a line that failed the fast pattern (the error path only)."""
    if not line:
        return "empty line (only empty lines at the end of the file are allowed)"
    cuts = [line.find(sep) for sep in separators if sep in line]
    if not cuts:
        wanted = " or ".join(repr(sep) for sep in separators)
        return f"no {wanted} separator in {_show(line)}; expected ADDRESS{separators[0]}BALANCE"
    cut = min(cuts)
    address, balance = line[:cut], line[cut + 1 :]
    if _HASH.fullmatch(address) is None:
        return f"address {_show(address)} is not 81 trytes (9, A-Z)"
    if _SIGNED_DECIMAL.fullmatch(balance) is None:
        return f"balance {_show(balance)} is not a decimal integer"
    return f"malformed line {_show(line)}; expected ADDRESS{separators[0]}BALANCE"


def read_global_snapshot(path: PathLike, *, index: int, timestamp: int) -> SnapshotState:
    """Read a global snapshot file (§8.1): one ``ADDRESS;BALANCE`` line per address (IRI 1.4.2.4
    and later), or ``ADDRESS:BALANCE`` (IRI 1.3's 2017 file), the separator found per line.

    ``index`` and ``timestamp`` are the network's MILESTONE_START_INDEX and SNAPSHOT_TIME
    (§8.2); the file does not hold them. Zero balances are accepted and dropped. Refused with
    SnapshotError: a line that is not 81 trytes, separator, decimal integer; an empty line
    before the end; a duplicate address; a negative balance; a total other than the supply.
    The signature is a separate check (``verify_snapshot_signature``), as in IRI.
    """
    where = Path(path)
    _check_range(str(where), "milestone start index", index, JAVA_INT_MAX)
    _check_range(str(where), "snapshot time", timestamp, JAVA_LONG_MAX)
    text = _read_bytes(where).decode("latin-1")  # byte for byte, so any byte shows in errors
    balances = _parse_balances(where, _java_lines(text), ";:")
    return global_snapshot_state(balances, index=index, timestamp=timestamp)


def _balance_lines(state: SnapshotState) -> bytes:
    # IRI sorts the lines as strings (§8.3). Addresses are all 81 trytes followed by ';', so
    # that is the order of the addresses; zero balances were dropped by SnapshotState.
    lines = sorted(f"{address};{balance}\n" for address, balance in state.balances.items())
    return "".join(lines).encode("ascii")


def write_global_snapshot(state: SnapshotState, path: PathLike) -> None:
    """Write ``state``'s balances as a global snapshot file: ``ADDRESS;BALANCE`` lines with LF
    endings and a final newline, sorted by address (IRI's parser accepts any order; the IOTA
    Foundation's own files are unsorted; sorted output is deterministic and is the order IRI
    uses for its local state file, §8.3). Only balances are written: the file format has no
    place for index, timestamp or entry points. The file is replaced atomically. A state IRI
    would refuse to load (``validate_snapshot_state``) is refused instead of written."""
    target = Path(path)
    validate_snapshot_state(state, f"cannot write {target}")
    _replace_atomically(target, _balance_lines(state))


# --- the global snapshot's signature (§8.1, SignedFiles) ------------------------------------


def _byte_trits_table() -> npt.NDArray[np.int8]:
    # §1.5: byte c -> trytes alphabet[c % 27], alphabet[c // 27] -> 6 trits.
    table = trytes_to_trits(bytes_to_trytes(bytes(range(256)))).reshape(256, 6)
    table.setflags(write=False)
    return table


_BYTE_TRITS: Final = _byte_trits_table()


def _signed_lines(path: Path) -> list[bytes]:
    data = _read_bytes(path)
    try:
        # Java reads characters, not bytes. With the usual UTF-8 default charset a character
        # up to U+00FF is one ASCII-tryte pair; anything above makes IRI's converter return
        # null and throw. Latin-1 maps exactly the characters 0..255 back to one byte each.
        text = data.decode("utf-8")
        text.encode("latin-1")
    except UnicodeError as error:
        raise SnapshotError(
            f"{path}: holds a character IRI cannot digest (not UTF-8 text, or above U+00FF)"
        ) from error
    lines = [line.encode("latin-1") for line in _java_lines(text)]
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_SIGNED_LINE_CHARS:
            raise SnapshotError(
                f"{path}:{number}: a signed line holds at most {MAX_SIGNED_LINE_CHARS} "
                f"characters, this one {len(line)}"
            )
    return lines


def _file_digest_trits(path: Path) -> Trits:
    lines = _signed_lines(path)
    # §8.1 step 1, all lines at once: each line's trits start a zeroed 729-trit row, and one
    # Kerl absorbs the rows in order, which is what absorbing them one by one does. A NUL byte
    # is the tryte pair 99 (six zero trits), so padding each line with NULs to 121 characters
    # gives the zero padding up to 726 trits; the last three trits of each row stay zero.
    # Trits 242 and 485 of a long line are text, yet Kerl ignores them (§4.3) - so does IRI.
    codes = np.frombuffer(
        b"".join(line.ljust(MAX_SIGNED_LINE_CHARS, b"\0") for line in lines), dtype=np.uint8
    ).reshape(len(lines), MAX_SIGNED_LINE_CHARS)
    rows = np.zeros((len(lines), _DIGEST_ROW_TRITS), dtype=np.int8)
    rows[:, : 6 * MAX_SIGNED_LINE_CHARS] = _BYTE_TRITS[codes].reshape(len(lines), -1)
    return kerl_hash(rows.reshape(-1))


def snapshot_file_digest(path: PathLike) -> str:
    """The Kerl digest IRI signs for a snapshot file (§8.1 step 1), as 81 trytes."""
    return trits_to_trytes(_file_digest_trits(Path(path)))


def _signature_lines(sig_path: Path) -> list[str]:
    text = _read_bytes(sig_path).decode("latin-1")
    return _java_lines(text)


def snapshot_signature_root(
    path: PathLike, sig_path: PathLike, *, depth: int, index: int, mode: SpongeMode
) -> str:
    """The public key that ``sig_path`` proves for the snapshot file ``path`` (§8.1 steps 2-3,
    IRI's ``SignedFiles``): lines 1-3 of the signature file are WOTS fragments of 2187 trytes,
    checked with ``mode`` against the normalized file digest; a 4th line, when present, holds
    the Merkle siblings of leaf ``index`` in a tree of ``depth`` levels. Lines after the 4th are
    ignored, as IRI ignores them (IRI 1.8.6's mainnet .sig ends with an empty line).

    IRI 1.8.6 always uses Curl-P-81 here; IRI 1.3 used Kerl and had no Merkle line. A malformed
    signature file raises SnapshotError (IRI throws); a well-formed one that signs something
    else just gives another root."""
    if not _is_int(depth) or not _is_int(index) or depth < 0 or index < 0:
        raise SnapshotError(f"depth and index must be integers >= 0, got {depth!r}, {index!r}")
    signature_file = Path(sig_path)
    digest = _file_digest_trits(Path(path))
    lines = _signature_lines(signature_file)
    fragments = lines[:SIGNATURE_FRAGMENTS]
    if not fragments:
        raise SnapshotError(f"{signature_file}: holds no signature fragment")
    for number, fragment in enumerate(fragments, start=1):
        if len(fragment) != SIGNATURE_FRAGMENT_TRYTES or not is_trytes(fragment):
            raise SnapshotError(
                f"{signature_file}:{number}: a signature fragment is {SIGNATURE_FRAGMENT_TRYTES}"
                f" trytes (9, A-Z); this line has {len(fragment)} characters"
            )
    signature = trytes_to_trits("".join(fragments))
    digests = signature_digests(signature, normalize(digest), mode)
    root = address_from_digests(digests, mode)
    if len(lines) > SIGNATURE_FRAGMENTS:
        siblings = lines[SIGNATURE_FRAGMENTS]
        needed = depth * HASH_TRYTES
        # IRI converts the whole line, then reads depth siblings from it: a short line throws,
        # extra trytes are never looked at.
        if not is_trytes(siblings) or len(siblings) < needed:
            raise SnapshotError(
                f"{signature_file}:{SIGNATURE_FRAGMENTS + 1}: the Merkle path must be at least "
                f"{needed} trytes (9, A-Z) for depth {depth}; this line has {len(siblings)} "
                "characters"
            )
        root = root_from_path(root, index, trytes_to_trits(siblings[:needed]), mode, depth)
    return trits_to_trytes(root)


def verify_snapshot_signature(
    path: PathLike,
    sig_path: PathLike,
    *,
    public_key: str,
    depth: int,
    index: int,
    mode: SpongeMode,
) -> bool:
    """Whether ``sig_path`` signs the snapshot file ``path`` for ``public_key`` (§8.1).

    Mainnet IRI 1.4.2.4-1.8.6: ``public_key=SNAPSHOT_PUBLIC_KEY``, ``depth=6``, ``index=12``
    (the 2019-04-10 file), ``mode=SpongeMode.CURLP81``. IRI 1.3's 2017 file:
    ``public_key=V1_3_SNAPSHOT_PUBLIC_KEY``, ``mode=SpongeMode.KERL`` (no Merkle line, so depth
    and index play no part). The file digest is Kerl in both."""
    if _HASH.fullmatch(public_key) is None:
        raise SnapshotError(f"public key {_show(public_key)} is not 81 trytes")
    root = snapshot_signature_root(path, sig_path, depth=depth, index=index, mode=mode)
    return root == public_key


# --- local snapshot files of IRI 1.8.1-1.8.5 (§8.3) -----------------------------------------


def local_snapshot_paths(base_path: PathLike) -> tuple[Path, Path]:
    """``(<base>.snapshot.meta, <base>.snapshot.state)``: IRI appends the suffixes to the base
    path as a string (``--local-snapshots-base-path``, default ``mainnet``)."""
    base = os.fspath(base_path)
    return Path(base + ".snapshot.meta"), Path(base + ".snapshot.state")


class _MetaReader:
    """Walks the meta file's lines, naming the line and the field in every error."""

    def __init__(self, path: Path, lines: list[str]) -> None:
        self._path = path
        self._lines = lines
        self._number = 0

    def _next(self, what: str) -> str:
        if self._number >= len(self._lines):
            raise SnapshotError(
                f"{self._path}: ends after line {len(self._lines)}; expected the {what} on line "
                f"{self._number + 1}"
            )
        self._number += 1
        return self._lines[self._number - 1]

    def _fail(self, problem: str) -> SnapshotError:
        return SnapshotError(f"{self._path}:{self._number}: {problem}")

    def hash(self, what: str) -> str:
        line = self._next(what)
        if _HASH.fullmatch(line) is None:
            raise self._fail(f"the {what} {_show(line)} is not 81 trytes (9, A-Z)")
        return line

    def number(self, what: str, maximum: int) -> int:
        line = self._next(what)
        if _DECIMAL.fullmatch(line) is None:
            raise self._fail(f"the {what} {_show(line)} is not a decimal integer >= 0")
        value = int(line)
        if value > maximum:
            raise self._fail(f"the {what} {value} exceeds {maximum}")
        return value

    def entries(self, count: int, what: str) -> dict[str, int]:
        entries: dict[str, int] = {}
        for _ in range(count):
            line = self._next(what)
            match = _HASH_INDEX_LINE.fullmatch(line)
            if match is None:
                raise self._fail(f"the {what} {_show(line)} is not HASH;INDEX")
            entry_hash, entry_index = match.group(1), int(match.group(2))
            if entry_index > JAVA_INT_MAX:
                raise self._fail(f"the index {entry_index} exceeds {JAVA_INT_MAX}")
            if entry_hash in entries:
                raise self._fail(f"duplicate {what} {entry_hash}")
            entries[entry_hash] = entry_index
        return entries

    def finish(self) -> None:
        # IRI stops reading after the counted entries; lines beyond them mean the counts and
        # the entries disagree, so the file was not written by IRI.
        if _content_lines(self._lines) > self._number:
            self._number += 1
            raise self._fail(
                f"unexpected line {_show(self._lines[self._number - 1])} after the entries the "
                "counts on lines 4 and 5 announce"
            )


def read_local_snapshot(base_path: PathLike) -> SnapshotState:
    """Read an IRI 1.8.1-1.8.5 local snapshot: ``<base>.snapshot.meta`` (milestone hash, index,
    timestamp, the two counts, then ``HASH;INDEX`` lines for the solid entry points and the
    seen milestones) and ``<base>.snapshot.state`` (``ADDRESS;BALANCE`` lines), §8.3.

    Both files must exist. The state gets the load-time checks of §8.3: the supply and no
    negative balance. Indexes are Java ints and the timestamp a Java long, non-negative; entry
    lines may come in any order; duplicates and extra lines are refused."""
    meta_path, state_path = local_snapshot_paths(base_path)
    missing = [str(path) for path in (meta_path, state_path) if not path.is_file()]
    if missing:
        raise SnapshotError(
            f"a local snapshot needs both {meta_path} and {state_path}; missing: "
            + ", ".join(missing)
        )
    meta = _MetaReader(meta_path, _java_lines(_read_bytes(meta_path).decode("latin-1")))
    milestone_hash = meta.hash("milestone hash")
    index = meta.number("milestone index", JAVA_INT_MAX)
    timestamp = meta.number("timestamp", JAVA_LONG_MAX)
    entry_point_count = meta.number("number of solid entry points", JAVA_INT_MAX)
    seen_count = meta.number("number of seen milestones", JAVA_INT_MAX)
    entry_points = meta.entries(entry_point_count, "solid entry point")
    seen = meta.entries(seen_count, "seen milestone")
    meta.finish()
    # Local snapshots were only ever written by IRI 1.8.x, with ';' (the ':' form is IRI 1.3's).
    text = _read_bytes(state_path).decode("latin-1")
    balances = _parse_balances(state_path, _java_lines(text), ";")
    return SnapshotState(
        balances=balances,
        index=index,
        hash=milestone_hash,
        timestamp=timestamp,
        solid_entry_points=entry_points,
        seen_milestones=seen,
    )


def _entry_lines(entries: Mapping[str, int]) -> Iterable[str]:
    # IRI sorts by index only, and equal indexes come out in Java HashMap order, which depends
    # on the JVM's table history; pyri breaks ties by hash so its output is deterministic.
    for entry_hash, entry_index in sorted(entries.items(), key=lambda item: (item[1], item[0])):
        yield f"{entry_hash};{entry_index}\n"


def local_snapshot_meta_bytes(state: SnapshotState) -> bytes:
    """The ``.snapshot.meta`` content IRI 1.8.5 writes for ``state`` (§8.3): LF line endings
    (``Files.write`` with Linux's line separator), a final newline, entries by index."""
    head = [
        state.hash,
        str(state.index),
        str(state.timestamp),
        str(len(state.solid_entry_points)),
        str(len(state.seen_milestones)),
    ]
    lines = [f"{line}\n" for line in head]
    lines.extend(_entry_lines(state.solid_entry_points))
    lines.extend(_entry_lines(state.seen_milestones))
    return "".join(lines).encode("ascii")


def local_snapshot_state_bytes(state: SnapshotState) -> bytes:
    """The ``.snapshot.state`` content IRI 1.8.5 writes: non-zero balances, lines sorted."""
    return _balance_lines(state)


def write_local_snapshot(state: SnapshotState, base_path: PathLike) -> None:
    """Write ``<base>.snapshot.meta`` and ``<base>.snapshot.state`` as IRI 1.8.5 does (§8.3):
    both ``.tmp`` files first (synced), then the current files renamed to ``.bkp``, then the
    ``.tmp`` files renamed into place. Each rename is atomic, so a crash leaves every file whole;
    between the two final renames the pair can disagree, as in IRI, and the ``.bkp`` pair is
    the previous snapshot. A state IRI would refuse to load is refused instead."""
    meta_path, state_path = local_snapshot_paths(base_path)
    validate_snapshot_state(state, f"cannot write the local snapshot {os.fspath(base_path)}")
    contents = (
        (state_path, local_snapshot_state_bytes(state)),
        (meta_path, local_snapshot_meta_bytes(state)),
    )
    for target, data in contents:
        _write_synced(_with_suffix(target, ".tmp"), data)
    try:
        for target, _ in contents:
            if target.exists():
                os.replace(target, _with_suffix(target, ".bkp"))
        for target, _ in contents:
            os.replace(_with_suffix(target, ".tmp"), target)
    except OSError as error:
        raise SnapshotError(f"{state_path}: cannot replace the local snapshot: {error}") from error
    _sync_directory(state_path.parent)


# --- atomic file writing --------------------------------------------------------------------


def _with_suffix(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _write_synced(path: Path, data: bytes) -> None:
    try:
        with path.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        raise SnapshotError(f"{path}: cannot write: {error.strerror or error}") from error


def _replace_atomically(path: Path, data: bytes) -> None:
    # A unique temporary name in the target's directory, so the rename stays on one file system
    # and two writers never share a temporary file.
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
    except OSError as error:
        raise SnapshotError(f"{path}: cannot write: {error.strerror or error}") from error
    try:
        with os.fdopen(handle, "wb") as stream:
            os.fchmod(stream.fileno(), 0o644)  # mkstemp's 0600 would hide it from other readers
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise SnapshotError(f"{path}: cannot write: {error.strerror or error}") from error
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    # The renames are durable only once the directory entry is; some file systems refuse to
    # sync a directory, and then there is nothing more to do.
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
