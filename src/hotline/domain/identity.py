"""Parties and principals, and the identifiers that name them.

A party is a state or an alliance (``US``, ``RU``, ``NATO``). A principal is an office
or desk inside a party (``US/EUCOM-JOC``), with roles and an Ed25519 public key. The
party's node signs with a node key; on the record its author id is the bare party id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hotline.domain.crypto import PublicKey
from hotline.domain.errors import InvalidInput

_PARTY = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
_DESK = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,47}$")


class Role(StrEnum):
    """What a principal may do. A principal has one or more."""

    WATCH_OFFICER = "watch_officer"
    LEADER = "leader"
    RELAY = "relay"
    TRANSLATOR = "translator"
    AUDITOR = "auditor"
    ADMIN = "admin"


def parse_party_id(text: str) -> str:
    """Normalise and check a party id: 2-16 letters and digits, starting with a letter."""
    value = text.strip().upper()
    if not _PARTY.match(value):
        raise InvalidInput(
            "party",
            f"{text!r} is not a party id",
            hint="use 2-16 letters or digits starting with a letter, e.g. US, RU, NATO",
        )
    return value


def parse_principal_id(text: str) -> str:
    """Normalise and check a principal id ``PARTY/DESK`` (e.g. ``US/EUCOM-JOC``)."""
    value = text.strip().upper()
    party, sep, desk = value.partition("/")
    if not sep or not _PARTY.match(party) or not _DESK.match(desk):
        raise InvalidInput(
            "principal",
            f"{text!r} is not a principal id",
            hint="write PARTY/DESK, e.g. US/EUCOM-JOC or RU/NDMC",
        )
    return value


def party_of(author: str) -> str:
    """The party of an author id: a principal ``US/SECDEF`` or a node ``US``."""
    return author.partition("/")[0]


def is_node_author(author: str) -> bool:
    """True when the author id names a party's node rather than a principal."""
    return "/" not in author


def parse_roles(values: list[str] | tuple[str, ...]) -> tuple[Role, ...]:
    """Parse role names; at least one is required."""
    if not values:
        raise InvalidInput("role", "a principal needs at least one role", hint=_ROLE_HINT)
    roles: list[Role] = []
    for raw in values:
        name = raw.strip().lower().replace("-", "_")
        try:
            role = Role(name)
        except ValueError:
            raise InvalidInput("role", f"unknown role {raw!r}", hint=_ROLE_HINT) from None
        if role not in roles:
            roles.append(role)
    return tuple(roles)


_ROLE_HINT = "roles are: " + ", ".join(r.value for r in Role)


@dataclass(frozen=True)
class Party:
    """A state or alliance. ``hosted`` parties have their node key on this node."""

    id: str
    name: str
    hosted: bool
    node_key: PublicKey | None


@dataclass(frozen=True)
class Principal:
    """An office or desk of a party, with roles and its current public key."""

    id: str
    name: str
    roles: tuple[Role, ...]
    key: PublicKey

    @property
    def party(self) -> str:
        return party_of(self.id)

    def entry(self) -> dict[str, Any]:
        """The directory entry other nodes register it from (bundles, proposals)."""
        return {
            "id": self.id,
            "name": self.name,
            "roles": [r.value for r in self.roles],
            "public_key": self.key.text(),
        }

    @classmethod
    def from_entry(cls, entry: Any) -> Principal:
        """Parse a directory entry. Raises InvalidInput saying what is wrong."""
        try:
            return cls(
                id=parse_principal_id(entry["id"]),
                name=str(entry["name"]),
                roles=parse_roles(list(entry["roles"])),
                key=PublicKey.from_text(entry["public_key"]),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise InvalidInput("principal", f"malformed directory entry: {exc!r}") from exc
