"""Settings: one typed, frozen object, built once by ``app.py``.

Each setting is read from the environment first, then from the node's ``hotline.toml``
(written by ``hotline init``), then its default. :data:`SETTINGS` lists them all with
their documentation; ``docs/settings.md`` must describe every one (a test checks).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeAlias

from hotline.domain.errors import InvalidInput
from hotline.domain.precedence import parse_duration

CONFIG_FILE = "hotline.toml"
DEFAULT_HOME = Path.home() / ".hotline"


@dataclass(frozen=True)
class SettingDoc:
    name: str
    env: str
    default: str
    doc: str


SETTINGS: tuple[SettingDoc, ...] = (
    SettingDoc(
        "home",
        "HOTLINE_HOME",
        "~/.hotline",
        "The node's data folder: config, keys and (by default) the SQLite database.",
    ),
    SettingDoc(
        "party",
        "HOTLINE_PARTY",
        "(set by init)",
        "The party this node serves, e.g. US. Written by `hotline init`.",
    ),
    SettingDoc(
        "database_url",
        "HOTLINE_DATABASE_URL",
        "sqlite:///<home>/hotline.db",
        "SQLAlchemy URL of the node's database: SQLite or postgresql+psycopg://...",
    ),
    SettingDoc(
        "sqlite_synchronous",
        "HOTLINE_SQLITE_SYNCHRONOUS",
        "FULL",
        "SQLite's synchronous pragma. FULL survives power loss; NORMAL survives a "
        "crash of the process but may lose the last commits on power loss.",
    ),
    SettingDoc(
        "listen", "HOTLINE_LISTEN", "127.0.0.1:8100", "Where `hotline serve` listens (HOST:PORT)."
    ),
    SettingDoc(
        "request_skew",
        "HOTLINE_REQUEST_SKEW",
        "5m",
        "How far a peer's request time may be from ours before it is refused as stale.",
    ),
    SettingDoc(
        "request_signatures",
        "HOTLINE_REQUEST_SIGNATURES",
        "rfc9421",
        "How this node signs its requests to peers: rfc9421 (HTTP Message Signatures), or "
        "legacy for a peer still on the old scheme. Both are accepted from peers.",
    ),
    SettingDoc(
        "clock_skew_alert",
        "HOTLINE_CLOCK_SKEW_ALERT",
        "30s",
        "A peer's clock further than this from ours (measured from its signed answers) "
        "opens a clock alert.",
    ),
    SettingDoc(
        "refusal_limit",
        "HOTLINE_REFUSAL_LIMIT",
        "60",
        "Unauthenticated federation requests refused per client address and minute before "
        "that address is answered 429 without a look at its requests.",
    ),
    SettingDoc(
        "refusal_retention",
        "HOTLINE_REFUSAL_RETENTION",
        "90d",
        "How long refused requests and events are kept on record.",
    ),
    SettingDoc(
        "refusal_max_bytes",
        "HOTLINE_REFUSAL_MAX_BYTES",
        "64KiB",
        "The most bytes of a refused event kept as evidence; longer ones are cut.",
    ),
    SettingDoc(
        "linktest_interval",
        "HOTLINE_LINKTEST_INTERVAL",
        "1h",
        "Link test rounds on service lines; the parties take turns starting them.",
    ),
    SettingDoc(
        "catchup_interval",
        "HOTLINE_CATCHUP_INTERVAL",
        "10s",
        "How often the node compares chain heads with each peer and pulls what it lacks.",
    ),
    SettingDoc(
        "retry_max",
        "HOTLINE_RETRY_MAX",
        "30s",
        "Longest wait between delivery attempts to an unreachable peer (the wait doubles "
        "from 0.5 s up to this).",
    ),
    SettingDoc(
        "escalation_interval",
        "HOTLINE_ESCALATION_INTERVAL",
        "1s",
        "How often `hotline serve` runs the escalation scheduler (deadlines, resends, "
        "relays, alerts, expiring contact requests).",
    ),
    SettingDoc(
        "language",
        "HOTLINE_LANGUAGE",
        "en",
        "The operators' language: catalogue messages, notifications, the console (unless"
        " an operator chooses otherwise) and the after-action report are shown in it.",
    ),
    SettingDoc(
        "lead_times",
        "HOTLINE_LEAD_TIMES",
        "missile_launch=24h,naval_exercise=3d,strategic_exercise=14d",
        "Least notice per activity for a notification of intent; shorter notice must be "
        "confirmed by the sender, and is recorded.",
    ),
    SettingDoc(
        "machine_translator",
        "HOTLINE_MACHINE_TRANSLATOR",
        "",
        "Name of a machine translation plug-in (entry point group hotline.translators); "
        "empty: off.",
    ),
    SettingDoc(
        "territories",
        "HOTLINE_TERRITORIES",
        "",
        "Party -> countries for the border rules, e.g. RU=RU,BY;NATO=PL,LT,LV,EE. Empty: "
        "each party named like a country (RU, PL) or an alliance (NATO) gets its land.",
    ),
    SettingDoc(
        "corridors_km",
        "HOTLINE_CORRIDORS_KM",
        "30,50,100",
        "Corridors along another party's border, in km, for the proximity rule.",
    ),
    SettingDoc(
        "cpa_nm",
        "HOTLINE_CPA_NM",
        "5",
        "Closest point of approach that raises an alert, in nautical miles.",
    ),
    SettingDoc(
        "cpa_within",
        "HOTLINE_CPA_WITHIN",
        "3m",
        "How far ahead the closest point of approach is looked for.",
    ),
    SettingDoc(
        "zones_file",
        "HOTLINE_ZONES_FILE",
        "",
        "GeoJSON FeatureCollection of airspaces and caution areas (properties name, kind, "
        "party); a track of another party inside one raises an alert.",
    ),
    SettingDoc(
        "cot_listen",
        "HOTLINE_COT_LISTEN",
        "",
        "Where `hotline serve` listens for Cursor on Target (HOST:PORT, TCP and UDP). "
        "Empty: no listener.",
    ),
    SettingDoc(
        "cot_parties",
        "HOTLINE_COT_PARTIES",
        "",
        "CoT affiliation -> party for the listener, e.g. f=US,h=RU. Unmapped: no party.",
    ),
    SettingDoc(
        "cot_max_event",
        "HOTLINE_COT_MAX_EVENT",
        "64KiB",
        "Largest CoT event the listener takes: a TCP connection sending a larger one is "
        "closed, a larger datagram dropped (counted and logged).",
    ),
    SettingDoc(
        "cot_budget",
        "HOTLINE_COT_BUDGET",
        "1MiB",
        "Bytes one CoT sender (a TCP address; UDP: all senders together) may send per "
        "cot_budget_window; past it the listener stops reading until it has refilled.",
    ),
    SettingDoc(
        "cot_budget_window",
        "HOTLINE_COT_BUDGET_WINDOW",
        "1s",
        "The time window of cot_budget.",
    ),
    SettingDoc(
        "cot_idle_timeout",
        "HOTLINE_COT_IDLE_TIMEOUT",
        "5m",
        "A CoT connection that completes no event for this long is closed.",
    ),
    SettingDoc(
        "cot_slow_timeout",
        "HOTLINE_COT_SLOW_TIMEOUT",
        "10s",
        "A CoT connection that takes longer than this over one event is closed.",
    ),
    SettingDoc(
        "cot_max_connections",
        "HOTLINE_COT_MAX_CONNECTIONS",
        "32",
        "Most CoT connections open at once; further ones are closed as they come.",
    ),
    SettingDoc(
        "ingest_token",
        "HOTLINE_INGEST_TOKEN",
        "",
        "Bearer token for POST /ingest/v1/tracks on the node's HTTP port. Empty: off.",
    ),
    SettingDoc(
        "awareness_interval",
        "HOTLINE_AWARENESS_INTERVAL",
        "2s",
        "How often `hotline serve` runs the awareness rules on the live picture.",
    ),
    SettingDoc(
        "session_ttl",
        "HOTLINE_SESSION_TTL",
        "8h",
        "How long a console sign-in lasts (a watch).",
    ),
    SettingDoc(
        "delivery_batch",
        "HOTLINE_DELIVERY_BATCH",
        "200",
        "Most events pushed to a peer in one request.",
    ),
    SettingDoc(
        "metrics_token",
        "HOTLINE_METRICS_TOKEN",
        "",
        "Bearer token for GET /metrics (Prometheus) on the node's HTTP port. Empty: off.",
    ),
    SettingDoc(
        "log_format",
        "HOTLINE_LOG_FORMAT",
        "text",
        "How `hotline serve` logs: text, or json (one object per line).",
    ),
    SettingDoc(
        "clock_file",
        "HOTLINE_CLOCK_FILE",
        "",
        "Exercises and the demo only: the node reads its time from this file (a scenario "
        "clock several nodes share, run faster than real time). Empty: the system clock.",
    ),
    SettingDoc(
        "lease_ttl",
        "HOTLINE_LEASE_TTL",
        "10s",
        "How long a worker's lease on a background job (delivery, escalation, link tests, "
        "catch-up, awareness) lasts unless renewed: another worker or site takes the job "
        "over this long after its holder dies.",
    ),
    SettingDoc(
        "nats_url",
        "HOTLINE_NATS_URL",
        "",
        "NATS server with JetStream (nats://HOST:PORT) for track ingest: the API and the "
        "CoT listener publish tracks, rule workers store them. Empty: tracks go straight "
        "to the picture.",
    ),
    SettingDoc(
        "nats_consumers",
        "HOTLINE_NATS_CONSUMERS",
        "1",
        "Rule-worker threads `hotline serve` runs when nats_url is set.",
    ),
    SettingDoc(
        "tls_cert",
        "HOTLINE_TLS_CERT",
        "",
        "The node certificate (PEM), issued by the party CA; relative to the home folder. "
        "Set (with tls_key and tls_ca): `listen` serves HTTPS and asks every caller for a "
        "certificate from a pinned peer's CA or our own. Written by `hotline tls init`.",
    ),
    SettingDoc(
        "tls_key",
        "HOTLINE_TLS_KEY",
        "",
        "The node certificate's private key (PEM, mode 600); relative to the home folder.",
    ),
    SettingDoc(
        "tls_ca",
        "HOTLINE_TLS_CA",
        "",
        "The party CA certificate (PEM); relative to the home folder. Its key lies next to "
        "it (same name, .key) for `hotline tls issue`. Peer bundles carry it.",
    ),
    SettingDoc(
        "console_listen",
        "HOTLINE_CONSOLE_LISTEN",
        "",
        "Where `hotline serve` also serves the console, the REST API, /health, /ready, "
        "/metrics and /ingest (HOST:PORT), over HTTPS with the node certificate and without "
        "client certificates when the node has TLS; never the federation API. Empty: off.",
    ),
    SettingDoc(
        "federation_body_limit",
        "HOTLINE_FEDERATION_BODY_LIMIT",
        "16MiB",
        "Largest request body taken under /federation/ (a push of delivery_batch events); "
        "larger ones are refused with 413 before they are read. Bytes, or with KiB, MiB.",
    ),
    SettingDoc(
        "ingest_body_limit",
        "HOTLINE_INGEST_BODY_LIMIT",
        "8MiB",
        "Largest request body taken by POST /ingest/v1/tracks (a batch of tracks).",
    ),
    SettingDoc(
        "login_body_limit",
        "HOTLINE_LOGIN_BODY_LIMIT",
        "16KiB",
        "Largest request body taken by POST /api/v1/auth/login (read before anyone is "
        "signed in, so kept small).",
    ),
    SettingDoc(
        "api_body_limit",
        "HOTLINE_API_BODY_LIMIT",
        "1MiB",
        "Largest request body taken by the rest of the operator API (/api/) and any other "
        "path of the node's ports.",
    ),
)


#: A number of bytes; in the environment and the config file also ``64KiB``, ``16MiB``.
ByteSize: TypeAlias = int


@dataclass(frozen=True)
class Settings:
    home: Path
    party: str | None
    database_url: str
    sqlite_synchronous: str
    listen: str = "127.0.0.1:8100"
    request_skew: timedelta = timedelta(minutes=5)
    request_signatures: str = "rfc9421"
    clock_skew_alert: timedelta = timedelta(seconds=30)
    refusal_limit: int = 60
    refusal_retention: timedelta = timedelta(days=90)
    refusal_max_bytes: ByteSize = 65536
    linktest_interval: timedelta = timedelta(hours=1)
    catchup_interval: timedelta = timedelta(seconds=10)
    retry_max: timedelta = timedelta(seconds=30)
    escalation_interval: timedelta = timedelta(seconds=1)
    language: str = "en"
    lead_times: str = "missile_launch=24h,naval_exercise=3d,strategic_exercise=14d"
    machine_translator: str = ""
    territories: str = ""
    corridors_km: str = "30,50,100"
    cpa_nm: str = "5"
    cpa_within: timedelta = timedelta(minutes=3)
    zones_file: str = ""
    cot_listen: str = ""
    cot_parties: str = ""
    cot_max_event: ByteSize = 64 * 2**10
    cot_budget: ByteSize = 2**20
    cot_budget_window: timedelta = timedelta(seconds=1)
    cot_idle_timeout: timedelta = timedelta(minutes=5)
    cot_slow_timeout: timedelta = timedelta(seconds=10)
    cot_max_connections: int = 32
    ingest_token: str = ""
    awareness_interval: timedelta = timedelta(seconds=2)
    session_ttl: timedelta = timedelta(hours=8)
    delivery_batch: int = 200
    metrics_token: str = ""
    log_format: str = "text"
    clock_file: str = ""
    lease_ttl: timedelta = timedelta(seconds=10)
    nats_url: str = ""
    nats_consumers: int = 1
    tls_cert: str = ""
    tls_key: str = ""
    tls_ca: str = ""
    console_listen: str = ""
    federation_body_limit: ByteSize = 16 * 2**20
    ingest_body_limit: ByteSize = 8 * 2**20
    login_body_limit: ByteSize = 16 * 2**10
    api_body_limit: ByteSize = 2**20

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_FILE

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"


#: A node's own SQLite database, in its folder: the default ``database_url``.
SQLITE_IN_HOME = "sqlite:///{home}/hotline.db"


def default_database_url(home: Path) -> str:
    return SQLITE_IN_HOME.format(home=home)


def load_settings(environ: Mapping[str, str], home: Path | None = None) -> Settings:
    """Build the settings from ``environ``, the node's config file and the defaults.

    ``home`` (from a command-line option) wins over ``HOTLINE_HOME``. Raises InvalidInput
    when the config file cannot be read.
    """
    base = (home or Path(environ.get("HOTLINE_HOME") or DEFAULT_HOME)).expanduser().absolute()
    stored: dict[str, object] = {}
    path = base / CONFIG_FILE
    if path.exists():
        try:
            stored = tomllib.loads(path.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(str(path), f"not a valid config file: {exc}") from exc

    def pick(name: str, env: str, default: str | None) -> str | None:
        value = environ.get(env) or stored.get(name)
        return str(value) if value is not None else default

    values: dict[str, object] = {}
    for field in dataclasses.fields(Settings):
        if field.name == "home":
            continue
        doc = _DOCS[field.name]
        default = None if doc.default.startswith(("(", "sqlite:")) else doc.default
        text = pick(field.name, doc.env, default)
        if field.type == "timedelta":
            values[field.name] = _duration(text, field.name)
        elif field.type == "ByteSize":
            values[field.name] = _size(text, field.name)
        elif field.type == "int":
            values[field.name] = _count(text, field.name)
        else:
            values[field.name] = text
    values["database_url"] = values["database_url"] or default_database_url(base)
    values["sqlite_synchronous"] = str(values["sqlite_synchronous"] or "FULL").upper()
    if values["request_signatures"] not in ("rfc9421", "legacy"):
        raise InvalidInput(
            "request_signatures",
            f"{values['request_signatures']!r} is neither rfc9421 (the default) nor legacy",
        )
    return Settings(home=base, **values)  # type: ignore[arg-type]


_DOCS = {doc.name: doc for doc in SETTINGS}


def _duration(value: str | None, name: str) -> timedelta:
    return parse_duration(value or "", field=name)


_UNITS = {"": 1, "b": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "kb": 10**3, "mb": 10**6}


def _size(value: str | None, name: str) -> int:
    """A size in bytes: ``1048576``, ``64KiB``, ``16MiB``, ``1GiB`` (or kB, MB), from 1 KiB
    to 1 GiB."""
    text = (value or "").strip().replace(" ", "")
    number = text.rstrip("KMGiBkmgb")
    unit = text[len(number) :].lower()
    if not number.isdigit() or unit not in _UNITS:
        raise InvalidInput(name, f"{value!r} is not a size such as 65536, 64KiB or 16MiB")
    size = int(number) * _UNITS[unit]
    if not 2**10 <= size <= 2**30:
        raise InvalidInput(name, f"{value!r} is not a size from 1KiB to 1GiB")
    return size


def _count(value: str | None, name: str) -> int:
    if value is None or not value.isdigit() or not 1 <= int(value) <= 10_000:
        raise InvalidInput(name, f"{value!r} is not a number from 1 to 10000")
    return int(value)


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
