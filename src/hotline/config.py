"""Settings: one typed, frozen object, built once by ``app.py``.

Each setting is read from the environment first, then from the node's ``hotline.toml``
(written by ``hotline init``), then its default, and is parsed into its type as it is
loaded: a bad value fails there, naming the setting, the value, where it came from and
what is expected, never later in a worker. A key of ``hotline.toml`` that names no
setting is refused, and so is a ``HOTLINE_*`` variable that looks like a misspelt
setting, with the nearest setting's name.

Each setting is declared once, as a field of :class:`Settings`: its name, its default
(written as in the environment), its parser and its documentation; the environment
variable is ``HOTLINE_`` and the name in capitals. :data:`SETTINGS` lists them;
``docs/settings.md`` must describe every one with its default (a test checks).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, Literal, TypeAlias, TypeVar, cast

from hotline.domain.errors import InvalidInput
from hotline.domain.identity import parse_party_id
from hotline.domain.intent import Activity, parse_lead_times
from hotline.domain.message import parse_lang
from hotline.domain.precedence import parse_duration

CONFIG_FILE = "hotline.toml"
DEFAULT_HOME = Path.home() / ".hotline"
PREFIX = "HOTLINE_"

#: ``HOTLINE_*`` variables that are not settings: the CLI's password option, and the test
#: suite's ``HOTLINE_TEST_*``. Any other one that is not a setting is refused only when it
#: looks like a misspelt setting (see :func:`_misspelt_variables`): a variable of some
#: other tool, or of the test suite (``HOTLINE_FUZZ``), is left alone.
OTHER_VARIABLES = frozenset({"HOTLINE_PASSWORD"})
OTHER_PREFIXES = ("HOTLINE_TEST_",)
#: How alike (difflib's ratio, 0-1) a name must be to a setting's to count as a misspelling.
LIKENESS = 0.6

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


def _text(value: str) -> str:
    """Text as given (a URL, a token, a plug-in's name); empty: off."""
    return value


def _duration(value: str) -> timedelta:
    return parse_duration(value, field="duration")


def _size(value: str) -> ByteSize:
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


def _count(value: str) -> int:
    text = value.strip()
    if not text.isdigit() or not 1 <= int(text) <= 10_000:
        raise ValueError("a whole number from 1 to 10000")
    return int(text)


def _path(value: str) -> Path | None:
    """A file; empty: none. ``~`` is the user's home folder."""
    text = value.strip()
    return Path(text).expanduser() if text else None


def _party(value: str) -> str | None:
    return parse_party_id(value) if value.strip() else None


def _synchronous(value: str) -> str:
    mode = value.strip().upper()
    if mode not in _SYNCHRONOUS:
        raise ValueError("one of " + ", ".join(_SYNCHRONOUS))
    return mode


def _signatures(value: str) -> str:
    scheme = value.strip().lower()
    if scheme not in ("rfc9421", "legacy"):
        raise ValueError("rfc9421 (the default) or legacy")
    return scheme


def _log_format(value: str) -> LogFormat:
    form = value.strip().lower()
    if form not in ("text", "json"):
        raise ValueError("text or json")
    return cast(LogFormat, form)


def _switch(value: str) -> bool:
    word = value.strip().lower()
    if word not in ("on", "off"):
        raise ValueError("on or off")
    return word == "on"


def _host_port(value: str) -> HostPort:
    """``HOST:PORT``, port 1-65535; empty: off."""
    text = value.strip()
    if not text:
        return ""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("HOST:PORT, e.g. 127.0.0.1:8100")
    return text


def _lead_times(value: str) -> Mapping[Activity, timedelta]:
    return MappingProxyType(parse_lead_times(value))


def _territories(value: str) -> Mapping[str, tuple[str, ...]]:
    """``RU=RU,BY;NATO=PL,LT`` -> party -> country codes; empty: none."""
    found: dict[str, tuple[str, ...]] = {}
    for item in filter(None, (part.strip() for part in value.split(";"))):
        party, sep, codes = item.partition("=")
        countries = tuple(c.strip().upper() for c in codes.split(",") if c.strip())
        if not sep or not countries:
            raise ValueError("PARTY=CC,CC;PARTY=CC, e.g. RU=RU,BY;NATO=PL,LT")
        found[parse_party_id(party)] = countries
    return MappingProxyType(found)


def _kilometres(value: str) -> tuple[float, ...]:
    """``30,50,100`` -> distinct positive widths in km, ascending."""
    try:
        widths = sorted(float(v) for v in value.split(",") if v.strip())
    except ValueError:
        widths = []
    if not widths or widths[0] <= 0 or len(set(widths)) != len(widths):
        raise ValueError("distinct positive widths in km, e.g. 30,50,100")
    return tuple(widths)


def _nautical_miles(value: str) -> float:
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


def _declared(default: str, parse: Callable[[str], object], doc: str, shown: str) -> Any:
    """Metadata of a field without a default in the type (``load_settings`` derives it)."""
    return {"declared": Declared(default, parse, doc, shown)}


@dataclass(frozen=True)
class Settings:
    """A node's settings, each parsed into its type (see :func:`load_settings`)."""

    home: Path = field(
        metadata=_declared(
            "~/.hotline",
            _path,
            "The node's data folder: config, keys and (by default) the SQLite database.",
            "`~/.hotline`",
        )
    )
    party: str | None = field(
        metadata=_declared(
            "",
            _party,
            "The party this node serves, e.g. US. Written by `hotline init`.",
            "set by `init`",
        )
    )
    database_url: str = field(
        metadata=_declared(
            "",
            _text,
            "SQLAlchemy URL of the node's database: SQLite or postgresql+psycopg://...",
            "`sqlite:///<home>/hotline.db`",
        )
    )
    sqlite_synchronous: str = field(
        default_factory=Declared(
            "FULL",
            _synchronous,
            "SQLite's synchronous pragma. FULL survives power loss; NORMAL survives a "
            "crash of the process but may lose the last commits on power loss.",
        )
    )
    listen: HostPort = field(
        default_factory=Declared(
            "127.0.0.1:8100", _host_port, "Where `hotline serve` listens (HOST:PORT)."
        )
    )
    request_skew: timedelta = field(
        default_factory=Declared(
            "5m",
            _duration,
            "How far a peer's request time may be from ours before it is refused as stale.",
        )
    )
    request_signatures: str = field(
        default_factory=Declared(
            "rfc9421",
            _signatures,
            "How this node signs its requests to peers: rfc9421 (HTTP Message Signatures), or "
            "legacy for a peer still on the old scheme. Both are accepted from peers.",
        )
    )
    clock_skew_alert: timedelta = field(
        default_factory=Declared(
            "30s",
            _duration,
            "A peer's clock further than this from ours (measured from its signed answers) "
            "opens a clock alert.",
        )
    )
    refusal_limit: int = field(
        default_factory=Declared(
            "60",
            _count,
            "Unauthenticated federation requests refused per client address and minute before "
            "that address is answered 429 without a look at its requests.",
        )
    )
    refusal_retention: timedelta = field(
        default_factory=Declared(
            "90d", _duration, "How long refused requests and events are kept on record."
        )
    )
    refusal_max_bytes: ByteSize = field(
        default_factory=Declared(
            "64KiB",
            _size,
            "The most bytes of a refused event kept as evidence; longer ones are cut.",
        )
    )
    linktest_interval: timedelta = field(
        default_factory=Declared(
            "1h",
            _duration,
            "Link test rounds on service lines; the parties take turns starting them.",
        )
    )
    catchup_interval: timedelta = field(
        default_factory=Declared(
            "10s",
            _duration,
            "How often the node compares chain heads with each peer and pulls what it lacks.",
        )
    )
    retry_max: timedelta = field(
        default_factory=Declared(
            "30s",
            _duration,
            "Longest wait between delivery attempts to an unreachable peer (the wait doubles "
            "from 0.5 s up to this).",
        )
    )
    escalation_interval: timedelta = field(
        default_factory=Declared(
            "1s",
            _duration,
            "How often `hotline serve` runs the escalation scheduler (deadlines, resends, "
            "relays, alerts, expiring contact requests).",
        )
    )
    language: str = field(
        default_factory=Declared(
            "en",
            parse_lang,
            "The operators' language: catalogue messages, notifications, the console (unless"
            " an operator chooses otherwise) and the after-action report are shown in it.",
        )
    )
    lead_times: Mapping[Activity, timedelta] = field(
        default_factory=Declared(
            "missile_launch=24h,naval_exercise=3d,strategic_exercise=14d",
            _lead_times,
            "Least notice per activity for a notification of intent; shorter notice must be "
            "confirmed by the sender, and is recorded.",
        )
    )
    machine_translator: str = field(
        default_factory=Declared(
            "",
            _text,
            "Name of a machine translation plug-in (entry point group hotline.translators); "
            "empty: off.",
        )
    )
    territories: Mapping[str, tuple[str, ...]] = field(
        default_factory=Declared(
            "",
            _territories,
            "Party -> countries for the border rules, e.g. RU=RU,BY;NATO=PL,LT,LV,EE. Empty: "
            "each party named like a country (RU, PL) or an alliance (NATO) gets its land.",
        )
    )
    corridors_km: tuple[float, ...] = field(
        default_factory=Declared(
            "30,50,100",
            _kilometres,
            "Corridors along another party's border, in km, for the proximity rule.",
        )
    )
    cpa_nm: float = field(
        default_factory=Declared(
            "5",
            _nautical_miles,
            "Closest point of approach that raises an alert, in nautical miles.",
        )
    )
    cpa_within: timedelta = field(
        default_factory=Declared(
            "3m", _duration, "How far ahead the closest point of approach is looked for."
        )
    )
    zones_file: Path | None = field(
        default_factory=Declared(
            "",
            _path,
            "GeoJSON FeatureCollection of airspaces and caution areas (properties name, kind, "
            "party); a track of another party inside one raises an alert.",
        )
    )
    cot_listen: HostPort = field(
        default_factory=Declared(
            "",
            _host_port,
            "Where `hotline serve` listens for Cursor on Target (HOST:PORT, TCP and UDP). "
            "Empty: no listener.",
        )
    )
    cot_parties: Mapping[str, str] = field(
        default_factory=Declared(
            "",
            parse_affiliations,
            "CoT affiliation -> party for the listener, e.g. f=US,h=RU. Unmapped: no party.",
        )
    )
    cot_max_event: ByteSize = field(
        default_factory=Declared(
            "64KiB",
            _size,
            "Largest CoT event the listener takes: a TCP connection sending a larger one is "
            "closed, a larger datagram dropped (counted and logged).",
        )
    )
    cot_budget: ByteSize = field(
        default_factory=Declared(
            "1MiB",
            _size,
            "Bytes one CoT sender (a TCP address; UDP: all senders together) may send per "
            "cot_budget_window; past it the listener stops reading until it has refilled.",
        )
    )
    cot_budget_window: timedelta = field(
        default_factory=Declared("1s", _duration, "The time window of cot_budget.")
    )
    cot_idle_timeout: timedelta = field(
        default_factory=Declared(
            "5m", _duration, "A CoT connection that completes no event for this long is closed."
        )
    )
    cot_slow_timeout: timedelta = field(
        default_factory=Declared(
            "10s",
            _duration,
            "A CoT connection that takes longer than this over one event is closed.",
        )
    )
    cot_max_connections: int = field(
        default_factory=Declared(
            "32",
            _count,
            "Most CoT connections open at once; further ones are closed as they come.",
        )
    )
    ingest_token: str = field(
        default_factory=Declared(
            "",
            _text,
            "Bearer token for POST /ingest/v1/tracks on the node's HTTP port. Empty: off.",
        )
    )
    awareness_interval: timedelta = field(
        default_factory=Declared(
            "2s",
            _duration,
            "How often `hotline serve` runs the awareness rules on the live picture.",
        )
    )
    session_ttl: timedelta = field(
        default_factory=Declared("8h", _duration, "How long a console sign-in lasts (a watch).")
    )
    delivery_batch: int = field(
        default_factory=Declared("200", _count, "Most events pushed to a peer in one request.")
    )
    metrics_token: str = field(
        default_factory=Declared(
            "",
            _text,
            "Bearer token for GET /metrics (Prometheus) on the node's HTTP port. Empty: off.",
        )
    )
    log_format: LogFormat = field(
        default_factory=Declared(
            "text",
            _log_format,
            "How `hotline serve` logs: text, or json (one object per line).",
        )
    )
    access_log: bool = field(
        default_factory=Declared(
            "on",
            _switch,
            "Whether `hotline serve` logs one line per HTTP request: on or off.",
        )
    )
    clock_file: Path | None = field(
        default_factory=Declared(
            "",
            _path,
            "Exercises and the demo only: the node reads its time from this file (a scenario "
            "clock several nodes share, run faster than real time). Empty: the system clock.",
        )
    )
    lease_ttl: timedelta = field(
        default_factory=Declared(
            "10s",
            _duration,
            "How long a worker's lease on a background job (delivery, escalation, link tests, "
            "catch-up, awareness) lasts unless renewed: another worker or site takes the job "
            "over this long after its holder dies.",
        )
    )
    nats_url: str = field(
        default_factory=Declared(
            "",
            _text,
            "NATS server with JetStream (nats://HOST:PORT) for track ingest: the API and the "
            "CoT listener publish tracks, track writers store them. Empty: tracks go straight "
            "to the picture.",
        )
    )
    nats_consumers: int = field(
        default_factory=Declared(
            "1", _count, "Rule-worker threads `hotline serve` runs when nats_url is set."
        )
    )
    tls_cert: str = field(
        default_factory=Declared(
            "",
            _text,
            "The node certificate (PEM), issued by the party CA; relative to the home folder. "
            "Set (with tls_key and tls_ca): `listen` serves HTTPS and asks every caller for a "
            "certificate from a pinned peer's CA or our own. Written by `hotline tls init`.",
        )
    )
    tls_key: str = field(
        default_factory=Declared(
            "",
            _text,
            "The node certificate's private key (PEM, mode 600); relative to the home folder.",
        )
    )
    tls_ca: str = field(
        default_factory=Declared(
            "",
            _text,
            "The party CA certificate (PEM); relative to the home folder. Its key lies next to "
            "it (same name, .key) for `hotline tls issue`. Peer bundles carry it.",
        )
    )
    console_listen: HostPort = field(
        default_factory=Declared(
            "",
            _host_port,
            "Where `hotline serve` also serves the console, the REST API, /health, /ready, "
            "/metrics and /ingest (HOST:PORT), over HTTPS with the node certificate and without "
            "client certificates when the node has TLS; never the federation API. Empty: off.",
        )
    )
    federation_body_limit: ByteSize = field(
        default_factory=Declared(
            "16MiB",
            _size,
            "Largest request body taken under /federation/ (a push of delivery_batch events); "
            "larger ones are refused with 413 before they are read. Bytes, or with KiB, MiB.",
        )
    )
    ingest_body_limit: ByteSize = field(
        default_factory=Declared(
            "8MiB",
            _size,
            "Largest request body taken by POST /ingest/v1/tracks (a batch of tracks).",
        )
    )
    login_body_limit: ByteSize = field(
        default_factory=Declared(
            "16KiB",
            _size,
            "Largest request body taken by POST /api/v1/auth/login (read before anyone is "
            "signed in, so kept small).",
        )
    )
    api_body_limit: ByteSize = field(
        default_factory=Declared(
            "1MiB",
            _size,
            "Largest request body taken by the rest of the operator API (/api/) and any other "
            "path of the node's ports.",
        )
    )

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_FILE

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"


def _declarations() -> tuple[Setting, ...]:
    found = []
    for spec in dataclasses.fields(Settings):
        declared = spec.metadata.get("declared") or spec.default_factory
        if not isinstance(declared, Declared):
            raise TypeError(f"Settings.{spec.name} is not declared with Declared")
        found.append(Setting(spec.name, declared))
    return tuple(found)


#: Every setting, in the order of :class:`Settings` and docs/settings.md.
SETTINGS: tuple[Setting, ...] = _declarations()
_BY_NAME = {s.name: s for s in SETTINGS}
_BY_ENV = {s.env: s for s in SETTINGS}

#: A node's own SQLite database, in its folder: the default ``database_url``.
SQLITE_IN_HOME = "sqlite:///{home}/hotline.db"


def default_database_url(home: Path) -> str:
    return SQLITE_IN_HOME.format(home=home)


def load_settings(environ: Mapping[str, str], home: Path | None = None) -> Settings:
    """Build the settings from ``environ``, the node's config file and the defaults, each
    parsed into its type.

    ``home`` (from a command-line option) wins over ``HOTLINE_HOME``. Raises InvalidInput
    naming the setting when a value is not what it should be, when a key of the config
    file names no setting or a ``HOTLINE_*`` variable looks like a misspelt one (the hint
    gives the nearest name), or when the config file cannot be read.
    """
    misspelt = _misspelt_variables(environ)
    if misspelt:
        raise InvalidInput(
            misspelt[0],
            "is not a setting (in the environment)",
            hint=f"did you mean {_nearest(misspelt[0], _BY_ENV)}?",
        )
    base = (home or Path(environ.get("HOTLINE_HOME") or DEFAULT_HOME)).expanduser().absolute()
    path = base / CONFIG_FILE
    stored = _read_config(path)
    _refuse_unknown(stored, _BY_NAME, str(path))
    if "home" in stored:
        raise InvalidInput(
            "home",
            f"cannot be set in {path}: it is the folder that file is in",
            hint="use --home or HOTLINE_HOME",
        )
    values: dict[str, object] = {}
    for setting in SETTINGS[1:]:
        if environ.get(setting.env):
            text, where = environ[setting.env], setting.env
        elif setting.name in stored:
            text, where = _scalar(stored[setting.name], setting.name, path), str(path)
        else:
            text, where = setting.default, "the default"
        values[setting.name] = _parse(setting, text, where)
    values["database_url"] = values["database_url"] or default_database_url(base)
    return Settings(home=base, **values)  # type: ignore[arg-type]


def _parse(setting: Setting, text: str, where: str) -> object:
    """``setting``'s value from ``text``; InvalidInput names the setting, the value, where
    it came from and what is expected."""
    try:
        return setting.declared.parse(text)
    except ValueError as exc:
        reason, hint = f"expected {exc}", None
    except InvalidInput as exc:
        prefix = exc.field + ": "
        reason = exc.message[len(prefix) :] if exc.message.startswith(prefix) else exc.message
        hint = exc.hint
    raise InvalidInput(setting.name, f"{text!r} from {where}: {reason}", hint=hint)


def _misspelt_variables(environ: Mapping[str, str]) -> list[str]:
    """``HOTLINE_*`` variables that are not settings but look like one misspelt (their
    names after ``HOTLINE_`` alike by :data:`LIKENESS`)."""
    return [
        name
        for name in environ
        if name.startswith(PREFIX)
        and name not in _BY_ENV
        and name not in OTHER_VARIABLES
        and not name.startswith(OTHER_PREFIXES)
        and _nearest(name, _BY_ENV) is not None
    ]


def _nearest(key: str, known: Mapping[str, Setting]) -> str | None:
    """The known name most like ``key`` (compared without ``HOTLINE_``), if any is alike."""
    bare = {name.removeprefix(PREFIX).lower(): name for name in known}
    found = difflib.get_close_matches(
        key.removeprefix(PREFIX).lower(), list(bare), n=1, cutoff=LIKENESS
    )
    return bare[found[0]] if found else None


def _refuse_unknown(keys: Iterable[str], known: Mapping[str, Setting], where: str) -> None:
    for key in keys:
        if key not in known:
            nearest = _nearest(key, known)
            raise InvalidInput(
                key,
                f"is not a setting (in {where})",
                hint=f"did you mean {nearest}?" if nearest else "see docs/settings.md",
            )


def _read_config(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(str(path), f"not a valid config file: {exc}") from exc


def _scalar(value: object, name: str, path: Path) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(
            name,
            f"{value!r} from {path}: expected text or a number",
            hint=f'write it as in the environment, e.g. {name} = "{_BY_NAME[name].default}"',
        )
    return str(value)


def update_config(path: Path, values: Mapping[str, str]) -> None:
    """Set ``values`` in the config file at ``path``, keeping what it holds already."""
    try:
        stored = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(str(path), f"cannot read the config file: {exc}") from exc
    write_config(path, {**{k: str(v) for k, v in stored.items()}, **values})


def write_config(path: Path, values: Mapping[str, str]) -> None:
    """Write a flat TOML file of string values (JSON string escapes are valid TOML)."""
    text = "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write("# hotline node configuration\n" + text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
