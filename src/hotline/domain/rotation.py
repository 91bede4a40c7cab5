"""Rotation of a party's node key: the signed statement, and how a peer follows it.

A node that rotates its key says so twice, both times signed by the key it replaces:

* on the record, as a ``node.rotate`` event on each of its chains (``{"party",
  "public_key", "replaces"}``), so both parties' ledgers hold the rotation;
* off the record, as a *rotation statement*: the canonical JSON ::

      {"type": "hotline.node-rotation", "v": 1, "party": "US", "replaces": "<old key id>",
       "public_key": "<new public key>", "ts": "2026-...Z"}

  with its signature. The node sends its statements with every request and answer
  (header ``Hotline-Rotation``), so a peer that pinned the old key can check the new one
  against its pin before it accepts anything signed with the new key, and pin it.

A peer never takes a new key on the new key's word: each statement must be signed by the
key before it, starting from the key the peer has pinned.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.domain.canonical import canonical
from hotline.domain.clock import format_time, parse_time
from hotline.domain.crypto import PublicKey, SigningKey, b64decode, b64encode
from hotline.domain.errors import InvalidInput, RequestRefused
from hotline.domain.events import Event

#: The node_info entry that keeps this node's own rotation statements (a JSON list of
#: their wire forms, oldest first).
ROTATIONS_INFO = "node_rotations"
#: The header that carries a node's rotation statements, oldest first.
ROTATION_HEADER = "hotline-rotation"
#: How many of its latest statements a node sends: a peer that missed more rotations
#: than this needs the node's new bundle.
SENT_STATEMENTS = 8
STATEMENT_TYPE = "hotline.node-rotation"
STATEMENT_VERSION = 1
_STATEMENT_FIELDS = ("party", "public_key", "replaces", "ts", "type", "v")


@dataclass(frozen=True)
class Rotation:
    """A signed rotation statement: ``party``'s node key ``replaces`` -> ``new_key``."""

    party: str
    replaces: str
    new_key: PublicKey
    ts: str
    raw: bytes
    sig: bytes

    def text(self) -> str:
        """The wire form: base64url of the canonical body, a dot, base64url of the sig."""
        return f"{b64encode(self.raw)}.{b64encode(self.sig)}"

    def signed_by(self, key: PublicKey) -> bool:
        return key.key_id == self.replaces and key.verify(self.raw, self.sig)


def sign_rotation(old: SigningKey, party: str, new_key: PublicKey, ts: datetime) -> Rotation:
    """The statement that ``party``'s node key ``old`` is replaced by ``new_key``."""
    stamp = format_time(ts)
    body: dict[str, Any] = {
        "type": STATEMENT_TYPE,
        "v": STATEMENT_VERSION,
        "party": party,
        "replaces": old.public.key_id,
        "public_key": new_key.text(),
        "ts": stamp,
    }
    raw = canonical(body)
    return Rotation(party, old.public.key_id, new_key, stamp, raw, old.sign(raw))


def open_rotation(text: str) -> Rotation:
    """Parse one statement from its wire form (the signature is not checked here).
    Raises InvalidInput saying what is wrong."""
    raw_text, dot, sig_text = text.strip().partition(".")
    if not dot:
        raise InvalidInput("rotation", "a statement is BODY.SIGNATURE, both base64url")
    raw = b64decode(raw_text, field="rotation")
    sig = b64decode(sig_text, field="rotation signature")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("rotation", "the statement is not JSON") from exc
    if not isinstance(body, dict) or sorted(body) != list(_STATEMENT_FIELDS):
        raise InvalidInput("rotation", "the statement does not have the rotation fields")
    if body["type"] != STATEMENT_TYPE or body["v"] != STATEMENT_VERSION:
        raise InvalidInput("rotation", f"unknown statement {body['type']!r} v{body['v']!r}")
    if not all(isinstance(body[f], str) for f in ("party", "replaces", "public_key", "ts")):
        raise InvalidInput("rotation", "party, replaces, public_key and ts are text")
    if canonical(body) != raw:
        raise InvalidInput("rotation", "the statement is not in canonical form")
    parse_time(body["ts"])
    return Rotation(
        body["party"],
        body["replaces"],
        PublicKey.from_text(body["public_key"]),
        body["ts"],
        raw,
        sig,
    )


def header_value(statements: Sequence[str]) -> str:
    """The ``Hotline-Rotation`` header: the latest statements (wire forms), oldest first."""
    return ",".join(statements[-SENT_STATEMENTS:])


def stored_statements(text: str | None) -> list[str]:
    """The wire forms kept under :data:`ROTATIONS_INFO` (none when nothing is kept)."""
    if not text:
        return []
    try:
        found = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(ROTATIONS_INFO, "the node's rotation statements are not JSON") from exc
    if not isinstance(found, list) or not all(isinstance(s, str) for s in found):
        raise InvalidInput(ROTATIONS_INFO, "the node's rotation statements are not a list")
    return found


def follow(pinned: PublicKey, party: str, header: str | None) -> list[Rotation]:
    """The rotations that lead from the ``pinned`` key of ``party``'s node to its newest,
    each checked against the key before it; empty when the pinned key is the newest (or
    no statement starts from it). Raises RequestRefused (``bad rotation``) when a
    statement that claims to replace the pinned key is not signed by it."""
    if not header:
        return []
    try:
        statements = [open_rotation(part) for part in header.split(",") if part.strip()]
    except InvalidInput as exc:
        raise RequestRefused("bad rotation", exc.message) from exc
    path: list[Rotation] = []
    key = pinned
    for statement in statements:
        if statement.party != party:
            raise RequestRefused(
                "bad rotation", f"a statement of {statement.party} came from {party}"
            )
        if statement.replaces != key.key_id:
            if path:
                raise RequestRefused(
                    "bad rotation",
                    f"{party}'s statements skip from key {key.key_id} to one replacing "
                    f"{statement.replaces}",
                )
            continue  # older than the key pinned here
        if not statement.signed_by(key):
            raise RequestRefused(
                "bad rotation",
                f"the rotation to key {statement.new_key.key_id} is not signed by "
                f"{party}'s node key {key.key_id} pinned here",
                hint="the peer's node must prove its new key with the old one",
            )
        path.append(statement)
        key = statement.new_key
    return path


def node_rotate_content(party: str, public_key: str, replaces: str) -> dict[str, Any]:
    """The content of a ``node.rotate`` event: ``party``'s new node key."""
    return {"party": party, "public_key": public_key, "replaces": replaces}


def check_node_rotation(event: Event) -> tuple[PublicKey, str]:
    """The new key and the replaced key id of a ``node.rotate`` event, which its node
    signs with the key it replaces. Raises RequestRefused: ``malformed`` for a content
    not of its form, ``bad rotation`` for one signed by another key."""
    content: Mapping[str, Any] = event.content
    try:
        if content.get("party") != event.party or not isinstance(content.get("replaces"), str):
            raise InvalidInput("node.rotate", "names its own party and the key it replaces")
        key = PublicKey.from_text(str(content["public_key"]))
    except (KeyError, TypeError, AttributeError, InvalidInput) as exc:
        raise RequestRefused("malformed", f"node key rotation: {exc}") from exc
    replaces = str(content["replaces"])
    if event.key_id != replaces:
        raise RequestRefused(
            "bad rotation",
            f"{event.party}'s rotation of key {replaces} is signed by key {event.key_id}, "
            "not by the key it replaces",
        )
    if key.key_id == replaces:
        raise RequestRefused("bad rotation", "a rotation to the key it replaces")
    return key, replaces
