"""pyri.consensus.coordinator: IRI 1.8.6's coordinator settings (reference §6.4, §10) and the
checks on every flag value."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pytest

from pyri.consensus.coordinator import (
    FLAGS,
    MAINNET_COORDINATOR,
    TESTNET_COORDINATOR,
    ConfigError,
    CoordinatorConfig,
)
from pyri.crypto.sponge import SpongeMode
from pyri.errors import PyriError
from tests.vectors import cases, load_vectors

OTHER_COORDINATOR = (
    "ECFTA9SVHYH9MRRKJHQCBXNQKDBNGCWWDUAVILCOF9LMJNDPZLLTRYPKNHPVLXJYGGAXGOBYHZHGLNXKE"
)


def test_mainnet_is_iri_1_8_6() -> None:
    config = CoordinatorConfig.mainnet()
    assert config.address == (
        "EQSAUZXULTTYZCLNJNTXQTQHOMOFZERHTCGTXOLTVAHKSA9OGAZDEKECURBRIXIJWNPFCQIOVFVVXJVD9"
    )
    assert config.address == MAINNET_COORDINATOR
    assert config.security == 2
    assert config.signature_mode is SpongeMode.KERL
    assert config.depth == 23
    assert config.max_index == 8_388_608
    assert config.milestone_start_index == 1_050_000
    assert config.snapshot_time == 1_554_904_800
    assert config.mwm == 14
    assert not config.on_testnet
    assert not config.skip_validation


def test_testnet_defaults_are_iri_1_8_6() -> None:
    config = CoordinatorConfig.testnet()
    assert config.address == (
        "EQQFCZBIHRHWPXKMTOLMYUYPCN9XLMJPYZVFJSAY9FQHCCLWTOLLUGKKMXYFDBOOYFBLBI9WUEILGECYM"
    )
    assert config.address == TESTNET_COORDINATOR
    assert config.security == 1
    assert config.signature_mode is SpongeMode.CURLP27
    assert config.depth == 22
    assert config.max_index == 4_194_304
    assert config.milestone_start_index == 434_525
    assert config.snapshot_time == 1_522_306_500
    assert config.mwm == 9
    assert config.on_testnet
    assert not config.skip_validation


def test_defaults_agree_with_the_vectors_iri_sources() -> None:
    by_network = {
        p["network"]: p for p in load_vectors("milestones")["network_parameters_from_iri_source"]
    }
    for config, network in (
        (CoordinatorConfig.mainnet(), "mainnet (IRI 1.7+)"),
        (CoordinatorConfig.testnet(), "IRI testnet defaults (1.8.6)"),
    ):
        expected = by_network[network]
        assert config.address == expected["coordinator"]
        assert config.signature_mode is SpongeMode.parse(expected["signature_mode"])
        assert config.security == expected["security"]
        assert config.depth == expected["merkle_depth"]
        assert config.milestone_start_index == expected["milestone_start_index"]
        assert config.mwm == expected.get("mwm", config.mwm)


def test_no_flags_give_the_defaults() -> None:
    assert CoordinatorConfig.from_flags(False) == CoordinatorConfig.mainnet()
    assert CoordinatorConfig.from_flags(True) == CoordinatorConfig.testnet()
    # None is "not given", which a command-line parser hands over for every absent flag.
    assert CoordinatorConfig.from_flags(False, milestone_keys=None) == CoordinatorConfig.mainnet()


def test_every_testnet_flag_sets_its_value() -> None:
    config = CoordinatorConfig.from_flags(
        True,
        **{
            "--testnet-coordinator": OTHER_COORDINATOR,
            "--testnet-coordinator-security-level": "3",
            "--testnet-coordinator-signature-mode": "kerl",
            "--milestone-keys": "18",
            "--milestone-start": "2",
            "--snapshot-timestamp": "1600000000",
            "--mwm": "4",
            "--testnet-no-coo-validation": "TRUE",
        },
    )
    assert config == CoordinatorConfig(
        address=OTHER_COORDINATOR,
        security=3,
        signature_mode=SpongeMode.KERL,
        depth=18,
        milestone_start_index=2,
        snapshot_time=1_600_000_000,
        mwm=4,
        on_testnet=True,
        skip_validation=True,
    )
    assert config.max_index == 2**18


def test_flag_names_in_every_spelling() -> None:
    expected = dataclasses.replace(CoordinatorConfig.testnet(), depth=7, milestone_start_index=2)
    for keys, start in (
        ("milestone_keys", "milestone_start"),
        ("--milestone-keys", "milestone-start"),
    ):
        assert CoordinatorConfig.from_flags(True, **{keys: 7, start: 2}) == expected


@pytest.mark.parametrize("case", cases("milestones", "milestone"))
def test_the_vectors_settings(case: dict[str, Any]) -> None:
    settings = case["iri_settings"]
    flags = {k: v for k, v in settings.items() if k.startswith("--")}
    config = CoordinatorConfig.from_flags(
        True,
        **flags,
        testnet_coordinator_signature_mode=settings["coordinator signature mode"],
        testnet_coordinator_security_level=settings["coordinator security level"],
    )
    assert config.address == case["coordinator_address"]
    assert config.depth == case["merkle_depth"] == 7
    assert config.max_index == 128
    assert config.mwm == 4
    assert config.milestone_start_index == 2


BAD_VALUES = [
    ("--testnet-coordinator", "EQQFCZBI"),
    ("--testnet-coordinator", TESTNET_COORDINATOR.lower()),
    ("--testnet-coordinator", TESTNET_COORDINATOR + "A"),
    ("--testnet-coordinator", TESTNET_COORDINATOR[:80] + "!"),
    ("--testnet-coordinator", 42),
    ("--testnet-coordinator-security-level", 0),
    ("--testnet-coordinator-security-level", 4),
    ("--testnet-coordinator-security-level", "two"),
    ("--testnet-coordinator-security-level", "2.0"),
    ("--testnet-coordinator-security-level", True),
    ("--testnet-coordinator-signature-mode", "CURLP"),
    ("--testnet-coordinator-signature-mode", "SHA3"),
    ("--testnet-coordinator-signature-mode", 27),
    ("--milestone-keys", -1),
    ("--milestone-keys", 28),
    ("--milestone-keys", "7 "),
    ("--milestone-keys", 7.0),
    ("--milestone-start", -1),
    ("--milestone-start", 2**22),
    ("--milestone-start", "1e3"),
    ("--snapshot-timestamp", -1),
    ("--snapshot-timestamp", 3**27),
    ("--snapshot-timestamp", "yesterday"),
    ("--mwm", -1),
    ("--mwm", 244),
    ("--mwm", ""),
    ("--testnet-no-coo-validation", "yes"),
    ("--testnet-no-coo-validation", 1),
    ("--testnet-no-coo-validation", "1"),
]


@pytest.mark.parametrize(("flag", "value"), BAD_VALUES)
def test_bad_values_name_the_flag_and_the_value(flag: str, value: object) -> None:
    with pytest.raises(ConfigError) as raised:
        CoordinatorConfig.from_flags(True, **{flag: value})
    assert raised.value.flag == flag
    assert raised.value.value == value
    assert str(raised.value).startswith(f"{flag} {value!r}: ")


def test_start_index_must_lie_in_the_key_tree() -> None:
    # The testnet start index 434525 does not fit 7 keys; IRI would run and never sync.
    with pytest.raises(ConfigError, match=r"--milestone-start 434525: .* --milestone-keys 7"):
        CoordinatorConfig.from_flags(True, milestone_keys=7)
    config = CoordinatorConfig.from_flags(True, milestone_keys=7, milestone_start=127)
    assert config.milestone_start_index == config.max_index - 1


@pytest.mark.parametrize("flag", sorted(FLAGS.values()))
def test_mainnet_refuses_every_coordinator_flag(flag: str) -> None:
    # IRI 1.8.6 reads these only with --testnet true (TestnetConfig); on mainnet it fixes the
    # values (§6.4) and ignores the flags, so a given flag can only be a mistake.
    value = {
        "--testnet-coordinator": MAINNET_COORDINATOR,
        "--testnet-coordinator-signature-mode": "KERL",
        "--testnet-no-coo-validation": True,
    }.get(flag, 2)
    with pytest.raises(ConfigError, match="fixed on mainnet") as raised:
        CoordinatorConfig.from_flags(False, **{flag: value})
    assert raised.value.flag == flag


def test_unknown_flags_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown flag") as raised:
        CoordinatorConfig.from_flags(True, coordinator=OTHER_COORDINATOR)
    assert raised.value.flag == "--coordinator"
    with pytest.raises(ConfigError, match="--mwm 5: is given twice"):
        CoordinatorConfig.from_flags(True, mwm=4, **{"--mwm": 5})
    with pytest.raises(ConfigError, match="--testnet 'true'"):
        CoordinatorConfig.from_flags("true")  # type: ignore[arg-type]


def test_skipping_validation_needs_a_testnet() -> None:
    with pytest.raises(ConfigError, match=r"--testnet-no-coo-validation True: .*testnet"):
        dataclasses.replace(CoordinatorConfig.mainnet(), skip_validation=True)
    testnet = CoordinatorConfig.from_flags(True, testnet_no_coo_validation="false")
    assert not testnet.skip_validation


def test_the_constructor_checks_types_and_ranges() -> None:
    mainnet = CoordinatorConfig.mainnet()
    with pytest.raises(ConfigError, match="--testnet-coordinator-signature-mode 'KERL'"):
        dataclasses.replace(mainnet, signature_mode="KERL")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="--testnet-coordinator-security-level True"):
        dataclasses.replace(mainnet, security=True)
    with pytest.raises(ConfigError, match="--testnet 1: must be bool"):
        dataclasses.replace(mainnet, on_testnet=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="--milestone-keys 28"):
        dataclasses.replace(mainnet, depth=28)
    # Depth 0 is one key: the coordinator address is that key's address, index 0 only.
    single = dataclasses.replace(mainnet, depth=0, milestone_start_index=0)
    assert single.max_index == 1


def test_config_is_immutable() -> None:
    config = CoordinatorConfig.mainnet()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.depth = 3  # type: ignore[misc]


def test_config_error_is_a_pyri_error_and_pickles() -> None:
    with pytest.raises(ConfigError) as raised:
        CoordinatorConfig.from_flags(True, mwm=-5)
    error = raised.value
    assert isinstance(error, PyriError)
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.flag, copy.value, copy.problem, str(copy)) == (
        error.flag,
        error.value,
        error.problem,
        str(error),
    )
