"""The coordinator a node trusts: its address, key tree and the network constants around it.

IRI 1.8.6 fixes every one of these values on mainnet (``BaseIotaConfig`` returns constants) and
reads them from flags only with ``--testnet true`` (``TestnetConfig``); reference §6.4 and §10.
``CoordinatorConfig.from_flags`` takes those flags' values, checks each one and fails loudly with
a ``ConfigError`` naming the flag, where IRI would accept nonsense (a security level of 4, 40
keys) and fail later, mid-validation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Final, NoReturn

from pyri.crypto.sponge import SpongeMode
from pyri.errors import PyriError
from pyri.trinary import HASH_TRYTES, is_trytes

MAINNET_COORDINATOR: Final = (
    "EQSAUZXULTTYZCLNJNTXQTQHOMOFZERHTCGTXOLTVAHKSA9OGAZDEKECURBRIXIJWNPFCQIOVFVVXJVD9"
)
TESTNET_COORDINATOR: Final = (
    "EQQFCZBIHRHWPXKMTOLMYUYPCN9XLMJPYZVFJSAY9FQHCCLWTOLLUGKKMXYFDBOOYFBLBI9WUEILGECYM"
)

# The siblings are read from the sibling transaction's trits [0, 243·D) (§6.2 step 9). Beyond 27
# they would run out of its signatureMessageFragment into its address, bundle and trunk, which
# no coordinator can choose; IRI would not refuse such a depth, it would just never validate.
MAX_DEPTH: Final = 27
# Timestamps are 27-trit fields (§2.1); a snapshot time beyond them would refuse every
# transaction at ingest (§3.2).
MAX_SNAPSHOT_TIME: Final = (3**27 - 1) // 2
MAX_MWM: Final = 243  # a hash has 243 trits; an all-zero hash weighs 243 (§2.3)


class ConfigError(PyriError, ValueError):
    """A coordinator or network setting is unusable: a value of the wrong type or outside its
    range, an unknown flag, or a flag that mainnet does not allow. ``flag`` names the IRI flag
    (``--milestone-keys``), ``value`` is what was given, and the message says what is wrong."""

    def __init__(self, flag: str, value: object, problem: str) -> None:
        super().__init__(f"{flag} {value!r}: {problem}")
        self.flag = flag
        self.value = value
        self.problem = problem

    def __reduce__(self) -> tuple[type[ConfigError], tuple[str, object, str]]:
        # Exceptions pickle as cls(*args), and args holds only the message.
        return (type(self), (self.flag, self.value, self.problem))


# Each field's IRI flag, so that every error names what the operator typed.
FLAGS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "address": "--testnet-coordinator",
        "security": "--testnet-coordinator-security-level",
        "signature_mode": "--testnet-coordinator-signature-mode",
        "depth": "--milestone-keys",
        "milestone_start_index": "--milestone-start",
        "snapshot_time": "--snapshot-timestamp",
        "mwm": "--mwm",
        "skip_validation": "--testnet-no-coo-validation",
    }
)
_FIELD_OF_FLAG: Final[Mapping[str, str]] = MappingProxyType({f: n for n, f in FLAGS.items()})
_ERROR_FLAGS: Final[Mapping[str, str]] = MappingProxyType({**FLAGS, "on_testnet": "--testnet"})


@dataclass(frozen=True, slots=True)
class CoordinatorConfig:
    """Who signs milestones and how (§6.2, §6.4). Build it with ``mainnet()``, ``testnet()`` or
    ``from_flags``; the constructor checks every value and raises ConfigError."""

    address: str
    """The coordinator address C: the root of its Merkle key tree, 81 trytes."""
    security: int
    """S, the WOTS security level of every key: the number of signature transactions, 1..3."""
    signature_mode: SpongeMode
    """The sponge of the key digests, leaf address and Merkle path (§4.7)."""
    depth: int
    """D, the number of keys in a milestone (Merkle depth); indexes run from 0 to 2^D - 1."""
    milestone_start_index: int
    """The index of the global snapshot; the first milestone applied is the next one."""
    snapshot_time: int
    """The global snapshot's time in seconds, the lower bound of transaction timestamps."""
    mwm: int
    """The configured minimum weight magnitude (ingest raises it to 13 off testnet, §3.3)."""
    on_testnet: bool = False
    """Whether the node runs with ``--testnet true``; only then are the other flags read."""
    skip_validation: bool = False
    """``--testnet-no-coo-validation``: accept a milestone whose signature does not reach C
    (§6.2 step 10). Testnet only; steps 1-5 still apply."""

    def __post_init__(self) -> None:
        _check_type("address", self.address, str)
        if not is_trytes(self.address, HASH_TRYTES):
            _fail("address", self.address, f"must be an address of {HASH_TRYTES} trytes (9, A-Z)")
        _check_type("signature_mode", self.signature_mode, SpongeMode)
        for name in ("security", "depth", "milestone_start_index", "snapshot_time", "mwm"):
            _check_type(name, getattr(self, name), int)
        _check_type("on_testnet", self.on_testnet, bool)
        _check_type("skip_validation", self.skip_validation, bool)
        # IRI reads 27·i normalized trytes for fragment i < S of 81: S > 3 runs off the end of
        # the normalized hash, S < 1 signs nothing (§4.4).
        _check_range("security", self.security, 1, 3)
        _check_range("depth", self.depth, 0, MAX_DEPTH)
        # The start index is itself a milestone index (the global snapshot's), so it must lie in
        # the key tree; beyond it no milestone could ever follow.
        if not 0 <= self.milestone_start_index < self.max_index:
            _fail(
                "milestone_start_index",
                self.milestone_start_index,
                f"must be between 0 and {self.max_index - 1} "
                f"(below 2^{self.depth}, the key count of --milestone-keys {self.depth})",
            )
        _check_range("snapshot_time", self.snapshot_time, 0, MAX_SNAPSHOT_TIME)
        _check_range("mwm", self.mwm, 0, MAX_MWM)
        if self.skip_validation and not self.on_testnet:
            # IRI skips the check only when isTestnet() && isDontValidateTestnetMilestoneSig().
            _fail("skip_validation", True, "is only allowed on a testnet (--testnet true)")

    @property
    def max_index(self) -> int:
        """2^D, IRI's MAX_MILESTONE_INDEX: valid milestone indexes are below it (§6.2 step 1)."""
        return 1 << self.depth

    @classmethod
    def mainnet(cls) -> CoordinatorConfig:
        """IRI 1.8.6 mainnet (``BaseIotaConfig.Defaults``): all fixed."""
        return cls(
            address=MAINNET_COORDINATOR,
            security=2,
            signature_mode=SpongeMode.KERL,
            depth=23,
            milestone_start_index=1_050_000,
            snapshot_time=1_554_904_800,
            mwm=14,
        )

    @classmethod
    def testnet(cls) -> CoordinatorConfig:
        """IRI 1.8.6 ``--testnet true`` with no other flag (``TestnetConfig.Defaults``)."""
        return cls(
            address=TESTNET_COORDINATOR,
            security=1,
            signature_mode=SpongeMode.CURLP27,
            depth=22,
            milestone_start_index=434_525,
            snapshot_time=1_522_306_500,
            mwm=9,
            on_testnet=True,
        )

    @classmethod
    def from_flags(cls, testnet: bool, **overrides: object) -> CoordinatorConfig:
        """The configuration IRI 1.8.6 runs with for ``--testnet <testnet>`` and these flags.

        Keys are IRI's flag names, with or without the leading dashes and with ``_`` for ``-``
        (``milestone_keys=7`` or ``**{"--milestone-keys": "7"}``); values are typed or the
        strings a command line gives (``"7"``, ``"true"``, ``"KERL"``). None means "not given".
        On mainnet every one of these flags is refused: IRI fixes the values there (§6.4) and
        silently ignores the testnet flags, which would hide a mistaken setting.
        """
        if not isinstance(testnet, bool):
            raise ConfigError("--testnet", testnet, "must be true or false")
        given: dict[str, Any] = {}
        for key, raw in overrides.items():
            flag = "--" + key.lstrip("-").replace("_", "-")
            name = _FIELD_OF_FLAG.get(flag)
            if name is None:
                raise ConfigError(
                    flag, raw, f"unknown flag; expected one of {', '.join(FLAGS.values())}"
                )
            if raw is None:
                continue
            if not testnet:
                raise ConfigError(
                    flag, raw, "is fixed on mainnet; it is only read with --testnet true"
                )
            if name in given:  # the same flag in two spellings: neither silently wins
                raise ConfigError(flag, raw, "is given twice")
            given[name] = _PARSERS[name](flag, raw)
        base = cls.testnet() if testnet else cls.mainnet()
        return replace(base, **given)


def _fail(name: str, value: object, problem: str) -> NoReturn:
    raise ConfigError(_ERROR_FLAGS[name], value, problem)


def _check_type(name: str, value: object, kind: type) -> None:
    # bool is an int in Python; a flag that wants a number must not take True.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        _fail(name, value, f"must be {kind.__name__}, not {type(value).__name__}")


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        _fail(name, value, f"must be between {low} and {high}")


_INTEGER: Final = re.compile(r"[+-]?[0-9]+")


def _parse_int(flag: str, value: object) -> int:
    # As Java's Integer.parseInt / Long.parseLong (JCommander's converters): digits with an
    # optional sign, nothing else; the range is checked by the dataclass.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    raise ConfigError(flag, value, "must be an integer")


def _parse_bool(flag: str, value: object) -> bool:
    # JCommander's BooleanConverter: "true" or "false", in any case, and nothing else.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(flag, value, "must be true or false")


def _parse_mode(flag: str, value: object) -> SpongeMode:
    if isinstance(value, SpongeMode):
        return value
    if isinstance(value, str):
        try:
            return SpongeMode.parse(value)
        except ValueError:
            pass
    allowed = ", ".join(mode.value for mode in SpongeMode)
    raise ConfigError(flag, value, f"must be one of {allowed}")


def _parse_address(flag: str, value: object) -> str:
    if isinstance(value, str) and is_trytes(value, HASH_TRYTES):
        return value
    raise ConfigError(flag, value, f"must be an address of {HASH_TRYTES} trytes (9, A-Z)")


_PARSERS: Final[Mapping[str, Callable[[str, object], object]]] = MappingProxyType(
    {
        "address": _parse_address,
        "security": _parse_int,
        "signature_mode": _parse_mode,
        "depth": _parse_int,
        "milestone_start_index": _parse_int,
        "snapshot_time": _parse_int,
        "mwm": _parse_int,
        "skip_validation": _parse_bool,
    }
)
