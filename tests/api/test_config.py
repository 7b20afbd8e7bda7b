"""ApiConfig: IRI's defaults (iri-api-reference §5.1) and refusal of bad values at startup."""

from __future__ import annotations

import pytest

from pyri.api.config import DEFAULT_REMOTE_LIMIT_API, ApiConfig, normalise_peer


def test_defaults() -> None:
    config = ApiConfig()
    assert config.max_body_length == 1_000_000
    assert config.max_requests_list == 1000
    assert config.max_find_transactions == 100_000
    assert config.max_get_trytes == 10_000
    assert (
        config.remote_limit_api
        == DEFAULT_REMOTE_LIMIT_API
        == {
            "addNeighbors",
            "getNeighbors",
            "removeNeighbors",
            "attachToTangle",
            "interruptAttachingToTangle",
        }
    )
    assert config.remote_trusted_api_hosts == {"127.0.0.1", "::1"}
    assert config.remote_auth == "" and config.api_tokens == frozenset()


def test_trusted_hosts_are_normalised_and_keep_loopback() -> None:
    config = ApiConfig(remote_trusted_api_hosts=frozenset({"0:0:0:0:0:0:0:1", "::ffff:10.0.0.1"}))
    assert config.remote_trusted_api_hosts == {"::1", "10.0.0.1", "127.0.0.1"}


def test_remote_auth_is_split_at_the_first_colon() -> None:
    config = ApiConfig(remote_auth="user:pa:ss")
    assert (config.basic_user, config.basic_password) == ("user", "pa:ss")


@pytest.mark.parametrize(
    "settings",
    [
        {"remote_auth": "nocolon"},
        {"remote_trusted_api_hosts": frozenset({"localhost"})},
        {"api_tokens": frozenset({""})},
        {"api_tokens": frozenset({"two words"})},
        {"max_body_length": 0},
        {"max_requests_list": -1},
        {"max_get_trytes": True},
        {"max_find_transactions": 1.5},
    ],
)
def test_bad_values_fail_loudly(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ApiConfig(**settings)  # type: ignore[arg-type]


def test_normalise_peer() -> None:
    assert normalise_peer("::ffff:127.0.0.1") == "127.0.0.1"
    assert normalise_peer("0::1") == "::1"
    assert normalise_peer("unix-socket") is None
