"""Composition root: builds the settings, the engine, the store and the services of a
node (:class:`Node`), or its record alone (:class:`Ledger`).

Nothing outside :mod:`hotline.app` wires components together, and nothing below it reads
the environment: ``open_node`` and ``init_node`` are given it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from hotline.config import SQLITE_IN_HOME, Settings, load_settings, write_config
from hotline.domain.clock import Clock, format_time
from hotline.domain.errors import AlreadyExists, InvalidInput, StorageUnavailable
from hotline.domain.identity import Party, parse_party_id
from hotline.domain.tracks import NM, Track
from hotline.services.checkpoints import Checkpoints
from hotline.services.writer import LedgerWriter
from hotline.storage.engine import (
    bookkeeping_engine,
    check_schema,
    close_writer,
    make_engine,
    upgrade,
)
from hotline.storage.keystore import KeyStore
from hotline.storage.peers import PeerStore
from hotline.storage.snapshots import SnapshotStore
from hotline.storage.store import Store
from hotline.storage.trees import TreeStore

if TYPE_CHECKING:  # the services, the HTTP apps, the peer transport and NATS: imported
    # when built, so that a command that only checks the record (see open_ledger) loads none
    from sqlalchemy import Engine

    from hotline.api.metrics import Metrics
    from hotline.domain.agreement import Agreement
    from hotline.ingest.jetstream import TrackPublisher
    from hotline.services.accounts import Accounts
    from hotline.services.agreements import Agreements
    from hotline.services.awareness import Awareness
    from hotline.services.catalogues import Catalogues
    from hotline.services.contacts import Contacts
    from hotline.services.directory import Directory
    from hotline.services.escalation import Escalations
    from hotline.services.evidence import Evidence
    from hotline.services.lines import Lines
    from hotline.services.messages import Messages
    from hotline.services.notices import Notices
    from hotline.services.outages import Outages
    from hotline.services.paging import Pager
    from hotline.services.peering import Peering
    from hotline.services.receiver import Receiver
    from hotline.services.refusals import Refusals
    from hotline.services.relays import Relays
    from hotline.services.rollcalls import RollCalls
    from hotline.services.translations import Translations
    from hotline.services.watch import Watch
    from hotline.storage.history import HistoryStore
    from hotline.storage.library import Library


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def clock_of(settings: Settings) -> Clock:
    """The system clock, or the shared scenario clock of an exercise (``clock_file``)."""
    if settings.clock_file:
        from hotline.exercise.clock import FileClock

        return FileClock(settings.clock_file)
    return SystemClock()


@dataclass
class Node:
    """A node's services, wired."""

    settings: Settings
    party: str
    store: Store
    writer: LedgerWriter
    directory: Directory
    lines: Lines
    messages: Messages
    peers: PeerStore
    receiver: Receiver
    peering: Peering
    escalations: Escalations
    contacts: Contacts
    relays: Relays
    library: Library
    catalogues: Catalogues
    notices: Notices
    translations: Translations
    watch: Watch
    pager: Pager
    rollcalls: RollCalls
    agreements: Agreements
    language: str
    make_awareness: Callable[[], Awareness]  # built when first asked for (geometry is heavy)
    accounts: Accounts
    outages: Outages
    metrics: Metrics
    refusals: Refusals
    checkpoints: Checkpoints
    evidence: Evidence
    history: HistoryStore
    snapshots: SnapshotStore  # workers' state, to resume from after a restart
    ledger: Ledger  # the record and what checks it, as open_ledger gives it
    publisher: TrackPublisher | None = None  # with nats_url: tracks go through JetStream

    @cached_property
    def awareness(self) -> Awareness:
        """The situational-awareness engine, built on first use: a command that never
        looks at tracks does not load the geometry libraries."""
        return self.make_awareness()

    def ingest(self, batch: Sequence[Track]) -> int:
        """Tracks into the picture (with ``nats_url``: onto JetStream, for the track
        writers to store), counted for the metrics."""
        sink = self.publisher or self.awareness.ingest
        taken = sink(batch)
        self.metrics.ingested.inc(len(batch))
        return taken

    def close(self) -> None:
        if self.publisher is not None:
            self.publisher.close()
        for engine in (self.store.engine, self.peers.engine):
            close_writer(engine)
            engine.dispose()


def database_engine(settings: Settings, url: str | None = None) -> Engine:
    """The engine of the node's database (setting ``database_url``; ``url``: another one,
    as a restore into a new database gives), opened as the node opens it."""
    return make_engine(url or settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)


@dataclass
class Ledger:
    """A node's record and what checks it, without the services: for commands that only
    read and verify the record (``hotline verify``), which then load none of them."""

    settings: Settings
    party: str
    store: Store
    writer: LedgerWriter
    peers: PeerStore  # bookkeeping: cursors, nonces, link state, halts' alerts
    snapshots: SnapshotStore
    checkpoints: Checkpoints

    def close(self) -> None:
        for engine in (self.store.engine, self.peers.engine):
            close_writer(engine)
            engine.dispose()


def _ledger(
    settings: Settings, party: str, clock: Clock, random: Callable[[int], bytes] = os.urandom
) -> Ledger:
    engine = database_engine(settings)
    store = Store(engine)
    writer = LedgerWriter(store, KeyStore(settings.keys_dir), clock, random)
    bookkeeping = bookkeeping_engine(engine)  # cursors, nonces, link state: not the record
    peers = PeerStore(bookkeeping)
    checkpoints = Checkpoints(
        writer,
        TreeStore(engine),
        peers,
        party,
        every=settings.checkpoint_interval,
        every_events=settings.checkpoint_events,
        post_quantum=settings.checkpoint_pq,
    )
    return Ledger(settings, party, store, writer, peers, SnapshotStore(bookkeeping), checkpoints)


def _wire(settings: Settings, party: str, clock: Clock, random: Callable[[int], bytes]) -> Node:
    from hotline.api.metrics import Metrics
    from hotline.services.accounts import Accounts
    from hotline.services.agreements import Agreements
    from hotline.services.catalogues import Catalogues
    from hotline.services.contacts import Contacts
    from hotline.services.directory import Directory
    from hotline.services.escalation import Escalations
    from hotline.services.evidence import Evidence
    from hotline.services.lines import Lines
    from hotline.services.messages import Messages
    from hotline.services.notices import Notices
    from hotline.services.outages import Outages
    from hotline.services.peering import Peering
    from hotline.services.receiver import Receiver
    from hotline.services.refusals import Refusals
    from hotline.services.relays import Relays
    from hotline.services.rollcalls import RollCalls
    from hotline.services.sealing import Opener
    from hotline.services.translations import Translations
    from hotline.services.watch import Watch
    from hotline.storage.accounts import AccountStore
    from hotline.storage.evidence import EvidenceStore
    from hotline.storage.history import HistoryStore
    from hotline.storage.library import Library

    ledger = _ledger(settings, party, clock, random)
    store, writer, peers, snapshots, checkpoints = (
        ledger.store,
        ledger.writer,
        ledger.peers,
        ledger.snapshots,
        ledger.checkpoints,
    )
    engine = store.engine
    bookkeeping = peers.engine
    directory = Directory(writer, random)
    refusals = Refusals(
        peers,
        clock,
        limit=settings.refusal_limit,
        retention=settings.refusal_retention,
        max_bytes=settings.refusal_max_bytes,
    )
    library = Library(engine)
    messages = Messages(writer, directory, library)
    watch = Watch(writer, directory, library)
    agreements = Agreements(writer, directory, party)
    notices = Notices(messages, settings.lead_times, agreements.lead_times)
    evidence = Evidence(writer, EvidenceStore(engine), party)
    history = HistoryStore(bookkeeping)

    def keep(batch: Sequence[Track]) -> object:
        """What becomes of every batch besides the picture: history and evidence."""
        if settings.history:
            history.append(batch)
        if settings.evidence:
            evidence.capture(batch, writer.now())
        return None

    return Node(
        settings=settings,
        party=party,
        store=store,
        writer=writer,
        directory=directory,
        lines=Lines(writer, directory, party),
        messages=messages,
        peers=peers,
        receiver=Receiver(
            writer,
            peers,
            party,
            settings.request_skew,
            library,
            refusals,
            roots=checkpoints.receipt_root,
        ),
        peering=Peering(
            writer,
            peers,
            party,
            own_mail(settings),
            settings.language,
        ),
        escalations=Escalations(writer, directory, peers, party, snapshots),
        contacts=Contacts(writer, directory),
        relays=Relays(writer, directory, Opener(writer, party)),
        library=library,
        catalogues=Catalogues(
            writer,
            directory,
            messages,
            library,
            party,
            settings.language,
            lambda: {p.party: p.language for p in peers.peers()},
        ),
        notices=notices,
        translations=Translations(writer, directory, settings.machine_translator or None),
        watch=watch,
        pager=_pager(settings, party, writer, watch, peers),
        rollcalls=RollCalls(writer, directory, watch, party, settings.roll_call_window),
        agreements=agreements,
        language=settings.language,
        make_awareness=lambda: _awareness(
            settings,
            party,
            bookkeeping,
            notices,
            keep if settings.evidence or settings.history else None,
            agreements.all,
        ),
        accounts=Accounts(store, AccountStore(bookkeeping), clock, settings.session_ttl),
        outages=Outages(clock),
        metrics=Metrics(),
        refusals=refusals,
        checkpoints=checkpoints,
        evidence=evidence,
        history=history,
        snapshots=snapshots,
        ledger=ledger,
        publisher=_publisher(settings.nats_url, party),
    )


def _awareness(
    settings: Settings,
    party: str,
    bookkeeping: Engine,
    notices: Notices,
    capture: Callable[[Sequence[Track]], object] | None,
    agreements: Callable[[], Sequence[tuple[Agreement, Sequence[str]]]] | None = None,
) -> Awareness:
    """The awareness engine as the settings describe it, over the picture's tables."""
    from hotline.services.awareness import Awareness
    from hotline.storage.picture import PictureStore

    return Awareness(
        PictureStore(bookkeeping),
        notices,
        party,
        settings.territories or None,
        corridors=tuple(km * 1000 for km in settings.corridors_km),
        zones_file=settings.zones_file,
        cpa_m=settings.cpa_nm * NM,
        cpa_s=settings.cpa_within.total_seconds(),
        capture=capture,
        agreements=agreements,
    )


def _pager(
    settings: Settings,
    party: str,
    writer: LedgerWriter,
    watch: Watch,
    peers: PeerStore,
) -> Pager:
    """The pager, sending e-mail through ``smtp_url`` (if set) and webhooks with httpx."""
    from functools import partial

    from hotline.domain.mail import parse_smtp_url
    from hotline.outbound.smtp import send_mail
    from hotline.outbound.webhooks import WebhookClient
    from hotline.services.paging import Pager
    from hotline.storage.paging import PagingStore

    return Pager(
        writer,
        watch,
        peers,
        PagingStore(peers.engine),
        party,
        send_mail=partial(send_mail, parse_smtp_url(settings.smtp_url))
        if settings.smtp_url
        else None,
        post=WebhookClient().post,
        mail_from=settings.mail_from,
        language=settings.language,
        console_url=settings.console_url,
    )


def _publisher(nats_url: str, party: str) -> TrackPublisher | None:
    """With ``nats_url``, the publisher of the party's tracks onto JetStream."""
    if not nats_url:
        return None
    from hotline.ingest.jetstream import TrackPublisher

    return TrackPublisher.for_party(nats_url, party)


def own_mail(settings: Settings) -> str | None:
    """The address of the node's e-mail path: ``mail_from`` when ``smtp_url`` and
    ``imap_url`` are set (None otherwise). InvalidInput when it is still the default,
    which no peer can send to."""
    if not (settings.smtp_url and settings.imap_url):
        return None
    if settings.mail_from.endswith("@localhost"):
        raise InvalidInput(
            "mail_from",
            f"{settings.mail_from!r} is no address a peer can send to",
            hint="with imap_url set, mail_from is the node's e-mail path: the address "
            "whose mail imap_url reads",
        )
    return settings.mail_from


def open_node(
    environ: Mapping[str, str], home: Path | None = None, *, clock: Clock | None = None
) -> Node:
    """Open an initialised node. Raises StorageUnavailable if there is none at ``home``."""
    settings, party = _settings_of_node(load_settings(environ, home))
    node = _wire(settings, party, clock or clock_of(settings), os.urandom)
    _check_opened(node.store, settings)
    return node


def open_ledger(
    environ: Mapping[str, str], home: Path | None = None, *, clock: Clock | None = None
) -> Ledger:
    """Open an initialised node's record, and only that (see :class:`Ledger`). Raises
    StorageUnavailable if there is no node at ``home``."""
    settings, party = _settings_of_node(load_settings(environ, home))
    ledger = _ledger(settings, party, clock or clock_of(settings))
    try:
        _check_opened(ledger.store, settings)
    except BaseException:
        ledger.close()
        raise
    return ledger


def _settings_of_node(settings: Settings) -> tuple[Settings, str]:
    """``settings`` and the party they name, once they are known to be an initialised
    node's."""
    if not settings.config_path.exists() or not settings.party:
        raise StorageUnavailable(
            f"no hotline node at {settings.home}",
            hint="create one with `hotline init --party US`, or point --home / HOTLINE_HOME "
            "at an existing node",
        )
    return settings, settings.party


def _check_opened(store: Store, settings: Settings) -> None:
    """Raise StorageUnavailable unless ``store`` is at this hotline's schema and holds
    the node of the party the settings name."""
    check_schema(store.engine)
    stored_party = store.info("party")
    if stored_party != settings.party:
        raise StorageUnavailable(
            f"the database belongs to party {stored_party}, but the config says {settings.party}",
            hint=f"check {settings.config_path}",
        )


def init_node(
    environ: Mapping[str, str],
    home: Path | None,
    party: str,
    name: str,
    *,
    database_url: str | None = None,
    clock: Clock | None = None,
    random: Callable[[int], bytes] = os.urandom,
) -> Node:
    """Create a node: data folder, config, database schema, node key, own party."""
    party_id = parse_party_id(party)
    settings = load_settings(environ, home)
    if settings.config_path.exists():
        raise AlreadyExists(
            f"a node already exists at {settings.home}",
            hint="use it, or choose another folder with --home",
        )
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    values = {"party": party_id}
    chosen = database_url or settings.database_url
    if chosen != SQLITE_IN_HOME.format(home=settings.home):
        # kept: a later command without HOTLINE_DATABASE_URL opens this node's database,
        # not an empty one in the folder
        values["database_url"] = chosen
    settings = dataclasses.replace(settings, party=party_id, database_url=chosen)
    node = _wire(settings, party_id, clock or clock_of(settings), random)
    upgrade(node.store.engine)
    holder = node.store.info("party")
    if holder is not None:
        raise AlreadyExists(
            f"the database already holds the node of {holder}",
            hint="give a new database with --database",
        )
    keystore = node.writer.keystore
    node_key = keystore.create(party_id, random(32))
    try:
        with node.store.write() as tx:
            tx.set_info("party", party_id)
            tx.add_party(
                Party(
                    id=party_id,
                    name=name.strip() or party_id,
                    hosted=True,
                    node_key=node_key.public,
                ),
                format_time(node.writer.now()),
            )
    except BaseException:
        keystore.discard(party_id)
        raise
    write_config(settings.config_path, values)
    return node
