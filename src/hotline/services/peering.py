"""Peering: export this node's signed bundle, import (pin) another party's."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from hotline.domain.clock import format_time
from hotline.domain.errors import AlreadyExists, InvalidInput, Refused
from hotline.domain.identity import Party
from hotline.domain.peering import PeerBundle, make_bundle, open_bundle, parse_url
from hotline.services.writer import LedgerWriter
from hotline.storage.peers import PeerStore
from hotline.storage.transaction import WriteTx

URLS_KEY = "urls"


class Peering:
    def __init__(
        self,
        writer: LedgerWriter,
        peers: PeerStore,
        own_party: str,
        mail: str | None = None,
        language: str | None = None,
    ) -> None:
        """``mail``: the address of the node's e-mail path, for its bundle (None: it has
        none); ``language``: the language its party writes, for its bundle too."""
        self.mail = mail
        self.language = language
        self.writer = writer
        self.store = writer.store
        self.peers = peers
        self.own_party = own_party

    def own_urls(self) -> tuple[str, ...]:
        stored = self.store.info(URLS_KEY)
        return tuple(json.loads(stored)) if stored else ()

    def set_own_urls(self, urls: Iterable[str]) -> tuple[str, ...]:
        checked = tuple(parse_url(u) for u in urls)
        self.writer.transact(lambda tx: tx.set_info(URLS_KEY, json.dumps(list(checked))))
        return checked

    def export(self, urls: Iterable[str] = (), tls_ca: str | None = None) -> dict[str, Any]:
        """This node's signed bundle; ``urls`` (if given) become the node's URLs. A node
        with TLS gives its party's CA certificate (PEM), which the bundle then carries
        for the peer to pin; its URLs must be https."""
        chosen = tuple(urls)
        party = self.store.party(self.own_party)
        bundle = make_bundle(
            party=party.id,
            name=party.name,
            key=self.writer.key(party.id),
            urls=chosen or self.own_urls(),
            principals=self.store.principals(party.id),
            issued=self.writer.now(),
            tls_ca=tls_ca,
            mail=self.mail,
            language=self.language,
        )
        if chosen:  # remembered only once the bundle is made (the URLs passed its checks)
            self.set_own_urls(chosen)
        return bundle

    def read(self, data: Any) -> PeerBundle:
        bundle = open_bundle(data)
        if bundle.party == self.own_party:
            raise InvalidInput(
                "bundle",
                f"this is {bundle.party}'s own bundle",
                hint="import the other party's bundle",
            )
        return bundle

    def pin(self, data: Any, expected_fingerprint: str | None = None) -> PeerBundle:
        """Pin a peer: its node key, URLs, principals and TLS CA (kept inside the stored
        bundle). An already pinned party must come with the same node key and keep its
        principals' keys; its CA may change, since the pinned node key signs it."""
        bundle = self.read(data)
        if expected_fingerprint is not None:
            given = expected_fingerprint.replace(" ", "").upper()
            if given != bundle.fingerprint.replace(" ", ""):
                raise Refused(
                    f"fingerprint mismatch: the bundle's node key is {bundle.fingerprint}",
                    hint="do not pin it; check with the other side over another channel",
                )
        known = {p.id: p for p in self.store.parties()}
        existing = known.get(bundle.party)
        if existing is not None:
            if existing.hosted:
                raise Refused(f"{bundle.party} is hosted on this node; it cannot be a peer")
            if existing.node_key is not None and existing.node_key != bundle.node_key:
                raise Refused(
                    f"{bundle.party}'s node key changed (pinned key "
                    f"{existing.node_key.key_id}, bundle key {bundle.node_key.key_id})",
                    hint="a changed key is not accepted from a bundle",
                )
        principals = {p.id: p for p in self.store.principals(bundle.party)}
        for principal in bundle.principals:
            old = principals.get(principal.id)
            if old is not None and old.key != principal.key:
                raise Refused(
                    f"{principal.id}'s key differs from the pinned one",
                    hint="a changed key is not accepted from a bundle",
                )
        now = format_time(self.writer.now())

        def pin(tx: WriteTx) -> None:
            if existing is None:
                tx.add_party(Party(bundle.party, bundle.name, False, bundle.node_key), now)
            elif existing.node_key is None:
                tx.add_key(bundle.party, bundle.node_key, now)
            for principal in bundle.principals:
                if principal.id not in principals:
                    try:
                        tx.add_principal(principal, now)
                    except AlreadyExists as exc:
                        raise Refused(str(exc)) from exc

        self.writer.transact(pin)
        self.peers.save_peer(
            bundle.party, bundle.urls, bundle.fingerprint, json.dumps(data, sort_keys=True), now
        )
        return bundle
