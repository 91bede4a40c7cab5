"""The settings a node has, each declared once as a field of :class:`Settings` (its
default as the environment writes it, its parser, its documentation); :data:`SETTINGS`
lists them in that order."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from hotline.config.declare import (
    CONFIG_FILE,
    ByteSize,
    Declared,
    HostPort,
    LogFormat,
    Setting,
    as_count,
    as_duration,
    as_host_port,
    as_imap_url,
    as_kilometres,
    as_lead_times,
    as_log_format,
    as_mail_address,
    as_nautical_miles,
    as_party,
    as_path,
    as_signatures,
    as_size,
    as_smtp_url,
    as_switch,
    as_synchronous,
    as_territories,
    as_text,
    as_witnesses,
    parse_affiliations,
)
from hotline.domain.intent import Activity
from hotline.domain.language import parse_lang
from hotline.domain.proofs import WitnessRef


def _declared(default: str, parse: Callable[[str], object], doc: str, shown: str) -> Any:
    """Metadata of a field without a default in the type (``load_settings`` derives it)."""
    return {"declared": Declared(default, parse, doc, shown)}


@dataclass(frozen=True)
class Settings:
    """A node's settings, each parsed into its type (see :func:`load_settings`)."""

    home: Path = field(
        metadata=_declared(
            "~/.hotline",
            as_path,
            "The node's data folder: config, keys and (by default) the SQLite database.",
            "`~/.hotline`",
        )
    )
    party: str | None = field(
        metadata=_declared(
            "",
            as_party,
            "The party this node serves, e.g. US. Written by `hotline init`.",
            "set by `init`",
        )
    )
    database_url: str = field(
        metadata=_declared(
            "",
            as_text,
            "SQLAlchemy URL of the node's database: SQLite or postgresql+psycopg://...",
            "`sqlite:///<home>/hotline.db`",
        )
    )
    sqlite_synchronous: str = field(
        default_factory=Declared(
            "FULL",
            as_synchronous,
            "SQLite's synchronous pragma. FULL survives power loss; NORMAL survives a "
            "crash of the process but may lose the last commits on power loss.",
        )
    )
    listen: HostPort = field(
        default_factory=Declared(
            "127.0.0.1:8100", as_host_port, "Where `hotline serve` listens (HOST:PORT)."
        )
    )
    request_skew: timedelta = field(
        default_factory=Declared(
            "5m",
            as_duration,
            "How far a peer's request time may be from ours before it is refused as stale.",
        )
    )
    request_signatures: str = field(
        default_factory=Declared(
            "rfc9421",
            as_signatures,
            "How this node signs its requests to peers: rfc9421 (HTTP Message Signatures), or "
            "legacy for a peer still on the old scheme. Both are accepted from peers.",
        )
    )
    clock_skew_alert: timedelta = field(
        default_factory=Declared(
            "30s",
            as_duration,
            "A peer's clock further than this from ours (measured from its signed answers) "
            "opens a clock alert.",
        )
    )
    refusal_limit: int = field(
        default_factory=Declared(
            "60",
            as_count,
            "Unauthenticated federation requests refused per client address and minute before "
            "that address is answered 429 without a look at its requests.",
        )
    )
    refusal_retention: timedelta = field(
        default_factory=Declared(
            "90d", as_duration, "How long refused requests and events are kept on record."
        )
    )
    refusal_max_bytes: ByteSize = field(
        default_factory=Declared(
            "64KiB",
            as_size,
            "The most bytes of a refused event kept as evidence; longer ones are cut.",
        )
    )
    linktest_interval: timedelta = field(
        default_factory=Declared(
            "1h",
            as_duration,
            "Link test rounds on service lines; the parties take turns starting them.",
        )
    )
    catchup_interval: timedelta = field(
        default_factory=Declared(
            "10s",
            as_duration,
            "How often the node compares chain heads with each peer and pulls what it lacks.",
        )
    )
    retry_max: timedelta = field(
        default_factory=Declared(
            "30s",
            as_duration,
            "Longest wait between delivery attempts to an unreachable peer (the wait doubles "
            "from 0.5 s up to this).",
        )
    )
    escalation_interval: timedelta = field(
        default_factory=Declared(
            "1s",
            as_duration,
            "How often `hotline serve` runs the escalation scheduler (deadlines, resends, "
            "relays, alerts, expiring contact requests).",
        )
    )
    language: str = field(
        default_factory=Declared(
            "en",
            parse_lang,
            "The operators' language, which their party writes: catalogue messages, "
            "notifications, pages, the console (unless an operator chooses otherwise) and the "
            "after-action report are shown in it (en, ru, zh and ko are translated). The "
            "node's peer bundle carries it: a catalogue adopted on a line must have it.",
        )
    )
    lead_times: Mapping[Activity, timedelta] = field(
        default_factory=Declared(
            "missile_launch=24h,naval_exercise=3d,strategic_exercise=14d",
            as_lead_times,
            "Least notice per activity for a notification of intent; shorter notice must be "
            "confirmed by the sender, and is recorded.",
        )
    )
    machine_translator: str = field(
        default_factory=Declared(
            "",
            as_text,
            "Name of a machine translation plug-in (entry point group hotline.translators); "
            "empty: off.",
        )
    )
    territories: Mapping[str, tuple[str, ...]] = field(
        default_factory=Declared(
            "",
            as_territories,
            "Party -> countries for the border rules, e.g. RU=RU,BY;NATO=PL,LT,LV,EE. Empty: "
            "each party named like a country (RU, PL) or an alliance (NATO) gets its land.",
        )
    )
    corridors_km: tuple[float, ...] = field(
        default_factory=Declared(
            "30,50,100",
            as_kilometres,
            "Corridors along another party's border, in km, for the proximity rule.",
        )
    )
    cpa_nm: float = field(
        default_factory=Declared(
            "5",
            as_nautical_miles,
            "Closest point of approach that raises an alert, in nautical miles.",
        )
    )
    cpa_within: timedelta = field(
        default_factory=Declared(
            "3m", as_duration, "How far ahead the closest point of approach is looked for."
        )
    )
    zones_file: Path | None = field(
        default_factory=Declared(
            "",
            as_path,
            "GeoJSON FeatureCollection of airspaces and caution areas (properties name, kind, "
            "party); a track of another party inside one raises an alert.",
        )
    )
    cot_listen: HostPort = field(
        default_factory=Declared(
            "",
            as_host_port,
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
            as_size,
            "Largest CoT event the listener takes: a TCP connection sending a larger one is "
            "closed, a larger datagram dropped (counted and logged).",
        )
    )
    cot_budget: ByteSize = field(
        default_factory=Declared(
            "1MiB",
            as_size,
            "Bytes one CoT sender (a TCP address; UDP: all senders together) may send per "
            "cot_budget_window; past it the listener stops reading until it has refilled.",
        )
    )
    cot_budget_window: timedelta = field(
        default_factory=Declared("1s", as_duration, "The time window of cot_budget.")
    )
    cot_idle_timeout: timedelta = field(
        default_factory=Declared(
            "5m", as_duration, "A CoT connection that completes no event for this long is closed."
        )
    )
    cot_slow_timeout: timedelta = field(
        default_factory=Declared(
            "10s",
            as_duration,
            "A CoT connection that takes longer than this over one event is closed.",
        )
    )
    cot_max_connections: int = field(
        default_factory=Declared(
            "32",
            as_count,
            "Most CoT connections open at once; further ones are closed as they come.",
        )
    )
    ingest_token: str = field(
        default_factory=Declared(
            "",
            as_text,
            "Bearer token for POST /ingest/v1/tracks on the node's HTTP port. Empty: off.",
        )
    )
    awareness_interval: timedelta = field(
        default_factory=Declared(
            "2s",
            as_duration,
            "How often `hotline serve` runs the awareness rules on the live picture.",
        )
    )
    session_ttl: timedelta = field(
        default_factory=Declared("8h", as_duration, "How long a console sign-in lasts (a watch).")
    )
    delivery_batch: int = field(
        default_factory=Declared("200", as_count, "Most events pushed to a peer in one request.")
    )
    metrics_token: str = field(
        default_factory=Declared(
            "",
            as_text,
            "Bearer token for GET /metrics (Prometheus) on the node's HTTP port. Empty: off.",
        )
    )
    log_format: LogFormat = field(
        default_factory=Declared(
            "text",
            as_log_format,
            "How `hotline serve` logs: text, or json (one object per line).",
        )
    )
    access_log: bool = field(
        default_factory=Declared(
            "on",
            as_switch,
            "Whether `hotline serve` logs one line per HTTP request: on or off.",
        )
    )
    clock_file: Path | None = field(
        default_factory=Declared(
            "",
            as_path,
            "Exercises and the demo only: the node reads its time from this file (a scenario "
            "clock several nodes share, run faster than real time). Empty: the system clock.",
        )
    )
    lease_ttl: timedelta = field(
        default_factory=Declared(
            "10s",
            as_duration,
            "How long a worker's lease on a background job (delivery, escalation, link tests, "
            "catch-up, awareness) lasts unless renewed: another worker or site takes the job "
            "over this long after its holder dies.",
        )
    )
    nats_url: str = field(
        default_factory=Declared(
            "",
            as_text,
            "NATS server with JetStream (nats://HOST:PORT) for track ingest: the API and the "
            "CoT listener publish tracks, track writers store them. Empty: tracks go straight "
            "to the picture.",
        )
    )
    nats_consumers: int = field(
        default_factory=Declared(
            "1", as_count, "Rule-worker threads `hotline serve` runs when nats_url is set."
        )
    )
    tls_cert: str = field(
        default_factory=Declared(
            "",
            as_text,
            "The node certificate (PEM), issued by the party CA; relative to the home folder. "
            "Set (with tls_key and tls_ca): `listen` serves HTTPS and asks every caller for a "
            "certificate from a pinned peer's CA or our own. Written by `hotline tls init`.",
        )
    )
    tls_key: str = field(
        default_factory=Declared(
            "",
            as_text,
            "The node certificate's private key (PEM, mode 600); relative to the home folder.",
        )
    )
    tls_ca: str = field(
        default_factory=Declared(
            "",
            as_text,
            "The party CA certificate (PEM); relative to the home folder. Its key lies next to "
            "it (same name, .key) for `hotline tls issue`. Peer bundles carry it.",
        )
    )
    console_listen: HostPort = field(
        default_factory=Declared(
            "",
            as_host_port,
            "Where `hotline serve` also serves the console, the REST API, /health, /ready, "
            "/metrics and /ingest (HOST:PORT), over HTTPS with the node certificate and without "
            "client certificates when the node has TLS; never the federation API. Empty: off.",
        )
    )
    federation_body_limit: ByteSize = field(
        default_factory=Declared(
            "16MiB",
            as_size,
            "Largest request body taken under /federation/ (a push of delivery_batch events); "
            "larger ones are refused with 413 before they are read. Bytes, or with KiB, MiB.",
        )
    )
    ingest_body_limit: ByteSize = field(
        default_factory=Declared(
            "8MiB",
            as_size,
            "Largest request body taken by POST /ingest/v1/tracks (a batch of tracks).",
        )
    )
    login_body_limit: ByteSize = field(
        default_factory=Declared(
            "16KiB",
            as_size,
            "Largest request body taken by POST /api/v1/auth/login (read before anyone is "
            "signed in, so kept small).",
        )
    )
    api_body_limit: ByteSize = field(
        default_factory=Declared(
            "1MiB",
            as_size,
            "Largest request body taken by the rest of the operator API (/api/) and any other "
            "path of the node's ports.",
        )
    )

    checkpoint_interval: timedelta = field(
        default_factory=Declared(
            "1m",
            as_duration,
            "How often `hotline serve` signs a checkpoint of each chain of this node that "
            "has grown (and offers it to the peer to cosign, and to the witnesses).",
        )
    )
    checkpoint_events: int = field(
        default_factory=Declared(
            "1000",
            as_count,
            "A checkpoint is signed sooner when a chain has grown by this many events.",
        )
    )
    checkpoint_pq: bool = field(
        default_factory=Declared(
            "off",
            as_switch,
            "Whether checkpoints also carry an ML-DSA-65 (post-quantum) signature: on or off.",
        )
    )
    history: bool = field(
        default_factory=Declared(
            "on",
            as_switch,
            "Whether every position received is kept as track history (for replay): on or off.",
        )
    )
    history_keep: timedelta = field(
        default_factory=Declared(
            "30d", as_duration, "How long track history is kept (older days are dropped)."
        )
    )
    history_thin_after: timedelta = field(
        default_factory=Declared(
            "24h",
            as_duration,
            "Track history older than this is thinned to one position per track per "
            "`history_thin_interval`.",
        )
    )
    history_thin_interval: timedelta = field(
        default_factory=Declared(
            "60s",
            as_duration,
            "What thinned history keeps: the first position of each track in each such interval.",
        )
    )
    evidence: bool = field(
        default_factory=Declared(
            "on",
            as_switch,
            "Whether positions of another party's tracks are committed each minute as "
            "evidence on the line shared with it: on or off.",
        )
    )
    evidence_keep: timedelta = field(
        default_factory=Declared(
            "90d",
            as_duration,
            "How long committed positions are kept to be disclosed (each minute's root "
            "stays on the record).",
        )
    )
    witnesses: tuple[WitnessRef, ...] = field(
        default_factory=Declared(
            "",
            as_witnesses,
            "Witnesses this node submits its checkpoints to: `NAME=URL=KEY` entries, "
            "comma-separated (KEY: the witness's public key).",
        )
    )

    paging_interval: timedelta = field(
        default_factory=Declared(
            "5s",
            as_duration,
            "How often `hotline serve` looks for what waits at the desks and pages the "
            "watch (the paging plan: `hotline page plan`).",
        )
    )
    roll_call_window: timedelta = field(
        default_factory=Declared(
            "5m",
            as_duration,
            "How long the other party's desk has to answer a roll call this node asks "
            "(the roll-call times are in a service line's terms).",
        )
    )
    smtp_url: str = field(
        default_factory=Declared(
            "",
            as_smtp_url,
            "SMTP submission server for pages by e-mail: `smtp://[USER:PASSWORD@]HOST:587` "
            "(STARTTLS when offered; `?starttls=required` or `off`), or "
            "`smtps://USER:PASSWORD@HOST:465`. Empty: no e-mail pages.",
        )
    )
    mail_from: str = field(
        default_factory=Declared(
            "hotline@localhost",
            as_mail_address,
            "The From address of the e-mail the node sends (pages, and federation batches "
            "on the e-mail path). With `imap_url` set it is also the node's e-mail path: "
            "its bundle names it, and peers send their batches to it.",
        )
    )
    imap_url: str = field(
        default_factory=Declared(
            "",
            as_imap_url,
            "The node's mailbox for the e-mail path between nodes, read with IMAP IDLE: "
            "`imap://USER:PASSWORD@HOST:143/INBOX` (STARTTLS when offered; "
            "`?starttls=required` or `off`), or `imaps://…:993`. It must receive the mail "
            "sent to `mail_from`; the path also needs `smtp_url`. Empty: HTTPS only.",
        )
    )
    console_url: str = field(
        default_factory=Declared(
            "",
            as_text,
            "The console's address as operators reach it (e.g. `https://hotline.example:8443`), "
            "for the link in each page. Empty: pages carry no link.",
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
