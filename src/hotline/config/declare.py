"""How a setting is declared (:class:`Declared`, :class:`Setting`) and the parsers that
turn a setting's text into its value, raising InvalidInput, or ValueError saying what is
expected."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Generic, Literal, TypeAlias, TypeVar, cast

from hotline.domain.crypto import PublicKey
from hotline.domain.errors import InvalidInput
from hotline.domain.identity import parse_party_id
from hotline.domain.intent import Activity, parse_lead_times
from hotline.domain.mail import parse_address, parse_imap_url, parse_smtp_url
from hotline.domain.precedence import parse_duration
from hotline.domain.proofs import WitnessRef

CONFIG_FILE = "hotline.toml"
DEFAULT_HOME = Path.home() / ".hotline"
PREFIX = "HOTLINE_"

#: A number of bytes; in the environment and the config file also ``64KiB``, ``16MiB``.
ByteSize: TypeAlias = int
#: ``HOST:PORT`` (checked when loaded; ``hotline serve --listen`` hands on the same form).
HostPort: TypeAlias = str
LogFormat: TypeAlias = Literal["text", "json"]

T = TypeVar("T")


@dataclass(frozen=True)
class Declared(Generic[T]):
    """How a setting is declared, once, as a field of :class:`Settings`: its default as
    the environment writes it, the parser that turns text into its value, and what it
    does. Called, it gives the default value. ``shown`` is the default as
    docs/settings.md shows it, when it is not ``default`` itself."""

    default: str
    parse: Callable[[str], T]
    doc: str
    shown: str | None = None

    def __call__(self) -> T:
        return self.parse(self.default)


@dataclass(frozen=True)
class Setting:
    """A setting of :data:`SETTINGS`: its name and declaration."""

    name: str
    declared: Declared[object]

    @property
    def env(self) -> str:
        return PREFIX + self.name.upper()

    @property
    def default(self) -> str:
        return self.declared.default

    @property
    def doc(self) -> str:
        return self.declared.doc

    @property
    def shown(self) -> str:
        """The default as docs/settings.md shows it."""
        if self.declared.shown is not None:
            return self.declared.shown
        return f"`{self.declared.default}`" if self.declared.default else "empty"


# -- parsers: text -> value, raising InvalidInput or ValueError(what is expected) -------

_UNITS = {"": 1, "b": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "kb": 10**3, "mb": 10**6}
_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


def as_text(value: str) -> str:
    """Text as given (a URL, a token, a plug-in's name); empty: off."""
    return value


def as_smtp_url(value: str) -> str:
    """An SMTP submission URL (checked now, so a typo fails at start), or empty: off."""
    if value.strip():
        parse_smtp_url(value)
    return value.strip()


def as_imap_url(value: str) -> str:
    """An IMAP mailbox URL (checked now, so a typo fails at start), or empty: off."""
    if value.strip():
        parse_imap_url(value)
    return value.strip()


def as_mail_address(value: str) -> str:
    """An e-mail address: one ``@``, no spaces."""
    return parse_address(value, "mail_from")


def as_duration(value: str) -> timedelta:
    return parse_duration(value, field="duration")


def as_size(value: str) -> ByteSize:
    """A size in bytes: ``1048576``, ``64KiB``, ``16MiB``, ``1GiB`` (or kB, MB), from 1 KiB
    to 1 GiB."""
    text = value.strip().replace(" ", "")
    number = text.rstrip("KMGiBkmgb")
    unit = text[len(number) :].lower()
    if not number.isdigit() or unit not in _UNITS:
        raise ValueError("a size such as 65536, 64KiB or 16MiB")
    size = int(number) * _UNITS[unit]
    if not 2**10 <= size <= 2**30:
        raise ValueError("a size from 1KiB to 1GiB")
    return size


def as_count(value: str) -> int:
    text = value.strip()
    if not text.isdigit() or not 1 <= int(text) <= 10_000:
        raise ValueError("a whole number from 1 to 10000")
    return int(text)


def as_path(value: str) -> Path | None:
    """A file; empty: none. ``~`` is the user's home folder."""
    text = value.strip()
    return Path(text).expanduser() if text else None


def as_party(value: str) -> str | None:
    return parse_party_id(value) if value.strip() else None


def as_synchronous(value: str) -> str:
    mode = value.strip().upper()
    if mode not in _SYNCHRONOUS:
        raise ValueError("one of " + ", ".join(_SYNCHRONOUS))
    return mode


def as_signatures(value: str) -> str:
    scheme = value.strip().lower()
    if scheme not in ("rfc9421", "legacy"):
        raise ValueError("rfc9421 (the default) or legacy")
    return scheme


def as_log_format(value: str) -> LogFormat:
    form = value.strip().lower()
    if form not in ("text", "json"):
        raise ValueError("text or json")
    return cast(LogFormat, form)


def as_switch(value: str) -> bool:
    word = value.strip().lower()
    if word not in ("on", "off"):
        raise ValueError("on or off")
    return word == "on"


def as_witnesses(value: str) -> tuple[WitnessRef, ...]:
    """``NAME=URL=KEY`` entries, comma-separated; empty: none."""
    found = []
    for entry in filter(None, (e.strip() for e in value.split(","))):
        parts = entry.split("=")
        if len(parts) != 3 or not all(parts):
            raise ValueError("NAME=URL=KEY entries, comma-separated")
        name, url, key = (p.strip() for p in parts)
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the URL of witness {name} is not http(s)")
        try:
            found.append(WitnessRef(name, url.rstrip("/"), PublicKey.from_text(key)))
        except InvalidInput as exc:
            raise ValueError(f"the key of witness {name}: {exc.message}") from exc
    return tuple(found)


def as_host_port(value: str) -> HostPort:
    """``HOST:PORT``, port 1-65535; empty: off."""
    text = value.strip()
    if not text:
        return ""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("HOST:PORT, e.g. 127.0.0.1:8100")
    return text


def as_lead_times(value: str) -> Mapping[Activity, timedelta]:
    return MappingProxyType(parse_lead_times(value))


def as_territories(value: str) -> Mapping[str, tuple[str, ...]]:
    """``RU=RU,BY;NATO=PL,LT`` -> party -> country codes; empty: none."""
    found: dict[str, tuple[str, ...]] = {}
    for item in filter(None, (part.strip() for part in value.split(";"))):
        party, sep, codes = item.partition("=")
        countries = tuple(c.strip().upper() for c in codes.split(",") if c.strip())
        if not sep or not countries:
            raise ValueError("PARTY=CC,CC;PARTY=CC, e.g. RU=RU,BY;NATO=PL,LT")
        found[parse_party_id(party)] = countries
    return MappingProxyType(found)


def as_kilometres(value: str) -> tuple[float, ...]:
    """``30,50,100`` -> distinct positive widths in km, ascending."""
    try:
        widths = sorted(float(v) for v in value.split(",") if v.strip())
    except ValueError:
        widths = []
    if not widths or widths[0] <= 0 or len(set(widths)) != len(widths):
        raise ValueError("distinct positive widths in km, e.g. 30,50,100")
    return tuple(widths)


def as_nautical_miles(value: str) -> float:
    try:
        miles = float(value)
    except ValueError:
        miles = -1.0
    if not 0 < miles <= 100:
        raise ValueError("a distance in NM, more than 0 and at most 100")
    return miles


def parse_affiliations(text: str) -> Mapping[str, str]:
    """``f=US,h=RU`` (CoT affiliation letter -> party) -> {"f": "US", "h": "RU"}.
    Raises InvalidInput."""
    found = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        letter, sep, party = item.partition("=")
        if not sep or not party.strip():
            raise InvalidInput(
                "cot_parties", f"{item!r} is not LETTER=PARTY", hint="e.g. f=US,h=RU"
            )
        found[letter.strip().lower()] = party.strip().upper()
    return MappingProxyType(found)
