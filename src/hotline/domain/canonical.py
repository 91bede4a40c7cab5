"""Canonical JSON (RFC 8785, JCS) and the content identifiers derived from it."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

from hotline.domain.errors import InvalidInput


def canonical(value: Any) -> bytes:
    """Encode ``value`` as RFC 8785 canonical JSON bytes.

    Raises InvalidInput when the value has no canonical form (a NaN, an integer beyond
    the I-JSON range, a non-string key, an unsupported type).
    """
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
