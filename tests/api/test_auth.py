"""Bearer tokens and IRI's --remote-auth (design.md difference 5, iri-api-reference §1.2)."""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Callable

import pytest

from pyri.api.app import ASGIApp
from pyri.api.auth import iri_password_hash
from tests.api.client import REMOTE, VERSION_HEADER, Response, request
from tests.api.conftest import RICH, error

MakeApp = Callable[..., ASGIApp]
NODE_INFO = b'{"command":"getNodeInfo"}'


def send(app: ASGIApp, authorization: str | None, **kwargs: object) -> Response:
    headers = [VERSION_HEADER]
    if authorization is not None:
        headers.append(("Authorization", authorization))
    return request(app, kwargs.pop("body", NODE_INFO), headers=headers, **kwargs)  # type: ignore[arg-type]


def basic(user: str, password: str) -> str:
    return "Basic " + b64encode(f"{user}:{password}".encode()).decode()


# --- Bearer -------------------------------------------------------------------------------------


@pytest.fixture
def bearer_app(make_app: MakeApp) -> ASGIApp:
    return make_app(api_tokens=frozenset({"s3cret", "other-token"}))


def test_no_auth_configured_ignores_the_header(app: ASGIApp) -> None:
    assert send(app, "Bearer whatever").status == 200
    assert send(app, None).status == 200


@pytest.mark.parametrize("header", ["Bearer s3cret", "bearer other-token", "BEARER  s3cret "])
def test_valid_bearer_token(bearer_app: ASGIApp, header: str) -> None:
    assert send(bearer_app, header).status == 200


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Authorization required: send an Authorization header (Bearer)"),
        ("Bearer wrong", "Invalid bearer token"),
        ("Bearer ", "Invalid bearer token"),
        ("Bearer s3cret2", "Invalid bearer token"),
        (basic("u", "s3cret"), "Unsupported authorization scheme 'basic': use Bearer"),
        ("s3cret", "Unsupported authorization scheme 's3cret': use Bearer"),
    ],
)
def test_refused_bearer(bearer_app: ASGIApp, header: str | None, message: str) -> None:
    response = send(bearer_app, header)
    assert error(response, 401) == message
    assert response.header("www-authenticate") == "Bearer"


def test_auth_comes_before_every_other_check(bearer_app: ASGIApp) -> None:
    response = request(bearer_app, b"{", headers=())
    assert error(response, 401).startswith("Authorization required")


def test_bearer_only_leaves_preflight_open(bearer_app: ASGIApp) -> None:
    response = request(bearer_app, method="OPTIONS", headers=())
    assert response.status == 200 and response.body == b""


def test_auth_does_not_bypass_the_remote_limit(make_app: MakeApp) -> None:
    app = make_app(api_tokens=frozenset({"s3cret"}), remote_limit_api=frozenset({"getBalances"}))
    body = {"command": "getBalances", "addresses": [RICH]}
    response = send(app, "Bearer s3cret", body=body, client=REMOTE)
    assert error(response, 401) == "COMMAND getBalances is not available on this node"


# --- Basic (--remote-auth) ----------------------------------------------------------------------


@pytest.fixture
def basic_app(make_app: MakeApp) -> ASGIApp:
    return make_app(remote_auth="iota:pa:ss")


def test_valid_basic_credentials(basic_app: ASGIApp) -> None:
    # pyri splits the configured value at the first ':' only, so the password is "pa:ss".
    assert send(basic_app, basic("iota", "pa:ss")).status == 200


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Authorization required: send an Authorization header (Basic)"),
        (basic("iota", "pa"), "Invalid user name or password"),
        (basic("other", "pa:ss"), "Invalid user name or password"),
        (basic("iota", "ß" * 3), "Invalid user name or password"),
        (basic("iota", "€"), "Invalid user name or password"),
        ("Basic !!!", "Malformed Basic credentials: not base64"),
        ("Basic é", "Malformed Basic credentials: not base64"),
        (
            "Basic " + b64encode(b"nocolon").decode(),
            "Malformed Basic credentials: no ':' between user and password",
        ),
        ("Bearer pa:ss", "Unsupported authorization scheme 'bearer': use Basic"),
    ],
)
def test_refused_basic(basic_app: ASGIApp, header: str | None, message: str) -> None:
    response = send(basic_app, header)
    assert error(response, 401) == message
    assert response.header("www-authenticate") == 'Basic realm="Iota Realm"'


def test_basic_applies_to_localhost_and_preflight(basic_app: ASGIApp) -> None:
    # No host bypasses remote auth, and it wraps OPTIONS too (§1.2, §1.4).
    response = request(basic_app, method="OPTIONS", headers=())
    assert error(response, 401).startswith("Authorization required")
    preflight = request(
        basic_app, method="OPTIONS", headers=[("Authorization", basic("iota", "pa:ss"))]
    )
    assert preflight.status == 200 and preflight.body == b""


def test_configured_password_may_be_iris_hash(make_app: MakeApp) -> None:
    hashed = iri_password_hash("secret")
    assert hashed is not None and len(hashed) == 81
    app = make_app(remote_auth=f"iota:{hashed}")
    assert send(app, basic("iota", "secret")).status == 200
    assert send(app, basic("iota", hashed)).status == 200  # the stored value itself, as in IRI
    assert send(app, basic("iota", "Secret")).status == 401
    # A character above 255 cannot be hashed; IRI failed with an internal error here.
    assert error(send(app, basic("iota", "€")), 401) == "Invalid user name or password"


def test_iri_password_hash() -> None:
    assert iri_password_hash("€") is None
    assert iri_password_hash("abc") != iri_password_hash("abd")
    assert iri_password_hash("") == iri_password_hash("")


def test_either_credential_when_both_are_configured(make_app: MakeApp) -> None:
    app = make_app(remote_auth="iota:pw", api_tokens=frozenset({"tok"}))
    assert send(app, "Bearer tok").status == 200
    assert send(app, basic("iota", "pw")).status == 200
    response = send(app, None)
    assert error(response, 401) == (
        "Authorization required: send an Authorization header (Bearer or Basic)"
    )
    assert response.header("www-authenticate") == 'Basic realm="Iota Realm", Bearer'
