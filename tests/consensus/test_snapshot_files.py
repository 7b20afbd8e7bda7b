"""Snapshot files (§8.1-§8.3): the real ledger files in the shared data folder, their signatures,
every refusal with its exact message, and round trips through both written formats."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyri.consensus.snapshot_files import (
    MAINNET_SNAPSHOT_SIGNATURE_INDEX,
    SNAPSHOT_PUBLIC_KEY,
    SNAPSHOT_PUBLIC_KEY_DEPTH,
    SUPPLY,
    V1_3_SNAPSHOT_PUBLIC_KEY,
    SnapshotError,
    SnapshotState,
    global_snapshot_state,
    local_snapshot_paths,
    read_global_snapshot,
    read_local_snapshot,
    snapshot_file_digest,
    snapshot_signature_root,
    validate_snapshot_state,
    verify_snapshot_signature,
    write_global_snapshot,
    write_local_snapshot,
)
from pyri.crypto.sponge import SpongeMode
from pyri.trinary import ALPHABET, NULL_HASH

DATA = Path(
    os.environ.get("PYRI_DATA", Path(__file__).resolve().parents[2] / ".." / "shared" / "data")
)
needs_data = pytest.mark.skipif(
    not (DATA / "iri").is_dir(), reason=f"the shared ledger files are not at {DATA} (set PYRI_DATA)"
)

V13_TXT = DATA / "iri" / "v1.3-mainnet" / "Snapshot.txt"
V13_SIG = DATA / "iri" / "v1.3-mainnet" / "Snapshot.sig"
TESTNET_TXT = DATA / "iri" / "v1.4.2.2-testnet" / "Snapshot.txt"
TESTNET_SIG = DATA / "iri" / "v1.4.2.2-testnet" / "Snapshot.sig"
MAINNET_186_SIG = DATA / "iri" / "v1.8.6-RELEASE" / "snapshotMainnet.sig"
SNAPSHOTS_20190410_SIG = DATA / "iotaledger-snapshots" / "mainnet" / "20190410" / "snapshot.sig"
REGRESSION_TXT = DATA / "iri" / "python-regression" / "snapshot.txt"

A = "A" * 81
B = "B" * 81
C = "C" * 81
H1 = "H" * 80 + "Z"
H2 = "Y" * 81


def lines(*text: str) -> bytes:
    return "".join(f"{line}\n" for line in text).encode("ascii")


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def assert_real_ledger(
    state: SnapshotState, count: int, largest: tuple[str, int], sample: tuple[str, int]
) -> None:
    assert len(state.balances) == count
    assert state.total == SUPPLY
    assert max(state.balances.items(), key=lambda item: item[1]) == largest
    assert state.balances[sample[0]] == sample[1]
    assert min(state.balances.values()) > 0


# --- the real ledger files ------------------------------------------------------------------


@needs_data
def test_v1_3_mainnet_colon_file() -> None:
    state = read_global_snapshot(V13_TXT, index=151_000, timestamp=1_502_226_000)
    assert_real_ledger(
        state,
        22_245,
        (
            "AIW9MDALMQFENVHQETXJSOYQHG9D9FPVKTAPDRYG9NOLYRKRIHVSNGBJQULVXYSATETVHZTFPWDHGMNLA",
            247266660672875,
        ),
        (
            "ZHITHKLKRZEY9HJCWH9DBLIHZLWB9OUMSKZHNAEQVMPSMQYWYJHUJRZHIJIGJBUSHLXLWETVWNFWLPZAL",
            50_000_000,
        ),
    )
    # §8.2 / §7.8: a global snapshot is NULL_HASH at the start index, its only entry point.
    assert (state.hash, state.index, state.timestamp) == (NULL_HASH, 151_000, 1_502_226_000)
    assert state.solid_entry_points == {NULL_HASH: 151_000}
    assert state.seen_milestones == {}


@needs_data
def test_v1_4_2_2_testnet_semicolon_file() -> None:
    state = read_global_snapshot(TESTNET_TXT, index=434_525, timestamp=1_522_306_500)
    assert_real_ledger(
        state,
        5_821,
        (
            "P9LCGFTBXAQCTCZD9CJGRXBSNVPNVEABWDBSTELHPYUFRJWJNTAKMEILYLP9B9NGKDMWJ9WVHVWBJNBMD",
            789529153177761,
        ),
        ("MWFUJOSUYADEHMFL9JXXSGSG9ZHOVLUDTNLCAHRNEPUPKXHQNKUCHMCURAN999YYKCYQU9BOBTWJBDWLD", 9),
    )


@needs_data
def test_python_regression_file_sums_to_the_supply() -> None:
    # IRI's regression nodes load it with --testnet --milestone-start 0 (no signature check).
    state = read_global_snapshot(REGRESSION_TXT, index=0, timestamp=1_522_306_500)
    assert_real_ledger(
        state,
        10,
        (
            "99CBRJOHPSUPDNHQRBOGWFDOQNOYPEKVWKTCUGKB9WWKHSPAIKUDPDOOYVZT9MBVWRCQLEFH9NNWRFLAB",
            277953028327777,
        ),
        (
            "FJHSSHBZTAKQNDTIKJYCZBOZDGSZANCZSWCNWUOCZXFADNOQSYAHEJPXRLOVPNOQFQXXGEGVDGICLMOXX",
            277953028327776,
        ),
    )
    assert sorted(state.balances.values()).count(277953028327776) == 9


# --- signatures (§8.1) ----------------------------------------------------------------------


@needs_data
def test_v1_3_signature_verifies_with_kerl_fragments() -> None:
    assert verify_snapshot_signature(
        V13_TXT,
        V13_SIG,
        public_key=V1_3_SNAPSHOT_PUBLIC_KEY,
        depth=0,
        index=0,
        mode=SpongeMode.KERL,
    )
    # Without a Merkle line, depth and index play no part (v1.3 checked the address directly).
    assert verify_snapshot_signature(
        V13_TXT,
        V13_SIG,
        public_key=V1_3_SNAPSHOT_PUBLIC_KEY,
        depth=6,
        index=12,
        mode=SpongeMode.KERL,
    )


@needs_data
@pytest.mark.parametrize(
    ("public_key", "mode"),
    [
        (V1_3_SNAPSHOT_PUBLIC_KEY, SpongeMode.CURLP81),
        (V1_3_SNAPSHOT_PUBLIC_KEY, SpongeMode.CURLP27),
        (SNAPSHOT_PUBLIC_KEY, SpongeMode.KERL),
    ],
)
def test_v1_3_signature_fails_with_other_parameters(public_key: str, mode: SpongeMode) -> None:
    assert not verify_snapshot_signature(
        V13_TXT, V13_SIG, public_key=public_key, depth=0, index=0, mode=mode
    )


@needs_data
def test_one_changed_byte_breaks_the_signature(tmp_path: Path) -> None:
    data = bytearray(V13_TXT.read_bytes())
    position = data.index(b":50000000\n") + 1
    data[position] = ord("6")  # 50000000 -> 60000000 on line 1
    changed = write(tmp_path / "Snapshot.txt", bytes(data))
    assert snapshot_file_digest(changed) != snapshot_file_digest(V13_TXT)
    assert not verify_snapshot_signature(
        changed,
        V13_SIG,
        public_key=V1_3_SNAPSHOT_PUBLIC_KEY,
        depth=0,
        index=0,
        mode=SpongeMode.KERL,
    )


@needs_data
def test_line_endings_are_not_signed(tmp_path: Path) -> None:
    # Java's readLine drops the terminator before digesting, so CR LF signs like LF (§8.1).
    crlf = write(tmp_path / "Snapshot.txt", V13_TXT.read_bytes().replace(b"\n", b"\r\n"))
    assert verify_snapshot_signature(
        crlf, V13_SIG, public_key=V1_3_SNAPSHOT_PUBLIC_KEY, depth=0, index=0, mode=SpongeMode.KERL
    )


@needs_data
def test_testnet_signature_is_a_placeholder() -> None:
    # data/README: with TTXJUG..., depth 6, index 1, Kerl digest and Curl-P-81 ISS the testnet
    # .sig gives this root, not the key; IRI never enforced it.
    root = snapshot_signature_root(
        TESTNET_TXT, TESTNET_SIG, depth=SNAPSHOT_PUBLIC_KEY_DEPTH, index=1, mode=SpongeMode.CURLP81
    )
    assert (
        root == "XCXP9PGSXL9MJ9AP9EDPSBBTGDFIYEWKCPEN9XNTILFEEIWGZAKBSRHURMNQT9SMVEMSEKKHXWHPLYAMT"
    )
    assert not verify_snapshot_signature(
        TESTNET_TXT,
        TESTNET_SIG,
        public_key=SNAPSHOT_PUBLIC_KEY,
        depth=SNAPSHOT_PUBLIC_KEY_DEPTH,
        index=1,
        mode=SpongeMode.CURLP81,
    )


@needs_data
def test_iri_1_8_6_mainnet_sig_is_well_formed() -> None:
    # Its text file is not in the data folder, so it cannot verify here; but the four lines
    # parse, its trailing empty 5th line is ignored (so it gives the same root as the
    # iotaledger/snapshots copy without that line), and it does not sign the 2017 file.
    def root(sig: Path) -> str:
        return snapshot_signature_root(
            V13_TXT,
            sig,
            depth=SNAPSHOT_PUBLIC_KEY_DEPTH,
            index=MAINNET_SNAPSHOT_SIGNATURE_INDEX,
            mode=SpongeMode.CURLP81,
        )

    assert root(MAINNET_186_SIG) == root(SNAPSHOTS_20190410_SIG)
    assert root(MAINNET_186_SIG) != SNAPSHOT_PUBLIC_KEY


def test_signed_line_longer_than_121_characters(tmp_path: Path) -> None:
    text = write(tmp_path / "s.txt", lines(f"{A};{SUPPLY}", "X" * 122))
    with pytest.raises(SnapshotError) as error:
        snapshot_file_digest(text)
    assert str(error.value) == f"{text}:2: a signed line holds at most 121 characters, this one 122"


def test_signed_file_with_a_character_above_u00ff(tmp_path: Path) -> None:
    text = write(tmp_path / "s.txt", "€\n".encode())
    with pytest.raises(SnapshotError) as error:
        snapshot_file_digest(text)
    assert str(error.value) == (
        f"{text}: holds a character IRI cannot digest (not UTF-8 text, or above U+00FF)"
    )


def test_digest_pads_each_line_to_729_trits(tmp_path: Path) -> None:
    # A NUL character is six zero trits, the same as the padding (§1.5, §8.1 step 1).
    plain = write(tmp_path / "a.txt", b"AB\n")
    padded = write(tmp_path / "b.txt", b"AB\0\0\n")
    other = write(tmp_path / "c.txt", b"AB\n\n")
    assert snapshot_file_digest(plain) == snapshot_file_digest(padded)
    assert snapshot_file_digest(plain) != snapshot_file_digest(other)


@pytest.mark.parametrize(
    ("sig_lines", "message"),
    [
        ([], "{sig}: holds no signature fragment"),
        (
            ["9" * 2186],
            "{sig}:1: a signature fragment is 2187 trytes (9, A-Z); this line has 2186 characters",
        ),
        (
            ["9" * 2187, "9" * 2186 + "a"],
            "{sig}:2: a signature fragment is 2187 trytes (9, A-Z); this line has 2187 characters",
        ),
        (
            ["9" * 2187] * 3 + ["9" * 485],
            "{sig}:4: the Merkle path must be at least 486 trytes (9, A-Z) for depth 6; this line "
            "has 485 characters",
        ),
    ],
)
def test_malformed_signature_file(tmp_path: Path, sig_lines: list[str], message: str) -> None:
    text = write(tmp_path / "s.txt", lines(f"{A};{SUPPLY}"))
    sig = write(tmp_path / "s.sig", lines(*sig_lines))
    with pytest.raises(SnapshotError) as error:
        snapshot_signature_root(text, sig, depth=6, index=12, mode=SpongeMode.CURLP81)
    assert str(error.value) == message.format(sig=sig)


def test_merkle_index_beyond_the_tree_never_verifies(tmp_path: Path) -> None:
    text = write(tmp_path / "s.txt", lines(f"{A};{SUPPLY}"))
    sig = write(tmp_path / "s.sig", lines(*["9" * 2187] * 3, "9" * 486))
    root = snapshot_signature_root(text, sig, depth=6, index=64, mode=SpongeMode.CURLP81)
    assert root == NULL_HASH  # §4.5: an index of 2^depth or more gives NULL_HASH


# --- malformed global snapshot files --------------------------------------------------------

HALF = SUPPLY // 2
# Names the expected messages below use, so that each fits on a line.
NAMES = {
    "A": A,
    "B": B,
    "H2": H2,
    "N": NULL_HASH,
    "S": SUPPLY,
    "HALF": HALF,
    "A80": "A" * 80,
    "B80": B[:80],
    "N80": "9" * 80,
    "INT": 2**31 - 1,
    "LONG": 2**63 - 1,
}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            lines(f"{A};{SUPPLY}", f"{B[:80]};0"),
            "{path}:2: address '{B80}' is not 81 trytes (9, A-Z)",
        ),
        (
            lines(f"{A};{SUPPLY}", f"{B[:80]}a;0"),
            "{path}:2: address '{B80}a' is not 81 trytes (9, A-Z)",
        ),
        (
            lines(f"{A}{SUPPLY}"),
            "{path}:1: no ';' or ':' separator in '{A}{S}'; expected ADDRESS;BALANCE",
        ),
        (lines(f"{A};12a"), "{path}:1: balance '12a' is not a decimal integer"),
        (lines(f"{A};+{SUPPLY}"), "{path}:1: balance '+{S}' is not a decimal integer"),
        (lines(f"{A};1 "), "{path}:1: balance '1 ' is not a decimal integer"),
        (
            lines(f"{A};{HALF}", "", f"{B};{SUPPLY - HALF}"),
            "{path}:2: empty line (only empty lines at the end of the file are allowed)",
        ),
        (
            lines(f"{A};{HALF}", f"{B};1", f"{A};{SUPPLY - HALF - 1}"),
            "{path}:3: duplicate address {A} (first on line 1)",
        ),
        (
            lines(f"{A};{SUPPLY + 5}", f"{B};-5"),
            f"{{path}}:1: balance {SUPPLY + 5} of {{A}} exceeds the supply {{S}}",
        ),
        (lines(f"{A};{SUPPLY}", f"{B};-5", f"{C};5"), "{path}:2: negative balance -5 for {B}"),
        (lines(f"{A};{HALF}"), "{path}: balances sum to {HALF}, not the supply {S}"),
        (
            lines(f"{A};{SUPPLY}", f"{B};1"),
            f"{{path}}: balances sum to {SUPPLY + 1}, not the supply {{S}}",
        ),
        (b"", "{path}: balances sum to 0, not the supply {S}"),
    ],
)
def test_malformed_global_snapshot(tmp_path: Path, content: bytes, message: str) -> None:
    path = write(tmp_path / "snapshot.txt", content)
    with pytest.raises(SnapshotError) as error:
        read_global_snapshot(path, index=1, timestamp=2)
    assert str(error.value) == message.format(path=path, **NAMES)


def test_missing_global_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "absent.txt"
    with pytest.raises(SnapshotError) as error:
        read_global_snapshot(path, index=1, timestamp=2)
    assert str(error.value) == f"{path}: cannot read: No such file or directory"


def test_global_snapshot_leniencies(tmp_path: Path) -> None:
    # Separators mixed per line, CR LF endings, no final newline, zero balances, leading zeros,
    # and empty lines at the very end are all accepted.
    content = f"{A}:{HALF}\r\n{B};0\r\n{C};00{SUPPLY - HALF}\r\n\r\n\r\n".encode()
    path = write(tmp_path / "snapshot.txt", content)
    state = read_global_snapshot(path, index=7, timestamp=8)
    assert state.balances == {A: HALF, C: SUPPLY - HALF}
    unterminated = write(tmp_path / "u.txt", f"{A};{SUPPLY}".encode())
    assert read_global_snapshot(unterminated, index=7, timestamp=8).balances == {A: SUPPLY}


def test_zero_balance_still_counts_as_a_duplicate(tmp_path: Path) -> None:
    path = write(tmp_path / "snapshot.txt", lines(f"{A};0", f"{A};{SUPPLY}"))
    with pytest.raises(SnapshotError, match=r":2: duplicate address A{81} \(first on line 1\)$"):
        read_global_snapshot(path, index=1, timestamp=2)


# --- writing and round trips ----------------------------------------------------------------


def local_state() -> SnapshotState:
    return SnapshotState(
        balances={C: HALF, A: SUPPLY - HALF - 7, B: 7, H2: 0},
        index=1_050_100,
        hash=H1,
        timestamp=1_554_999_999,
        solid_entry_points={NULL_HASH: 1_050_100, H1: 1_050_100, B: 1_050_090},
        seen_milestones={H2: 1_050_102, C: 1_050_101},
    )


def test_write_global_snapshot_sorted_by_address(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.txt"
    write_global_snapshot(local_state(), path)
    assert path.read_bytes() == lines(f"{A};{SUPPLY - HALF - 7}", f"{B};7", f"{C};{HALF}")
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    assert [entry.name for entry in tmp_path.iterdir()] == ["snapshot.txt"]
    state = read_global_snapshot(path, index=5, timestamp=6)
    assert state == global_snapshot_state(local_state().balances, index=5, timestamp=6)


def test_local_snapshot_bytes_as_iri_writes_them(tmp_path: Path) -> None:
    base = tmp_path / "mainnet"
    write_local_snapshot(local_state(), base)
    meta, state_file = local_snapshot_paths(base)
    assert meta == tmp_path / "mainnet.snapshot.meta"
    # Entry points and seen milestones by index; equal indexes by hash (pyri's tie-break).
    assert meta.read_bytes() == lines(
        H1,
        "1050100",
        "1554999999",
        "3",
        "2",
        f"{B};1050090",
        f"{NULL_HASH};1050100",
        f"{H1};1050100",
        f"{C};1050101",
        f"{H2};1050102",
    )
    assert state_file.read_bytes() == lines(f"{A};{SUPPLY - HALF - 7}", f"{B};7", f"{C};{HALF}")
    assert read_local_snapshot(base) == local_state()
    assert sorted(entry.name for entry in tmp_path.iterdir()) == [
        "mainnet.snapshot.meta",
        "mainnet.snapshot.state",
    ]


def test_local_snapshot_rewrite_keeps_a_backup(tmp_path: Path) -> None:
    base = tmp_path / "testnet"
    first = local_state()
    write_local_snapshot(first, base)
    second = SnapshotState(
        balances={B: SUPPLY},
        index=first.index + 10,
        hash=H2,
        timestamp=first.timestamp + 600,
        solid_entry_points={NULL_HASH: first.index + 10},
        seen_milestones={},
    )
    write_local_snapshot(second, str(base))
    assert read_local_snapshot(base) == second
    assert (tmp_path / "testnet.snapshot.meta.bkp").read_bytes().startswith(lines(H1))
    assert (tmp_path / "testnet.snapshot.state.bkp").read_bytes() == lines(
        f"{A};{SUPPLY - HALF - 7}", f"{B};7", f"{C};{HALF}"
    )
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize(
    ("state", "problem"),
    [
        (
            SnapshotState({A: HALF}, 1, NULL_HASH, 2, {}, {}),
            "balances sum to {HALF}, not the supply {S}",
        ),
        (
            SnapshotState({A: SUPPLY + 1, B: -1}, 1, NULL_HASH, 2, {}, {}),
            "negative balance -1 for address {B}",
        ),
        (
            SnapshotState({"A" * 80: SUPPLY}, 1, NULL_HASH, 2, {}, {}),
            "address '{A80}' is not 81 trytes (9, A-Z)",
        ),
        (
            SnapshotState({A: SUPPLY}, 2**31, NULL_HASH, 2, {}, {}),
            "milestone index must be an integer from 0 to {INT}, got 2147483648",
        ),
        (SnapshotState({A: SUPPLY}, 1, "9", 2, {}, {}), "milestone hash '9' is not 81 trytes"),
        (
            SnapshotState({A: SUPPLY}, 1, NULL_HASH, -2, {}, {}),
            "timestamp must be an integer from 0 to {LONG}, got -2",
        ),
        (
            SnapshotState({A: SUPPLY}, 1, NULL_HASH, 2, {NULL_HASH: -1}, {}),
            "index of solid entry point {N} must be an integer from 0 to {INT}, got -1",
        ),
    ],
)
def test_writers_refuse_states_iri_would_not_load(
    tmp_path: Path, state: SnapshotState, problem: str
) -> None:
    base = tmp_path / "mainnet"
    with pytest.raises(SnapshotError) as error:
        write_local_snapshot(state, base)
    assert str(error.value) == f"cannot write the local snapshot {base}: {problem.format(**NAMES)}"
    with pytest.raises(SnapshotError) as error:
        write_global_snapshot(state, tmp_path / "s.txt")
    assert str(error.value) == f"cannot write {tmp_path / 's.txt'}: {problem.format(**NAMES)}"
    assert not list(tmp_path.iterdir())


def test_validate_snapshot_state_default_label() -> None:
    with pytest.raises(SnapshotError, match=r"^snapshot state: balances sum to 0, not the supply"):
        validate_snapshot_state(SnapshotState({}, 1, NULL_HASH, 2, {}, {}))


def test_state_is_read_only_and_drops_zeros() -> None:
    source = {A: SUPPLY, B: 0}
    state = SnapshotState(source, 1, NULL_HASH, 2, {NULL_HASH: 1}, {})
    source[C] = 5
    assert state.balances == {A: SUPPLY}
    assert state.total == SUPPLY
    with pytest.raises(TypeError):
        state.balances[B] = 1  # type: ignore[index]


@needs_data
@pytest.mark.parametrize(
    "source", [V13_TXT, TESTNET_TXT, REGRESSION_TXT], ids=lambda p: p.parent.name
)
def test_real_files_round_trip_through_both_formats(tmp_path: Path, source: Path) -> None:
    state = read_global_snapshot(source, index=10, timestamp=20)
    exported = tmp_path / "export.txt"
    write_global_snapshot(state, exported)
    assert read_global_snapshot(exported, index=10, timestamp=20) == state
    write_local_snapshot(state, tmp_path / "local")
    assert read_local_snapshot(tmp_path / "local") == state


# --- malformed local snapshot files ---------------------------------------------------------

META_HEAD = (H1, "100", "1554999999", "1", "0", f"{NULL_HASH};100")


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ((), "{meta}: ends after line 0; expected the milestone hash on line 1"),
        (
            META_HEAD[:3],
            "{meta}: ends after line 3; expected the number of solid entry points on line 4",
        ),
        (
            ("9" * 80, *META_HEAD[1:]),
            "{meta}:1: the milestone hash '{N80}' is not 81 trytes (9, A-Z)",
        ),
        (
            (H1, "-1", *META_HEAD[2:]),
            "{meta}:2: the milestone index '-1' is not a decimal integer >= 0",
        ),
        (
            (H1, "2147483648", *META_HEAD[2:]),
            "{meta}:2: the milestone index 2147483648 exceeds {INT}",
        ),
        (
            (H1, "100", "1.5e9", *META_HEAD[3:]),
            "{meta}:3: the timestamp '1.5e9' is not a decimal integer >= 0",
        ),
        (
            (*META_HEAD[:3], "2", "0", META_HEAD[5]),
            "{meta}: ends after line 6; expected the solid entry point on line 7",
        ),
        (
            (*META_HEAD[:3], "2", "0", META_HEAD[5], META_HEAD[5]),
            "{meta}:7: duplicate solid entry point {N}",
        ),
        (
            (*META_HEAD[:5], f"{NULL_HASH}:100"),
            "{meta}:6: the solid entry point '{N}:100' is not HASH;INDEX",
        ),
        (
            (*META_HEAD[:5], f"{NULL_HASH};2147483648"),
            "{meta}:6: the index 2147483648 exceeds {INT}",
        ),
        (
            (*META_HEAD[:4], "1", META_HEAD[5]),
            "{meta}: ends after line 6; expected the seen milestone on line 7",
        ),
        (
            (*META_HEAD, f"{H2};101"),
            "{meta}:7: unexpected line '{H2};101' after the entries the counts on lines 4 and 5 "
            "announce",
        ),
    ],
)
def test_malformed_local_meta(tmp_path: Path, meta: tuple[str, ...], message: str) -> None:
    base = tmp_path / "mainnet"
    meta_path, state_path = local_snapshot_paths(base)
    write(meta_path, lines(*meta))
    write(state_path, lines(f"{A};{SUPPLY}"))
    with pytest.raises(SnapshotError) as error:
        read_local_snapshot(base)
    assert str(error.value) == message.format(meta=meta_path, **NAMES)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (
            lines(f"{A}:{SUPPLY}"),
            "{state}:1: no ';' separator in '{A}:{S}'; expected ADDRESS;BALANCE",
        ),
        (
            lines(f"{A};{SUPPLY - 1}"),
            f"{{state}}: balances sum to {SUPPLY - 1}, not the supply {{S}}",
        ),
        (
            lines(f"{A};{SUPPLY + 1}", f"{B};-1"),
            f"{{state}}:1: balance {SUPPLY + 1} of {{A}} exceeds the supply {{S}}",
        ),
    ],
)
def test_malformed_local_state(tmp_path: Path, state: bytes, message: str) -> None:
    base = tmp_path / "mainnet"
    meta_path, state_path = local_snapshot_paths(base)
    write(meta_path, lines(*META_HEAD))
    write(state_path, state)
    with pytest.raises(SnapshotError) as error:
        read_local_snapshot(base)
    assert str(error.value) == message.format(state=state_path, **NAMES)


def test_local_snapshot_needs_both_files(tmp_path: Path) -> None:
    base = tmp_path / "mainnet"
    meta_path, state_path = local_snapshot_paths(base)
    write(meta_path, lines(*META_HEAD))
    with pytest.raises(SnapshotError) as error:
        read_local_snapshot(base)
    assert str(error.value) == (
        f"a local snapshot needs both {meta_path} and {state_path}; missing: {state_path}"
    )


def test_local_meta_tolerates_trailing_empty_lines(tmp_path: Path) -> None:
    base = tmp_path / "mainnet"
    meta_path, state_path = local_snapshot_paths(base)
    write(meta_path, lines(*META_HEAD, "", ""))
    write(state_path, lines(f"{A};{SUPPLY}"))
    state = read_local_snapshot(base)
    assert (state.hash, state.index, state.timestamp) == (H1, 100, 1_554_999_999)
    assert state.solid_entry_points == {NULL_HASH: 100}
    assert state.seen_milestones == {}


# --- random valid states --------------------------------------------------------------------

hashes = st.text(alphabet=ALPHABET, min_size=81, max_size=81)
java_ints = st.integers(0, 2**31 - 1)


@st.composite
def snapshot_states(draw: st.DrawFn) -> SnapshotState:
    # k - 1 distinct cut points in (0, SUPPLY) split the supply into k positive balances.
    cuts = draw(st.lists(st.integers(1, SUPPLY - 1), unique=True, max_size=12))
    bounds = [0, *sorted(cuts), SUPPLY]
    amounts = [high - low for low, high in itertools.pairwise(bounds)]
    addresses = draw(st.lists(hashes, min_size=len(amounts), max_size=len(amounts), unique=True))
    entry_points: Mapping[str, int] = draw(st.dictionaries(hashes, java_ints, max_size=5))
    seen: Mapping[str, int] = draw(st.dictionaries(hashes, java_ints, max_size=5))
    return SnapshotState(
        balances=dict(zip(addresses, amounts, strict=True)),
        index=draw(java_ints),
        hash=draw(hashes),
        timestamp=draw(st.integers(0, 2**63 - 1)),
        solid_entry_points=entry_points,
        seen_milestones=seen,
    )


@settings(max_examples=60)
@given(snapshot_states())
def test_random_states_round_trip(state: SnapshotState) -> None:
    with tempfile.TemporaryDirectory() as directory:
        base = Path(directory) / "mainnet"
        write_local_snapshot(state, base)
        assert read_local_snapshot(base) == state
        meta, state_file = local_snapshot_paths(base)
        written = (meta.read_bytes(), state_file.read_bytes())
        write_local_snapshot(read_local_snapshot(base), base)
        assert (meta.read_bytes(), state_file.read_bytes()) == written  # byte-stable
        exported = Path(directory) / "global.txt"
        write_global_snapshot(state, exported)
        again = read_global_snapshot(exported, index=state.index, timestamp=state.timestamp)
        assert again.balances == state.balances
        assert again == global_snapshot_state(
            state.balances, index=state.index, timestamp=state.timestamp
        )
