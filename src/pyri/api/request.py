"""From request body to parameter map: strict JSON (design.md, difference 6) with IRI's messages
for the cases IRI names (iri-api-reference §2.1-2.2, §2.7).

Where IRI's lenient Gson accepted non-standard JSON (single quotes, unquoted words, comments,
``=`` for ``:``), pyri refuses it as ``Invalid JSON syntax: ...``; the text after the prefix is
the parser's own, without Java class names.
"""

from __future__ import annotations

import json
from typing import Final

import orjson

from pyri.api.errors import BadRequest
from pyri.api.params import json_type

# JSON's whitespace (RFC 8259 §2).
_WHITESPACE: Final = b" \t\r\n"
# Echoed input is cut here, so that an error never repeats a megabyte back to the client.
_ECHO_LIMIT: Final = 100


def _echo(text: str) -> str:
    return text if len(text) <= _ECHO_LIMIT else text[:_ECHO_LIMIT] + "..."


def body_length(body: bytes) -> int:
    """The body's length as IRI counts it for ``--max-body-length``: UTF-16 code units of the
    body decoded as UTF-8, bad sequences replaced by U+FFFD (§1.3). Never more than the number
    of bytes, so a body no longer than the limit in bytes needs no decoding."""
    return len(body.decode("utf-8", "replace").encode("utf-16-le")) // 2


def parse_request(body: bytes) -> dict[str, object]:
    """The request's top-level JSON object, or BadRequest saying what is wrong with the body."""
    try:
        value = orjson.loads(body)
        text: str | None = None
    except orjson.JSONDecodeError as error:
        text = _decoded(body, error)
        value = _loads(text)
    if type(value) is dict:
        if _may_repeat_a_key(body, value):
            repeated = _repeated_key(body.decode("utf-8") if text is None else text)
            if repeated is not None:
                raise BadRequest(f"Invalid JSON syntax: duplicate key: {_echo(repeated)}")
        return value
    if value is None:
        # IRI: a body that parses to nothing (the literal null) is not a payload (§2.1 step 2).
        shown = body.decode("utf-8") if text is None else text
        raise BadRequest(f"Invalid request payload: '{_echo(shown)}'")
    raise BadRequest(f"Invalid JSON syntax: the body must be a JSON object, got {json_type(value)}")


def _decoded(body: bytes, error: orjson.JSONDecodeError) -> str:
    """The body as text for a second attempt, or BadRequest if there is nothing to retry."""
    if not body.strip(_WHITESPACE):
        raise BadRequest(f"Invalid request payload: '{_echo(body.decode('utf-8', 'replace'))}'")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        # IRI decodes the body replacing invalid UTF-8 with U+FFFD before parsing (§1.1), so
        # stray bytes inside a string do not make the request unparsable.
        return body.decode("utf-8", "replace")
    raise BadRequest(f"Invalid JSON syntax: {error}")


def _loads(text: str) -> object:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"Invalid JSON syntax: {error}") from None


def _may_repeat_a_key(body: bytes, value: dict[str, object]) -> bool:
    """A cheap screen for repeated top-level keys: false only when there are certainly none.

    orjson keeps the last of two equal keys, but IRI refuses them (§2.2), and a proxy that reads
    the first ``command`` while the node obeys the last one is a hazard. Without backslashes a
    key can only be written one way, so a key quoted once in the whole body is not repeated.
    """
    if b"\\" in body:
        return True
    count = body.count
    return any(count(b'"%s"' % key.encode()) > 1 for key in value)


def _repeated_key(text: str) -> str | None:
    """The first top-level key written twice, by a full parse that keeps every pair."""
    try:
        pairs = json.loads(text, object_pairs_hook=list)
    except RecursionError:
        # orjson accepts a little more nesting than the standard library's parser; nesting that
        # deep is refused rather than left unchecked.
        raise BadRequest("Invalid JSON syntax: nested too deeply") from None
    except ValueError:
        return None  # orjson, the stricter parser, already accepted the body
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return str(key)
        seen.add(key)
    return None
