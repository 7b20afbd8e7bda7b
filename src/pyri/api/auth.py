"""Who may call the API at all: Bearer tokens and IRI's ``--remote-auth`` (HTTP Basic)
(design.md, difference 5; iri-api-reference §1.2).

Which commands a caller may use (``--remote-limit-api``) is a separate check made after the
body is parsed (§1.7); passing this one does not bypass it.
"""

from __future__ import annotations

import binascii
import hmac
from base64 import b64decode
from dataclasses import dataclass

from pyri.api.config import ApiConfig
from pyri.crypto.curl import curl_hash
from pyri.trinary import HASH_TRYTES, bytes_to_trytes, trits_to_trytes, trytes_to_trits

BASIC_REALM = 'Basic realm="Iota Realm"'
BEARER_CHALLENGE = "Bearer"


def iri_password_hash(password: str) -> str | None:
    """IRI's stored form of a ``--remote-auth`` password: each character (code <= 255) as two
    trytes, hashed with Curl-P-81, 81 trytes (§1.2). None for a character above 255, which
    IRI cannot hash either."""
    try:
        raw = password.encode("latin-1")
    except UnicodeEncodeError:
        return None
    return trits_to_trytes(curl_hash(trytes_to_trits(bytes_to_trytes(raw))))


def _equal(a: str, b: str) -> bool:
    # Constant time, so that response timing does not reveal how much of a secret matched.
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class Authenticator:
    tokens: frozenset[str]
    user: str
    password: str
    basic: bool

    @classmethod
    def from_config(cls, config: ApiConfig) -> Authenticator:
        return cls(
            tokens=config.api_tokens,
            user=config.basic_user,
            password=config.basic_password,
            basic=bool(config.remote_auth),
        )

    @property
    def required(self) -> bool:
        return self.basic or bool(self.tokens)

    @property
    def challenge(self) -> str:
        """The WWW-Authenticate value of a 401 for missing or wrong credentials."""
        schemes = [BASIC_REALM] if self.basic else []
        if self.tokens:
            schemes.append(BEARER_CHALLENGE)
        return ", ".join(schemes)

    def refusal(self, authorization: bytes | None, *, preflight: bool) -> str | None:
        """None if the request may proceed, else the 401 message saying why not.

        IRI's Basic auth wraps every request, CORS preflights included, and exempts no host
        (§1.2). A browser never sends credentials with a preflight, so when only Bearer tokens
        are configured, OPTIONS stays open; it reveals nothing.
        """
        if not self.required or (preflight and not self.basic):
            return None
        if authorization is None:
            return f"Authorization required: send an Authorization header ({self._schemes()})"
        scheme, _, credentials = authorization.decode("latin-1").strip().partition(" ")
        scheme = scheme.lower()
        credentials = credentials.strip()
        if scheme == "bearer" and self.tokens:
            if any(_equal(credentials, token) for token in self.tokens):
                return None
            return "Invalid bearer token"
        if scheme == "basic" and self.basic:
            return self._basic_refusal(credentials)
        return f"Unsupported authorization scheme {scheme!r}: use {self._schemes()}"

    def _schemes(self) -> str:
        return " or ".join(
            name for name, on in (("Bearer", bool(self.tokens)), ("Basic", self.basic)) if on
        )

    def _basic_refusal(self, credentials: str) -> str | None:
        try:
            decoded = b64decode(credentials.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            return "Malformed Basic credentials: not base64"
        try:
            text = decoded.decode("utf-8")
        except UnicodeDecodeError:
            text = decoded.decode("latin-1")
        user, colon, password = text.partition(":")
        if not colon:
            return "Malformed Basic credentials: no ':' between user and password"
        user_ok = _equal(user, self.user)
        # The operator may configure the password itself or IRI's hash of it (§1.2).
        password_ok = _equal(password, self.password)
        if not password_ok and len(self.password) == HASH_TRYTES:
            hashed = iri_password_hash(password)
            password_ok = hashed is not None and _equal(hashed, self.password)
        if user_ok and password_ok:
            return None
        return "Invalid user name or password"
