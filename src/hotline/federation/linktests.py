"""Link tests on the service lines: on a schedule (real hotlines: hourly), the parties
taking turns, the initiator pings every path of the peer (each HTTPS URL, and the e-mail
path when both nodes have one) and records one signed ``linktest`` event with each
path's result and round-trip time; the link state (up, degraded, down) is kept, and an
alert is open while it is not up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from hotline.domain.clock import format_time
from hotline.domain.errors import PeerUnavailable
from hotline.domain.events import Event, EventKind
from hotline.domain.linktest import LinkState, PathResult, is_due, linktest_content, state_of
from hotline.domain.policy import Line, LineKind, LineState, LineStatus
from hotline.federation.client import PeerClient
from hotline.federation.mailpath import MailPath
from hotline.services.writer import LedgerWriter
from hotline.storage.peers import Peer, PeerStore
from hotline.storage.transaction import WriteTx


class LinkTests:
    def __init__(
        self,
        *,
        party: str,
        writer: LedgerWriter,
        peers: PeerStore,
        shared: Callable[[], list[tuple[Peer, LineState]]],
        client: Callable[[Peer], PeerClient],
        mail: MailPath | None,
        interval: Callable[[], timedelta],
    ) -> None:
        """``shared``: the lines shared with pinned peers; ``client``: a peer's HTTPS
        client; ``mail``: the e-mail path (None: none); ``interval``: between rounds."""
        self.party = party
        self.writer = writer
        self.peers = peers
        self.shared = shared
        self.client = client
        self.mail = mail
        self.interval = interval

    def once(self, now: datetime | None = None) -> list[tuple[str, LinkState]]:
        """Run the link tests that are due: on each active service line where this node
        starts the current round, ping every path of the peer and record the result."""
        moment = now or self.writer.now()
        done = []
        states = self.peers.link_states()
        for peer, state in self.shared():
            if state.line.kind is not LineKind.SERVICE or state.status is not LineStatus.ACTIVE:
                continue
            due = is_due(
                now=moment,
                interval=self.interval(),
                parties=state.line.parties,
                own=self.party,
                last_round=states.get(peer.party, {}).get("round"),
            )
            if due is None:
                continue
            paths = self._ping(peer, state.line.id)
            content = linktest_content(peer.party, due, paths)
            self.writer.transact(partial(self._record, state.line, content, moment))
            link = state_of(paths)
            at = format_time(moment)
            self.peers.set_link_state(
                peer.party, link.value, due, at, {"by": self.party, "paths": content["paths"]}
            )
            alert_key = f"link:{peer.party}"
            if link is LinkState.UP:
                self.peers.close_alert(alert_key, at)
            else:
                failed = ", ".join(p.url for p in paths if not p.ok)
                self.peers.open_alert(
                    alert_key,
                    "link",
                    f"link to {peer.party} {link.value}",
                    f"round {due}: no answer on {failed}",
                    at,
                )
            states[peer.party] = {"round": due}
            done.append((peer.party, link))
        return done

    def _ping(self, peer: Peer, line: str) -> list[PathResult]:
        """Each path of ``peer``: its URLs, then its e-mail path, tested as far as the
        mail server taking a batch that carries nothing."""
        paths = []
        for url in peer.urls:
            try:
                rtt = self.client(peer).ping(url)
                paths.append(PathResult(url, True, round(rtt * 1000, 2)))
            except PeerUnavailable as exc:
                paths.append(PathResult(url, False, None, exc.message[:200]))
        if self.mail is not None and peer.mail:
            path = f"mailto:{peer.mail}"
            try:
                rtt = self.mail.send(peer, line, [])
                paths.append(PathResult(path, True, round(rtt * 1000, 2)))
            except PeerUnavailable as exc:
                paths.append(PathResult(path, False, None, exc.message[:200]))
        return paths

    def _record(self, line: Line, content: dict[str, Any], moment: datetime, tx: WriteTx) -> Event:
        """One round's link test, signed by this node on the service line."""
        own = frozenset({self.party})
        return self.writer.append(
            tx, line, EventKind.LINKTEST, self.party, content, hosted=own, now=moment
        )
