"""Paging the watch: who at a desk is paged about what waits there, by which means, and
when again, until somebody reacts.

What is paged: a FLASH or IMMEDIATE message from another party that nobody at the desk
has acknowledged, and each escalation ``alert`` of the node's own (one of its messages
went unanswered; the desks with the alerted roles are paged). The paging plan is data,
kept by the node (not on any line), written in YAML or JSON::

    repeat:                      # page again, this often, until somebody reacts
      FLASH: 5m
      IMMEDIATE: 15m
    next_after:                  # then the next person on the desk's chain as well
      FLASH: 10m
      IMMEDIATE: 30m
    people:
      Maj. A. Smith: {email: smith@us.example}
      Lt Col B. Jones: {email: jones@us.example, webhook: oncall}
    webhooks:
      oncall: {url: "https://oncall.us.example/hook", format: generic, sign: ed25519}
    desks:
      US/EUCOM-JOC:
        chain: [watch, Lt Col B. Jones, Col C. Brown]
        webhooks: [oncall]       # told of every page at this desk, whoever is paged

``watch`` in a chain is whoever is on watch at the desk at that moment (the roster). The
first on the chain is paged at once; each next one ``next_after`` later, while those
before are paged again every ``repeat``. Somebody on the chain who cannot be reached (no
officer on watch, no address) is recorded as such and the next one is paged at once.
Paging an item stops when it is acknowledged, or when somebody takes it ("I have it").

Everything here is pure: the time, the roster and what was sent already are parameters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import yaml

from hotline.domain.errors import InvalidInput
from hotline.domain.identity import parse_principal_id
from hotline.domain.precedence import Precedence, format_duration, parse_duration

#: whoever is on watch at the desk (the roster says who)
WATCH = "watch"
PAGED = (Precedence.FLASH, Precedence.IMMEDIATE)
#: Defaults: on-call tools re-notify every few minutes until acknowledged; the next on
#: the chain is paged once a FLASH has waited as long as its acknowledgement deadline.
DEFAULT_REPEAT = {
    Precedence.FLASH: timedelta(minutes=5),
    Precedence.IMMEDIATE: timedelta(minutes=15),
}
DEFAULT_NEXT = {
    Precedence.FLASH: timedelta(minutes=10),
    Precedence.IMMEDIATE: timedelta(minutes=30),
}
MIN_REPEAT = timedelta(seconds=30)
MAX_CHAIN = 10
MAX_PEOPLE = 500
MAX_WEBHOOKS = 50
NAME_MAX = 120
SECRET_MIN = 16


class Format(StrEnum):
    """The body a webhook carries: the shape an on-call tool takes."""

    GENERIC = "generic"
    PAGERDUTY = "pagerduty"  # Events API v2
    GOALERT = "goalert"  # generic incoming webhook
    GRAFANA_ONCALL = "grafana-oncall"  # formatted webhook integration


class Signing(StrEnum):
    ED25519 = "ed25519"  # the node's key; the receiver checks it with the node's public key
    HMAC = "hmac"  # HMAC-SHA256 with a secret shared with the receiver
    NONE = "none"  # for tools that authenticate by a token in the URL or the body


@dataclass(frozen=True)
class Webhook:
    name: str
    url: str
    format: Format = Format.GENERIC
    sign: Signing = Signing.ED25519
    secret: str | None = None  # for hmac
    routing_key: str | None = None  # for pagerduty

    def entry(self, *, reveal: bool = False) -> dict[str, Any]:
        """As data; the secret, the routing key and the URL's path and query (where
        on-call tools put their tokens) shown only when ``reveal``."""
        out: dict[str, Any] = {"url": self.url if reveal else masked_url(self.url)}
        out["format"] = self.format.value
        out["sign"] = self.sign.value
        if self.secret:
            out["secret"] = self.secret if reveal else "(set)"
        if self.routing_key:
            out["routing_key"] = self.routing_key if reveal else "(set)"
        return out


@dataclass(frozen=True)
class Person:
    name: str
    email: str | None = None
    webhook: str | None = None

    @property
    def reachable(self) -> bool:
        return bool(self.email or self.webhook)


@dataclass(frozen=True)
class Desk:
    desk: str
    chain: tuple[str, ...] = (WATCH,)
    webhooks: tuple[str, ...] = ()


@dataclass(frozen=True)
class PagingPlan:
    repeat: Mapping[Precedence, timedelta] = field(default_factory=lambda: dict(DEFAULT_REPEAT))
    next_after: Mapping[Precedence, timedelta] = field(default_factory=lambda: dict(DEFAULT_NEXT))
    people: Mapping[str, Person] = field(default_factory=dict)
    webhooks: Mapping[str, Webhook] = field(default_factory=dict)
    desks: Mapping[str, Desk] = field(default_factory=dict)

    def desk(self, desk: str) -> Desk:
        """The desk's chain; a desk the plan does not name pages whoever is on watch."""
        return self.desks.get(desk) or Desk(desk)

    def to_json(self, *, reveal: bool = False) -> dict[str, Any]:
        """The plan as data; secrets shown as ``(set)`` unless ``reveal``."""
        return {
            "repeat": {p.value: format_duration(d) for p, d in self.repeat.items()},
            "next_after": {p.value: format_duration(d) for p, d in self.next_after.items()},
            "people": {
                n: {k: v for k, v in (("email", p.email), ("webhook", p.webhook)) if v}
                for n, p in self.people.items()
            },
            "webhooks": {n: w.entry(reveal=reveal) for n, w in self.webhooks.items()},
            "desks": {
                d.desk: {"chain": list(d.chain), "webhooks": list(d.webhooks)}
                for d in self.desks.values()
            },
        }


def masked_url(url: str) -> str:
    """A URL with its path and query hidden: on-call tools put their tokens there."""
    parts = urlsplit(url)
    hidden = "/…" if (parts.path not in ("", "/") or parts.query) else ""
    return (
        f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{hidden}"
    )


def _first(keys: Iterable[object]) -> str:
    """The first of ``keys`` in order, as the user wrote it (keys may be of any type)."""
    return repr(sorted(str(k) for k in keys)[0])


# -- reading a plan --------------------------------------------------------------------


def parse_plan(text: str, fmt: str = "yaml") -> PagingPlan:
    """A paging plan from YAML or JSON text. Raises InvalidInput saying what is wrong."""
    try:
        data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidInput("paging", f"not valid {fmt.upper()}: {exc}".splitlines()[0]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput("paging", "a paging plan is a mapping", hint="see docs/operations.md")
    unknown = set(data) - {"repeat", "next_after", "people", "webhooks", "desks"}
    if unknown:
        raise InvalidInput(
            "paging",
            f"unknown key {_first(unknown)}",
            hint="the keys are repeat, next_after, people, webhooks and desks",
        )
    repeat = _by_precedence(data.get("repeat"), DEFAULT_REPEAT, "repeat")
    for p, d in repeat.items():
        if d < MIN_REPEAT:
            raise InvalidInput(
                "repeat", f"{p.value} every {format_duration(d)} is too often", hint="at least 30s"
            )
    next_after = _by_precedence(data.get("next_after"), DEFAULT_NEXT, "next_after")
    webhooks = {
        name: _webhook(name, entry)
        for name, entry in _mapping(data.get("webhooks"), "webhooks", MAX_WEBHOOKS).items()
    }
    people = {
        name: _person(name, entry, webhooks)
        for name, entry in _mapping(data.get("people"), "people", MAX_PEOPLE).items()
    }
    desks = {}
    for name, entry in _mapping(data.get("desks"), "desks", MAX_PEOPLE).items():
        desk = _desk(name, entry, people, webhooks)
        desks[desk.desk] = desk
    return PagingPlan(repeat, next_after, people, webhooks, desks)


def _mapping(value: object, where: str, most: int) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(where, f"{where} is a mapping of names to entries")
    if len(value) > most:
        raise InvalidInput(where, f"at most {most} entries")
    for name in value:
        if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
            raise InvalidInput(where, f"{name!r}: a name is 1 to {NAME_MAX} characters")
    return {str(k).strip(): v for k, v in value.items()}


def _by_precedence(
    value: object, defaults: Mapping[Precedence, timedelta], where: str
) -> dict[Precedence, timedelta]:
    out = dict(defaults)
    if value is None:
        return out
    if not isinstance(value, dict):
        raise InvalidInput(where, f"{where} maps a precedence to a duration, e.g. FLASH: 5m")
    for key, text in value.items():
        try:
            precedence = Precedence(str(key).upper())
        except ValueError:
            raise InvalidInput(where, f"unknown precedence {key!r}") from None
        if precedence not in PAGED:
            raise InvalidInput(
                where, f"{precedence.value} messages are not paged", hint="FLASH or IMMEDIATE"
            )
        duration = parse_duration(str(text), field=where)
        if duration <= timedelta(0):
            raise InvalidInput(where, f"{precedence.value}: a duration above zero")
        out[precedence] = duration
    return out


def _str(entry: Mapping[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(where, f"{key} is a text")
    return value.strip()


def _webhook(name: str, entry: object) -> Webhook:
    where = f"webhooks.{name}"
    if not isinstance(entry, dict):
        raise InvalidInput(where, "a webhook is a mapping with url, format and sign")
    unknown = set(entry) - {"url", "format", "sign", "secret", "routing_key"}
    if unknown:
        raise InvalidInput(where, f"unknown key {_first(unknown)}")
    url = _str(entry, "url", where)
    if url is None:
        raise InvalidInput(where, "url is missing")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(where, f"{url!r} is not an http(s) URL")
    try:
        fmt = Format(entry.get("format", Format.GENERIC.value))
    except ValueError:
        raise InvalidInput(
            where,
            f"unknown format {entry.get('format')!r}",
            hint=", ".join(f.value for f in Format),
        ) from None
    default_sign = Signing.ED25519 if fmt is Format.GENERIC else Signing.NONE
    try:
        sign = Signing(entry.get("sign", default_sign.value))
    except ValueError:
        raise InvalidInput(
            where, f"unknown signing {entry.get('sign')!r}", hint="ed25519, hmac or none"
        ) from None
    secret = _str(entry, "secret", where)
    if sign is Signing.HMAC and (secret is None or len(secret) < SECRET_MIN):
        raise InvalidInput(where, f"sign: hmac needs a secret of at least {SECRET_MIN} characters")
    routing_key = _str(entry, "routing_key", where)
    if fmt is Format.PAGERDUTY and routing_key is None:
        raise InvalidInput(
            where, "PagerDuty's Events API needs a routing_key (the integration key)"
        )
    return Webhook(name, url, fmt, sign, secret, routing_key)


def _person(name: str, entry: object, webhooks: Mapping[str, Webhook]) -> Person:
    where = f"people.{name}"
    if name == WATCH:
        raise InvalidInput(where, f"{WATCH!r} names whoever is on watch, not a person")
    if not isinstance(entry, dict):
        raise InvalidInput(where, "a person is a mapping with email and/or webhook")
    unknown = set(entry) - {"email", "webhook"}
    if unknown:
        raise InvalidInput(where, f"unknown key {_first(unknown)}", hint="email, webhook")
    email = _str(entry, "email", where)
    if email is not None and (email.count("@") != 1 or " " in email or email.startswith("@")):
        raise InvalidInput(where, f"{email!r} is not an e-mail address")
    webhook = _str(entry, "webhook", where)
    if webhook is not None and webhook not in webhooks:
        raise InvalidInput(where, f"unknown webhook {webhook!r}", hint="name one under webhooks")
    return Person(name, email, webhook)


def _desk(
    name: str, entry: object, people: Mapping[str, Person], webhooks: Mapping[str, Webhook]
) -> Desk:
    desk = parse_principal_id(name)
    where = f"desks.{desk}"
    if entry is None:
        entry = {}
    if not isinstance(entry, dict):
        raise InvalidInput(where, "a desk is a mapping with chain and webhooks")
    unknown = set(entry) - {"chain", "webhooks"}
    if unknown:
        raise InvalidInput(where, f"unknown key {_first(unknown)}", hint="chain, webhooks")
    chain = entry.get("chain", [WATCH])
    if (
        not isinstance(chain, list)
        or not chain
        or len(chain) > MAX_CHAIN
        or not all(isinstance(c, str) for c in chain)
    ):
        raise InvalidInput(
            where, f"chain is a list of 1 to {MAX_CHAIN} names, e.g. [watch, Deputy]"
        )
    for who in chain:
        if who != WATCH and who not in people:
            raise InvalidInput(
                where, f"{who!r} is not under people", hint=f"add them, or use {WATCH!r}"
            )
    if len(set(chain)) != len(chain):
        raise InvalidInput(where, "a name appears twice in the chain")
    hooks = entry.get("webhooks", [])
    if not isinstance(hooks, list) or any(
        not isinstance(h, str) or h not in webhooks for h in hooks
    ):
        raise InvalidInput(where, "webhooks is a list of names under webhooks")
    return Desk(desk, tuple(str(c) for c in chain), tuple(str(h) for h in hooks))


# -- what is due -----------------------------------------------------------------------


class ItemKind(StrEnum):
    MESSAGE = "message"  # a FLASH or IMMEDIATE message waiting for the desk's ack
    ESCALATION = "escalation"  # an escalation alert: the node's own message went unanswered


@dataclass(frozen=True)
class Pageable:
    """Something a desk is paged about, open since ``since``."""

    key: str  # e.g. "message:<id>:US/EUCOM-JOC"
    kind: ItemKind
    desk: str
    ref: str  # the message concerned
    line: str
    precedence: Precedence
    since: datetime
    subject: str
    sender: str = ""


@dataclass(frozen=True)
class Sent:
    """A page already sent (or found unreachable) for an item."""

    key: str
    level: int
    person: str
    ring: int


@dataclass(frozen=True)
class PageDue:
    item: Pageable
    level: int  # place on the desk's chain, 0 first
    person: str  # the person's name ("" where nobody is on watch)
    ring: int  # 1 the first page of this person about this item, 2 the next…
    reachable: bool


def pages_due(
    item: Pageable,
    chain: Sequence[Person | None],
    sent: Iterable[Sent],
    plan: PagingPlan,
    now: datetime,
) -> list[PageDue]:
    """The pages due now about ``item``: ``chain`` is the desk's chain with each place
    resolved to a person (``None``: nobody on watch). Only the latest ring is due, never
    a backlog: a node that was down pages once, not once per missed interval. A place that
    cannot be reached is due all the same (it is recorded, and the desk's webhooks are
    told) and hands on to the next place at once. A new officer on watch at a place is
    paged afresh."""
    repeat = plan.repeat.get(item.precedence, DEFAULT_REPEAT[Precedence.IMMEDIATE])
    step = plan.next_after.get(item.precedence, DEFAULT_NEXT[Precedence.IMMEDIATE])
    done: dict[tuple[int, str], int] = {}
    for s in sent:
        if s.key == item.key:
            done[(s.level, s.person)] = max(done.get((s.level, s.person), 0), s.ring)
    due: list[PageDue] = []
    start = item.since
    for level, person in enumerate(chain):
        if start > now:
            break
        name = person.name if person else ""
        reachable = person is not None and person.reachable
        ring = int((now - start) / repeat) + 1
        if done.get((level, name), 0) < ring:
            due.append(PageDue(item, level, name, ring, reachable))
        if reachable:
            start += step  # else the next place starts when this one would have
    return due


def item_key(kind: ItemKind, ref: str, desk: str) -> str:
    return f"{kind.value}:{ref}:{desk}"
