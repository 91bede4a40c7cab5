"""Peer bundles: what a party hands another so that their nodes can talk.

A bundle is a signed JSON object: the party, its node's public key, the URLs its node
answers on (primary first, then backups), and its principals' public keys. The receiver
checks the signature against the key inside, and a person compares the key's fingerprint
with the one the other side reads out over an independent channel before it is pinned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from hotline.domain.canonical import canonical
from hotline.domain.clock import format_time, parse_time
from hotline.domain.crypto import PublicKey, SigningKey, b64decode, b64encode
from hotline.domain.errors import InvalidInput
from hotline.domain.identity import Principal, parse_party_id

BUNDLE_VERSION = 1


def fingerprint(key: PublicKey) -> str:
    """What two people read to each other: 32 hex digits of SHA-256, in groups of four."""
    digest = hashlib.sha256(key.raw).hexdigest()[:32].upper()
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def parse_url(text: str) -> str:
    """Check a transport URL (http or https, with a host)."""
    if not text.isprintable():
        raise InvalidInput("url", "a URL holds no control characters")
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            "url", f"{text!r} is not an http(s) URL", hint="e.g. http://127.0.0.1:8100"
        )
    return text.strip().rstrip("/")


@dataclass(frozen=True)
class PeerBundle:
    party: str
    name: str
    node_key: PublicKey
    urls: tuple[str, ...]
    principals: tuple[Principal, ...]
    issued: datetime

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.node_key)


def make_bundle(
    *,
    party: str,
    name: str,
    key: SigningKey,
    urls: Iterable[str],
    principals: Iterable[Principal],
    issued: datetime,
) -> dict[str, Any]:
    """A signed bundle, ready to write as JSON."""
    checked = [parse_url(u) for u in urls]
    if not checked:
        raise InvalidInput(
            "url",
            "a bundle needs at least one URL the node answers on",
            hint="pass --url, primary first (repeat for a backup path)",
        )
    body = {
        "v": BUNDLE_VERSION,
        "party": party,
        "name": name,
        "node_key": key.public.text(),
        "urls": checked,
        "principals": [p.entry() for p in principals],
        "issued": format_time(issued),
    }
    return {"bundle": body, "sig": b64encode(key.sign(canonical(body)))}


def open_bundle(data: Any) -> PeerBundle:
    """Check a bundle's form and signature. Raises InvalidInput saying what is wrong."""
    if not isinstance(data, Mapping) or not isinstance(data.get("bundle"), Mapping):
        raise InvalidInput("bundle", "not a hotline peer bundle (no 'bundle' object)")
    body, sig = data["bundle"], data.get("sig")
    try:
        if body.get("v") != BUNDLE_VERSION:
            raise InvalidInput("bundle", f"unknown bundle version {body.get('v')!r}")
        party = parse_party_id(body["party"])
        key = PublicKey.from_text(body["node_key"])
        if not isinstance(sig, str) or not key.verify(
            canonical(dict(body)), b64decode(sig, field="sig")
        ):
            raise InvalidInput(
                "bundle",
                "the signature does not match the bundle's node key",
                hint="the file was changed after it was signed",
            )
        principals = []
        for entry in body["principals"]:
            principal = Principal.from_entry(entry)
            if principal.party != party:
                raise InvalidInput("bundle", f"{principal.id} is not of party {party}")
            principals.append(principal)
        name = str(body["name"])
        if not name.isprintable():
            raise InvalidInput("bundle", "the party name holds control characters")
        return PeerBundle(
            party=party,
            name=name,
            node_key=key,
            urls=tuple(parse_url(u) for u in body["urls"]),
            principals=tuple(principals),
            issued=parse_time(body["issued"]),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput("bundle", f"malformed bundle: {exc!r}") from exc
