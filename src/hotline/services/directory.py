"""Parties and principals of this node's directory."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from hotline.domain.clock import format_time
from hotline.domain.crypto import PublicKey
from hotline.domain.errors import AlreadyExists, InvalidInput, NotFound
from hotline.domain.events import EventKind
from hotline.domain.identity import (
    Party,
    Principal,
    parse_party_id,
    parse_principal_id,
    parse_roles,
)
from hotline.domain.ledger import rotate_content
from hotline.domain.policy import Line
from hotline.domain.rotation import (
    ROTATIONS_INFO,
    node_rotate_content,
    sign_rotation,
    stored_statements,
)
from hotline.services.writer import LedgerWriter
from hotline.storage.transaction import WriteTx


class Directory:
    def __init__(self, writer: LedgerWriter, random: Callable[[int], bytes] = os.urandom) -> None:
        self.writer = writer
        self.store = writer.store
        self.random = random

    def add_party(
        self, party_id: str, name: str, *, hosted: bool = False, node_key: str | None = None
    ) -> Party:
        """Register a party. A hosted party's node key is made and kept here; a remote
        party's node key, when known, is given as text."""
        pid = parse_party_id(party_id)
        if hosted and node_key:
            raise InvalidInput(
                "node key", "a hosted party's node key is made here; do not give one"
            )
        key = PublicKey.from_text(node_key) if node_key else None
        if any(p.id == pid for p in self.store.parties()):
            raise AlreadyExists(f"party {pid} already exists", hint="see `hotline party list`")
        if hosted:
            key = self.writer.keystore.create(pid, self.random(32)).public
        party = Party(id=pid, name=name.strip() or pid, hosted=hosted, node_key=key)
        self._register(hosted, pid, lambda tx: tx.add_party(party, format_time(self.writer.now())))
        return party

    def _register(self, made_key: bool, owner: str, insert: Callable[[WriteTx], None]) -> None:
        try:
            self.writer.transact(insert)
        except BaseException:
            if made_key:
                self.writer.keystore.discard(owner)
            raise

    def add_principal(
        self, principal_id: str, name: str, roles: list[str], *, public_key: str | None = None
    ) -> tuple[Principal, bool]:
        """Register a principal; returns it and whether its private key is held here.

        For a party hosted here the key pair is made here unless a public key is given
        (the private key then stays with the principal). For any other party the public
        key is required.
        """
        pid = parse_principal_id(principal_id)
        checked_roles = parse_roles(roles)
        if any(p.id == pid for p in self.store.principals()):
            raise AlreadyExists(
                f"principal {pid} already exists", hint="see `hotline principal list`"
            )
        try:
            party = self.store.party(pid.partition("/")[0])
        except NotFound as exc:
            raise NotFound(
                "party", exc.ident, hint=f"add it first: hotline party add {exc.ident}"
            ) from None
        if public_key:
            key, held = PublicKey.from_text(public_key), False
        elif party.hosted:
            key, held = self.writer.keystore.create(pid, self.random(32)).public, True
        else:
            raise InvalidInput(
                "public key",
                f"{party.id} is not hosted on this node, so {pid}'s key is made elsewhere",
                hint="give its public key with --public-key",
            )
        principal = Principal(id=pid, name=name.strip() or pid, roles=checked_roles, key=key)
        self._register(
            held, pid, lambda tx: tx.add_principal(principal, format_time(self.writer.now()))
        )
        return principal, held

    def hosted(self) -> frozenset[str]:
        return self.store.hosted_parties()

    def rotate_key(self, principal_id: str) -> tuple[Principal, str | None, list[str]]:
        """Give a principal of a hosted party a new key pair. The old public key stays on
        record (retired) so that what it signed still verifies; a ``key.rotate`` event,
        signed by the party's node, announces the new key on every line the principal is
        on. Returns the principal with its new key, the retired key id and those lines."""
        pid = parse_principal_id(principal_id)
        old = self.store.principal(pid)
        party = self.store.party(old.party)
        if not party.hosted:
            raise InvalidInput(
                "principal",
                f"{pid} is not of a party hosted on this node",
                hint="its own node rotates its key",
            )
        keystore = self.writer.keystore
        new_key = keystore.stage(pid, self.random(32))
        now = self.writer.now()
        hosted = self.hosted()
        lines = [s.line for s in self.store.lines(party.id) if pid in s.line.policy.principals]
        try:

            def rotate(tx: WriteTx) -> str | None:
                retired = tx.rotate_key(pid, new_key.public, format_time(now))
                for line in lines:
                    self.writer.append(
                        tx,
                        line,
                        EventKind.KEY_ROTATE,
                        party.id,
                        rotate_content(pid, new_key.public.text(), retired),
                        hosted=hosted,
                        now=now,
                    )
                return retired

            retired = self.writer.transact(rotate)
        except BaseException:
            keystore.drop_staged(pid)  # the old key stays current, file and record alike
            raise
        # Recorded: the new key takes over. Should this step be cut short, the writer
        # refuses to sign with a key the record does not hold as current (writer.key).
        keystore.promote(pid, old.key.key_id)
        self.writer.forget(pid)
        return self.store.principal(pid), retired, [line.id for line in lines]

    def rotate_node_key(self, party_id: str) -> tuple[PublicKey, str, list[str]]:
        """Give this node a new node key. The old key signs the change twice: a
        ``node.rotate`` event on each of the party's lines, and a rotation statement kept
        with the node (``node_info``) and sent with every federation request and answer,
        so that peers that pinned the old key can follow to the new one. The old public
        key stays on record (retired): everything it signed still verifies. Returns the
        new key, the retired key id and the lines the rotation was recorded on.

        The key file is swapped before the record is written, so a process signing
        meanwhile takes the key the record holds as current (``LedgerWriter.key``); if
        the write fails, the old file is put back. Raises InvalidInput for a party not
        hosted on this node."""
        pid = parse_party_id(party_id)
        party = self.store.party(pid)
        if not party.hosted:
            raise InvalidInput(
                "party", f"{pid} is not hosted on this node", hint="its own node rotates its key"
            )
        keystore = self.writer.keystore
        old = self.writer.key(pid)
        new_key = keystore.stage(pid, self.random(32))
        now = self.writer.now()
        statement = sign_rotation(old, pid, new_key.public, now)
        content = node_rotate_content(pid, new_key.public.text(), old.public.key_id)
        hosted = self.hosted()
        keystore.promote(pid, old.public.key_id)
        try:

            def rotate(tx: WriteTx) -> list[Line]:
                lines = [s.line for s in tx.lines(pid)]
                tx.rotate_key(pid, new_key.public, format_time(now))
                for line in lines:
                    self.writer.append(
                        tx,
                        line,
                        EventKind.NODE_ROTATE,
                        pid,
                        content,
                        hosted=hosted,
                        now=now,
                        key=old,
                    )
                kept = stored_statements(tx.info(ROTATIONS_INFO))
                tx.set_info(ROTATIONS_INFO, json.dumps([*kept, statement.text()]))
                return lines

            lines = self.writer.transact(rotate)
        except BaseException:
            keystore.restore(pid, old.public.key_id)  # the old key stays current
            keystore.drop_staged(pid)
            raise
        self.writer.forget(pid)
        return new_key.public, old.public.key_id, [line.id for line in lines]
