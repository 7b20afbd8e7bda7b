"""Settings of the HTTP API, with IRI 1.8's defaults (iri-api-reference §5.1).

Parsing flags and ini files is the node's job; this object only holds the values and refuses
bad ones at construction, so that a misconfigured node fails at startup and not on a request.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

# IRI's default --remote-limit-api (§1.7, unchanged in 1.8.6).
DEFAULT_REMOTE_LIMIT_API: Final = frozenset(
    {
        "addNeighbors",
        "getNeighbors",
        "removeNeighbors",
        "attachToTangle",
        "interruptAttachingToTangle",
    }
)
# IRI trusts only the JVM's loopback address, 127.0.0.1 (§1.7); pyri also trusts ::1, so that a
# local client reaching the node over IPv6 is not refused (design.md, difference 5).
DEFAULT_TRUSTED_HOSTS: Final = frozenset({"127.0.0.1", "::1"})
MAINNET_MILESTONE_START_INDEX: Final = 1050000


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """Everything the API layer needs to know about the node's configuration.

    ``remote_auth`` is IRI's ``--remote-auth user:password`` ("" = off); ``api_tokens`` are the
    accepted ``Authorization: Bearer`` tokens (empty = off). When both are set, either kind of
    credential is accepted. ``remote_trusted_api_hosts`` must be IP addresses (the node resolves
    host names at startup, as IRI does); they are stored in normalised form, loopback (127.0.0.1
    and ::1) is always added, as IRI always adds its loopback address, and IPv4-mapped IPv6 peers
    (``::ffff:127.0.0.1``) match their IPv4 address. ``openapi_path`` is the OpenAPI
    document served at ``GET /openapi.json``; None serves nothing there (the path is then an
    ordinary API path, as every path is in IRI). ``testnet`` and ``milestone_start_index`` are only
    reported by getNodeAPIConfiguration.
    """

    max_body_length: int = 1_000_000
    max_requests_list: int = 1000
    max_find_transactions: int = 100_000
    max_get_trytes: int = 10_000
    remote_limit_api: frozenset[str] = DEFAULT_REMOTE_LIMIT_API
    remote_trusted_api_hosts: frozenset[str] = DEFAULT_TRUSTED_HOSTS
    remote_auth: str = ""
    api_tokens: frozenset[str] = frozenset()
    openapi_path: Path | None = None
    testnet: bool = False
    milestone_start_index: int = MAINNET_MILESTONE_START_INDEX
    # Derived in __post_init__ from remote_auth.
    basic_user: str = field(init=False, repr=False, default="")
    basic_password: str = field(init=False, repr=False, default="")

    def __post_init__(self) -> None:
        for name in (
            "max_body_length",
            "max_requests_list",
            "max_find_transactions",
            "max_get_trytes",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ApiConfig.{name} must be a positive integer, got {value!r}")
        if self.remote_auth:
            # IRI cuts the value at a second ':' (§1.2); pyri splits at the first only, so a
            # password may contain ':' as RFC 7617 allows. A value without ':' is refused, as
            # IRI refuses to start with one.
            user, colon, password = self.remote_auth.partition(":")
            if not colon:
                raise ValueError("remote_auth must be 'user:password'")
            object.__setattr__(self, "basic_user", user)
            object.__setattr__(self, "basic_password", password)
        for token in self.api_tokens:
            if not token or any(c.isspace() for c in token):
                raise ValueError(f"API token {token!r} is empty or holds whitespace")
        # IRI always appends the loopback address to the configured hosts (§1.7, §5.1).
        object.__setattr__(
            self,
            "remote_trusted_api_hosts",
            frozenset(_normalise_ip(host) for host in self.remote_trusted_api_hosts)
            | DEFAULT_TRUSTED_HOSTS,
        )
        object.__setattr__(self, "remote_limit_api", frozenset(self.remote_limit_api))
        object.__setattr__(self, "api_tokens", frozenset(self.api_tokens))


def _normalise_ip(host: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"trusted API host {host!r} is not an IP address") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def normalise_peer(host: str) -> str | None:
    """The form of a peer IP that ``remote_trusted_api_hosts`` holds, or None if ``host`` is not
    an IP address (a Unix socket peer, say, which is never trusted)."""
    try:
        return _normalise_ip(host)
    except ValueError:
        return None
