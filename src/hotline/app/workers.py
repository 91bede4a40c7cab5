"""The node's workers as the composition root builds them from a :class:`Node`: its
federation (delivery, catch-up, link tests), its e-mail path, its checkpoint round and
its track writers."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from hotline.app.node import Node, SystemClock, own_mail

if TYPE_CHECKING:  # imported when built (see hotline.app.node)
    import httpx

    from hotline.federation.checkpointing import CheckpointRound
    from hotline.federation.mailpath import MailPath
    from hotline.federation.workers import Federation
    from hotline.ingest.jetstream import TrackWriters


def federation(node: Node, http: httpx.Client) -> Federation:
    """The node's federation workers, talking to peers through ``http``."""
    from hotline.federation.workers import Federation, Timing

    settings = node.settings
    timing = Timing(
        batch=settings.delivery_batch,
        retry_max=settings.retry_max,
        linktest_interval=settings.linktest_interval,
        catchup_interval=settings.catchup_interval,
        clock_alert=settings.clock_skew_alert,
    )
    return Federation(
        party=node.party,
        writer=node.writer,
        peers=node.peers,
        receiver=node.receiver,
        http=http,
        timing=timing,
        outages=node.outages,
        latency=node.metrics.delivery_latency,
        request_signatures=settings.request_signatures,
        # waits between attempts on the monotonic clock, unless time is an exercise's
        monotonic=time.monotonic if isinstance(node.writer.clock, SystemClock) else None,
        mail=mail_path(node),
    )


def mail_path(node: Node) -> MailPath | None:
    """The node's e-mail path to its peers: out through ``smtp_url``, in from
    ``imap_url`` (None unless both are set)."""
    settings = node.settings
    address = own_mail(settings)
    if address is None:
        return None
    from hotline.domain.mail import parse_imap_url, parse_smtp_url
    from hotline.federation.mailpath import MailPath
    from hotline.outbound.smtp import send_mail

    return MailPath(
        party=node.party,
        address=address,
        writer=node.writer,
        peers=node.peers,
        receiver=node.receiver,
        smtp=parse_smtp_url(settings.smtp_url),
        send_mail=send_mail,
        imap=parse_imap_url(settings.imap_url),
    )


def checkpoint_round(node: Node, fed: Federation, http: httpx.Client) -> CheckpointRound:
    """The node's checkpoint round (sign, have peers cosign, show witnesses)."""
    from hotline.federation.checkpointing import CheckpointRound

    return CheckpointRound(fed, node.checkpoints, node.settings.witnesses, http)


def track_writers(node: Node, count: int | None = None) -> TrackWriters | None:
    """The party's track writers, not started: ``count`` of them (else the setting
    ``nats_consumers``), taking its tracks from JetStream (setting ``nats_url``) into the
    picture. None without ``nats_url``: tracks go straight to the picture."""
    settings = node.settings
    if not settings.nats_url:
        return None
    from hotline.ingest.jetstream import Names, TrackWriters

    sink = node.awareness.ingest
    return TrackWriters(
        settings.nats_url, Names.of_party(node.party), sink, count or settings.nats_consumers
    )
