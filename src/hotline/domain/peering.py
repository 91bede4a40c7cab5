"""Peer bundles: what a party hands another so that their nodes can talk.

A bundle is a signed JSON object: the party, its node's public key, the URLs its node
answers on (primary first, then backups), and its principals' public keys. The receiver
checks the signature against the key inside, and a person compares the key's fingerprint
with the one the other side reads out over an independent channel before it is pinned.
A node with TLS also puts its party's CA certificate in the signed body (``tls_ca``);
the receiver pins it, and its URLs are then all https. A node with an e-mail path puts
its address there too (``mail``): the second medium, beside its URLs; and the language
its party writes (``language``), which a catalogue adopted on a line must have.
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
from hotline.domain.language import parse_lang
from hotline.domain.mail import parse_address

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


def check_ca(text: object) -> str:
    """A party's CA certificate, as PEM text: exactly one certificate, a CA
    (basicConstraints CA, may sign certificates) and self-signed. Returns it re-encoded;
    raises InvalidInput saying what is wrong."""
    # X.509 is read only here: a node that opens without peering pays nothing for it
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import Encoding

    hint = "the other party re-exports its bundle after `hotline tls init`"
    if not isinstance(text, str) or text.count("-----BEGIN CERTIFICATE-----") != 1:
        raise InvalidInput("tls_ca", "not one PEM certificate", hint=hint)
    try:
        cert = x509.load_pem_x509_certificate(text.encode("ascii"))
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except (ValueError, UnicodeEncodeError) as exc:
        raise InvalidInput("tls_ca", f"not a readable certificate: {exc}", hint=hint) from exc
    except x509.ExtensionNotFound as exc:
        raise InvalidInput(
            "tls_ca", "not a CA certificate (no basicConstraints or keyUsage)", hint=hint
        ) from exc
    if not constraints.ca or not usage.key_cert_sign:
        raise InvalidInput("tls_ca", "not a CA certificate (it may not sign others)", hint=hint)
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise InvalidInput("tls_ca", "not a self-signed root certificate", hint=hint) from exc
    return cert.public_bytes(Encoding.PEM).decode("ascii")


@dataclass(frozen=True)
class PeerBundle:
    party: str
    name: str
    node_key: PublicKey
    urls: tuple[str, ...]
    principals: tuple[Principal, ...]
    issued: datetime
    tls_ca: str | None = None
    mail: str | None = None
    language: str | None = None

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
    tls_ca: str | None = None,
    mail: str | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    """A signed bundle, ready to write as JSON. With ``tls_ca`` (the party's CA
    certificate, PEM) every URL must be https; ``mail``: the address of the node's
    e-mail path; ``language``: the language the party writes."""
    checked = [parse_url(u) for u in urls]
    if not checked:
        raise InvalidInput(
            "url",
            "a bundle needs at least one URL the node answers on",
            hint="pass --url, primary first (repeat for a backup path)",
        )
    if tls_ca is not None:
        _require_https(
            checked,
            "give the node's https URLs, with names its certificate holds: --url https://HOST:PORT",
        )
    body: dict[str, Any] = {
        "v": BUNDLE_VERSION,
        "party": party,
        "name": name,
        "node_key": key.public.text(),
        "urls": checked,
        "principals": [p.entry() for p in principals],
        "issued": format_time(issued),
    }
    if tls_ca is not None:
        body["tls_ca"] = check_ca(tls_ca)
    if mail is not None:
        body["mail"] = parse_address(mail)
    if language is not None:
        body["language"] = parse_lang(language)
    return {"bundle": body, "sig": b64encode(key.sign(canonical(body)))}


def _require_https(urls: Iterable[str], hint: str) -> None:
    plain = [u for u in urls if urlsplit(u).scheme != "https"]
    if plain:
        raise InvalidInput(
            "url", f"a node with TLS is reached over https, not {', '.join(plain)}", hint=hint
        )


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
        urls = tuple(parse_url(u) for u in body["urls"])
        tls_ca = None
        if "tls_ca" in body:
            tls_ca = check_ca(body["tls_ca"])
            _require_https(urls, "the other party re-exports its bundle with https URLs")
        mail = body.get("mail")
        if mail is not None:
            mail = parse_address(str(mail))
        language = body.get("language")
        if language is not None:
            language = parse_lang(str(language))
        return PeerBundle(
            party=party,
            name=name,
            node_key=key,
            urls=urls,
            principals=tuple(principals),
            issued=parse_time(body["issued"]),
            tls_ca=tls_ca,
            mail=mail,
            language=language,
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput("bundle", f"malformed bundle: {exc!r}") from exc
