"""Canonical JSON (RFC 8785, JCS) and the content identifiers derived from it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785

from hotline.domain.errors import InvalidInput


def canonical(value: Any) -> bytes:
    """Encode ``value`` as RFC 8785 canonical JSON bytes.

    A plain value (see :func:`_plain`) is written by Python's own encoder, which writes
    it exactly as RFC 8785 does, several times faster; anything else by the RFC 8785
    encoder. Raises InvalidInput when the value has no canonical form (a NaN, an integer
    beyond the I-JSON range, a non-string key, an unsupported type).
    """
    if _plain(value):
        text = _fast(value)
        if _plain_text(text):
            try:
                return text.encode("utf-8")
            except UnicodeEncodeError:
                pass  # a lone surrogate: the RFC 8785 encoder says what it makes of it
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InvalidInput("json", f"value has no canonical JSON form: {exc}") from exc


def digest(data: bytes) -> str:
    """SHA-256 of ``data`` as 64 lowercase hex characters."""
    return hashlib.sha256(data).hexdigest()


def content_id(value: Any) -> str:
    """The identifier of a JSON value: SHA-256 of its canonical bytes, in hex."""
    return digest(canonical(value))


#: The largest integer RFC 8785 writes as itself (I-JSON: exact in a double).
_EXACT_INT = 2**53 - 1


#: Python's encoder set to write as RFC 8785 does (for a plain value); built once, as
#: ``json.dumps`` with these options builds one on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _fast(value: Any) -> str:
    return _ENCODER.encode(value)


def _plain_text(text: str) -> bool:
    """No character beyond the Basic Multilingual Plane: sorted by code point, such keys
    sort as RFC 8785 sorts them (by UTF-16 unit)."""
    return text.isascii() or max(text, default="") < "\U00010000"


def _plain(value: Any) -> bool:
    """Whether Python's encoder writes ``value`` as RFC 8785 does, its strings aside: it
    holds only strings, integers in the I-JSON range, booleans, null, lists and
    string-keyed objects; no float (the two write numbers differently). The strings are
    checked on the encoded text (:func:`_plain_text`), in one pass.

    A walk with a stack of its own, comparing exact types first: it runs on every event
    signed, and one call per value cost more than the encoding."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is int:
            if not -_EXACT_INT <= item <= _EXACT_INT:
                return False
        elif kind is dict or isinstance(item, dict):
            for key in item:
                if type(key) is not str:
                    return False
            pending.extend(item.values())
        elif kind is list or kind is tuple:
            pending.extend(item)
        elif not isinstance(item, str):
            return False
    return True


def parse_checked(raw: bytes) -> tuple[Any, bool]:
    """``raw`` parsed as JSON, and whether :func:`is_canonical` may take its fast way:
    no number in it is a float and every integer is in the I-JSON range. Raises
    ValueError (or UnicodeDecodeError) when ``raw`` is not JSON."""
    plain = True

    def on_float(text: str) -> float:
        nonlocal plain
        plain = False
        return float(text)

    def on_int(text: str) -> int:
        nonlocal plain
        value = int(text)
        if abs(value) > _EXACT_INT:
            plain = False
        return value

    return json.loads(raw, parse_float=on_float, parse_int=on_int), plain


def is_canonical(raw: bytes, value: Any, plain: bool) -> bool:
    """Whether ``raw`` is the RFC 8785 form of ``value`` (parsed from it by
    :func:`parse_checked`, which says whether it is ``plain``).

    For a plain value without characters beyond the Basic Multilingual Plane, Python's
    own encoder (keys sorted, no spaces, no ASCII escaping) writes exactly what RFC 8785
    does: strings are escaped alike (the two-letter escapes, other control characters as
    lowercase ``\\u00xx``) and keys sorted by code point sort as by UTF-16 unit. That
    takes a few microseconds where the RFC 8785 encoder takes tens; anything else (a
    float, a large integer, a character beyond the BMP, a lone surrogate) goes to it.
    Raises InvalidInput when the value has no canonical form."""
    if plain and _plain_text(raw.decode("utf-8")):
        try:
            return _fast(value).encode("utf-8") == raw
        except UnicodeEncodeError:
            pass  # a lone surrogate: RFC 8785's encoder says what it makes of it
    return canonical(value) == raw
