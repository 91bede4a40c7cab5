"""Sealed content: what a line's mediator carries but may not read.

A mediated line's terms may say that its mediator does not read (``mediator_reads:
false``). Then the text of every message, acknowledgement reply, translation and
certification on it is *sealed* before it is signed: the fields a carrier needs (who it
is to, its precedence, its number, what it refers to) stay in the clear, the rest is
encrypted once under a fresh content key (AES-256-GCM, which a plain browser can open
too), and that key is wrapped for the node key of every party that reads the line (all
but the mediator; X25519 and XSalsa20-Poly1305, libsodium's box)::

    "content": {"kind": "warning", "precedence": "FLASH", "to": [], "refs": [],
                "number": 4,
                "sealed": {"v": 1, "eph": "<X25519 public key>", "nonce": "<12 bytes>",
                           "box": "<the other fields as canonical JSON, AES-256-GCM>",
                           "commit": "<SHA-256 of the content key>",
                           "to": {"KP": {"node": "<key id>", "key": "<wrapped key>"},
                                  "KR": {...}, "OSCE": {...}}}}

The signature covers the sealed form, so the mediator verifies every event it carries
without reading it, and an alteration of the sealed text fails the signature wherever it
arrives. A reader's node unwraps the content key with its node key (Ed25519 converted to
X25519; keys retired by a rotation still open what was sealed to them) and keeps it beside
the event: the record keeps the signed bytes, and the opened content is derived from them
on every read. The commitment to the key makes the sealed text open to one text only,
so a content key disclosed later proves what the signed event said.

Everything here is pure: the randomness of sealing is passed in.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from typing import Any

import nacl.bindings
import nacl.exceptions
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hotline.domain.canonical import canonical
from hotline.domain.crypto import PublicKey, SigningKey, b64decode, b64encode
from hotline.domain.errors import InvalidInput
from hotline.domain.json_input import parse_json

FIELD = "sealed"
VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12  # AES-GCM's
_WRAP_NONCE_BYTES = 24  # XSalsa20's
#: The random bytes one sealing takes: the content key, its nonce, an ephemeral key seed.
RANDOM_BYTES = KEY_BYTES + NONCE_BYTES + 32
_MAC_BYTES = 16
_PARTY = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
_KEY_ID = re.compile(r"^[0-9a-f]{16}$")
#: The sealed box of a content holds at most this many bytes (a message's text and
#: payload are bounded well below it).
BOX_MAX = 400_000

#: For each kind that is sealed, the fields that stay in the clear: what the mediator
#: needs to carry, order and check it. Every other field is sealed.
CLEAR: Mapping[str, frozenset[str]] = {
    "message": frozenset({"kind", "precedence", "to", "info", "number", "refs", "exercise"}),
    "ack": frozenset({"ref", "officer", "exercise"}),
    "translation": frozenset({"ref", "machine"}),
    "certification": frozenset({"ref", "verdict"}),
    "watch.handover": frozenset({"desk", "from", "to"}),
}


def is_sealed(content: Any) -> bool:
    """Whether ``content`` carries sealed fields (not opened here)."""
    return isinstance(content, Mapping) and FIELD in content


def _commitment(key: bytes) -> str:
    return b64encode(hashlib.sha256(b"hotline seal key\x00" + key).digest())


def _wrap_nonce(eph: bytes, reader: bytes) -> bytes:
    return hashlib.sha256(b"hotline wrap\x00" + eph + reader).digest()[:_WRAP_NONCE_BYTES]


def _shared(public: bytes, secret: bytes) -> bytes:
    """The key X25519 agrees between ``public`` and ``secret`` (libsodium's box key).
    Raises InvalidInput for a public key no key can be agreed with (a low-order point)."""
    try:
        shared: bytes = nacl.bindings.crypto_box_beforenm(public, secret)
    except nacl.exceptions.CryptoError as exc:
        raise InvalidInput(FIELD, "the sealed 'eph' key agrees no key (a low-order point)") from exc
    return shared


def _x25519(public: PublicKey) -> bytes:
    try:
        converted: bytes = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(public.raw)
    except nacl.exceptions.CryptoError as exc:
        raise InvalidInput("key", f"key {public.key_id} cannot take sealed content") from exc
    return converted


def seal(
    kind: str, content: Mapping[str, Any], readers: Mapping[str, PublicKey], random: bytes
) -> tuple[dict[str, Any], bytes | None]:
    """``content`` of an event of ``kind`` with its non-clear fields sealed for
    ``readers`` (party -> its node's current key), and the content key. A kind that is
    not sealed, or a content with nothing to seal, comes back as it is, with no key.
    ``random``: :data:`RANDOM_BYTES` fresh random bytes. Raises InvalidInput."""
    clear_fields = CLEAR.get(kind)
    if clear_fields is None:
        return dict(content), None
    hidden = {k: v for k, v in content.items() if k not in clear_fields}
    if not hidden:
        return dict(content), None
    if len(random) != RANDOM_BYTES:
        raise InvalidInput("random", f"sealing takes {RANDOM_BYTES} random bytes")
    if not readers:
        raise InvalidInput("readers", "sealed content needs at least one reader")
    key, nonce, seed = random[:KEY_BYTES], random[KEY_BYTES:-32], random[-32:]
    eph_public, eph_secret = nacl.bindings.crypto_box_seed_keypair(seed)
    wrapped = {}
    for party, public in sorted(readers.items()):
        reader = _x25519(public)
        shared = _shared(reader, eph_secret)
        box = nacl.bindings.crypto_secretbox(key, _wrap_nonce(eph_public, reader), shared)
        wrapped[party] = {"node": public.key_id, "key": b64encode(box)}
    sealed = {
        "v": VERSION,
        "eph": b64encode(eph_public),
        "nonce": b64encode(nonce),
        "box": b64encode(AESGCM(key).encrypt(nonce, canonical(hidden), None)),
        "commit": _commitment(key),
        "to": wrapped,
    }
    clear = {k: v for k, v in content.items() if k in clear_fields}
    return {**clear, FIELD: sealed}, key


def _part(content: Any, *, wrapped: bool = True) -> dict[str, Any]:
    """The sealed part of ``content``, checked for its form (the keys wrapped for its
    readers too, unless ``wrapped`` is false). Raises InvalidInput."""
    sealed = content.get(FIELD) if isinstance(content, Mapping) else None
    if not isinstance(sealed, dict) or set(sealed) != {"v", "eph", "nonce", "box", "commit", "to"}:
        raise InvalidInput(FIELD, "sealed content has the fields v, eph, nonce, box, commit, to")
    if sealed["v"] != VERSION:
        raise InvalidInput(FIELD, f"sealed content of version {sealed['v']!r} is not known here")
    for name, size in (("eph", 32), ("nonce", NONCE_BYTES), ("commit", 32)):
        value = sealed[name]
        if not isinstance(value, str) or len(b64decode(value, field=FIELD)) != size:
            raise InvalidInput(FIELD, f"sealed '{name}' is {size} bytes in base64url")
    box = sealed["box"]
    if (
        not isinstance(box, str)
        or len(box) > BOX_MAX * 4 // 3 + 4
        or len(b64decode(box, field=FIELD)) <= _MAC_BYTES
    ):
        raise InvalidInput(FIELD, f"the sealed box is base64url of at most {BOX_MAX} bytes")
    readers = sealed["to"]
    if not isinstance(readers, dict) or not readers:
        raise InvalidInput(FIELD, "sealed 'to' names each reader's wrapped key")
    if not wrapped:
        return sealed
    for party, entry in readers.items():
        if (
            not _PARTY.fullmatch(party)
            or not isinstance(entry, dict)
            or set(entry) != {"node", "key"}
            or not isinstance(entry["node"], str)
            or not _KEY_ID.fullmatch(entry["node"])
            or not isinstance(entry["key"], str)
            or len(b64decode(entry["key"], field=FIELD)) != KEY_BYTES + _MAC_BYTES
        ):
            raise InvalidInput(FIELD, f"the wrapped key for {party!r} is malformed")
    return sealed


def readers_of(content: Any) -> dict[str, str]:
    """The parties a sealed content opens for, with the node key id each was sealed to.
    Raises InvalidInput."""
    return {party: entry["node"] for party, entry in _part(content)["to"].items()}


def unwrap(content: Any, party: str, secret: SigningKey) -> bytes:
    """The content key of a sealed ``content``, unwrapped with ``party``'s node key.
    Raises InvalidInput when it is not sealed for that key or does not open."""
    sealed = _part(content)
    entry = sealed["to"].get(party)
    if entry is None:
        raise InvalidInput(FIELD, f"the content is not sealed for {party}")
    if entry["node"] != secret.public.key_id:
        raise InvalidInput(FIELD, f"sealed for {party}'s node key {entry['node']}")
    reader = _x25519(secret.public)
    eph = b64decode(sealed["eph"])
    shared = _shared(eph, secret.x25519())
    try:
        key: bytes = nacl.bindings.crypto_secretbox_open(
            b64decode(entry["key"]), _wrap_nonce(eph, reader), shared
        )
    except nacl.exceptions.CryptoError as exc:
        raise InvalidInput(FIELD, f"the key wrapped for {party} does not open") from exc
    if _commitment(key) != sealed["commit"]:
        raise InvalidInput(FIELD, f"the key wrapped for {party} is not the committed key")
    return key


def open_content(kind: str, content: Any, key: bytes) -> dict[str, Any]:
    """The content of an event of ``kind`` with its sealed fields opened by the content
    ``key``: the clear fields and the sealed ones side by side. Raises InvalidInput when
    the kind is never sealed, the key is not the committed one, the box does not open,
    or what it holds is not a canonical JSON object of fields that are not clear ones
    (what the mediator reads and what the readers read are the same fields)."""
    clear_fields = CLEAR.get(kind)
    if clear_fields is None:
        raise InvalidInput(FIELD, f"a {kind} is never sealed")
    sealed = _part(content, wrapped=False)  # (each read of a stored event comes here)
    if len(key) != KEY_BYTES or _commitment(key) != sealed["commit"]:
        raise InvalidInput(FIELD, "the content key is not the one the content commits to")
    try:
        plain = AESGCM(key).decrypt(b64decode(sealed["nonce"]), b64decode(sealed["box"]), None)
    except InvalidTag as exc:
        raise InvalidInput(FIELD, "the sealed box does not open with its key") from exc
    hidden = parse_json(plain, FIELD)
    if not isinstance(hidden, dict) or not hidden or set(hidden) & (clear_fields | {FIELD}):
        raise InvalidInput(FIELD, f"the sealed box of a {kind} holds other than its sealed fields")
    if canonical(hidden) != plain:  # (raises InvalidInput where it has no canonical form)
        raise InvalidInput(FIELD, "the sealed box does not hold canonical JSON (RFC 8785)")
    return {**{k: v for k, v in content.items() if k != FIELD}, **hidden}


def check_sealing(kind: str, content: Any, readers: Collection[str] | None) -> None:
    """That an event of ``kind`` is sealed as its line's terms say. ``readers``: the
    parties that read a line whose mediator may not (None: the line seals nothing).
    On such a line a kind that is sealed carries in the clear only its clear fields, and
    what it seals opens for every reader. Raises InvalidInput."""
    sealed = is_sealed(content)
    if readers is None or kind not in CLEAR:
        if sealed:
            raise InvalidInput(FIELD, f"a {kind} on this line is not sealed")
        return
    clear_fields = CLEAR[kind]
    shown = set(content) - {FIELD} - clear_fields
    if shown:
        raise InvalidInput(
            FIELD,
            f"the line's mediator may not read it, but the {kind} shows "
            f"{', '.join(sorted(shown))} in the clear",
        )
    if sealed and set(readers_of(content)) != set(readers):
        raise InvalidInput(
            FIELD,
            f"sealed for {', '.join(sorted(readers_of(content)))}, "
            f"but the line's readers are {', '.join(sorted(readers))}",
        )
