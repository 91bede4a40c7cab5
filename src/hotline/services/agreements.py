"""Agreements on a line: proposed, signed by every party, amended and terminated the same
way, all on the record (:mod:`hotline.domain.agreement`). Those in force drive the
awareness rules (zones by kind of track) and the notice lead times on their line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import yaml

from hotline.domain.agreement import (
    Agreement,
    agreements_of,
    lead_times,
    parse_terms,
    propose_content,
)
from hotline.domain.clock import format_time
from hotline.domain.errors import InvalidInput, NotFound, PolicyRefused, Refused
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import parse_party_id
from hotline.domain.intent import Activity
from hotline.domain.policy import LineState, LineStatus
from hotline.services.directory import Directory
from hotline.services.writer import LedgerWriter

KINDS = [
    EventKind.AGREEMENT_PROPOSE.value,
    EventKind.AGREEMENT_SIGN.value,
    EventKind.AGREEMENT_TERMINATE.value,
]


def read_terms(text: str) -> Any:
    """An agreement's terms from a YAML (or JSON) file's text; InvalidInput if unreadable."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput("terms", f"not valid YAML: {exc}") from exc


class Agreements:
    def __init__(self, writer: LedgerWriter, directory: Directory, party: str) -> None:
        self.writer = writer
        self.store = writer.store
        self.directory = directory
        self.party = party

    # -- reading -------------------------------------------------------------------------

    def of_line(self, line_id: str) -> list[Agreement]:
        """The agreements of a line, in the order proposed."""
        state = self.store.line(line_id.lower())
        return agreements_of(self.store.events(state.line.id, kinds=KINDS), state.line.acting)

    def all(self) -> list[tuple[Agreement, tuple[str, ...]]]:
        """Every agreement on this node's lines, with the parties of its line."""
        return [
            (found, state.line.acting)
            for state in self.store.lines(self.party)
            for found in agreements_of(
                self.store.events(state.line.id, kinds=KINDS), state.line.acting
            )
        ]

    def find(self, line_id: str, ident: str) -> Agreement:
        """An agreement of the line by its id or a unique prefix (6 hex characters or more)."""
        prefix = ident.strip().lower()
        found = [a for a in self.of_line(line_id) if a.id.startswith(prefix)]
        if len(prefix) < 6 or not found:
            raise NotFound("agreement", ident, hint=f"see `hotline agreement list {line_id}`")
        if len(found) > 1:
            raise InvalidInput(
                "agreement", f"{ident!r} names more than one agreement", hint="give more of its id"
            )
        return found[0]

    def in_force(self, line_id: str, now: datetime | None = None) -> list[Agreement]:
        state = self.store.line(line_id.lower())
        moment = now or self.writer.now()
        return [
            a for a in self.of_line(line_id) if a.state(state.line.acting, moment) == "in force"
        ]

    def lead_times(
        self, line_id: str, base: Mapping[Activity, timedelta], now: datetime | None = None
    ) -> dict[Activity, timedelta]:
        """The lead times on a line: the node's, as agreements in force there change them."""
        return lead_times(base, self.in_force(line_id, now))

    # -- writing -------------------------------------------------------------------------

    def propose(
        self, line_id: str, terms: Any, *, amends: str | None = None, party: str | None = None
    ) -> Event:
        """Propose an agreement on a line (``terms`` as :func:`parse_terms` takes them);
        ``amends``: the id (or prefix) of the agreement it replaces once in force."""
        state, who = self._line_and_party(line_id, party)
        checked = parse_terms(terms)
        replaced = self.find(state.line.id, amends).id if amends else None
        content = propose_content(checked, state.line.id, who, replaced)
        if any(a.id == content["agreement"] for a in self.of_line(state.line.id)):
            raise Refused(
                f"agreement {content['agreement'][:12]} is proposed on {state.line.id} already",
                hint="sign it: hotline agreement sign",
            )
        return self._append(state, EventKind.AGREEMENT_PROPOSE, who, content)

    def sign(self, line_id: str, ident: str, party: str | None = None) -> Event:
        """Sign a proposed agreement for ``party`` (this node's by default)."""
        state, who = self._line_and_party(line_id, party)
        found = self.find(state.line.id, ident)
        if who in found.signed:
            raise Refused(f"{who} signed agreement {found.id[:12]} already")
        return self._append(
            state, EventKind.AGREEMENT_SIGN, who, {"ref": found.proposal, "agreement": found.id}
        )

    def terminate(self, line_id: str, ident: str, party: str | None = None) -> Event:
        """Sign the termination of an agreement: it ends once every party has."""
        state, who = self._line_and_party(line_id, party)
        found = self.find(state.line.id, ident)
        if not found.agreed(state.line.acting):
            raise PolicyRefused(
                f"agreement {found.id[:12]} is not signed by every party: nothing to terminate"
            )
        if who in found.terminated:
            raise Refused(f"{who} signed the termination of {found.id[:12]} already")
        content = {"ref": found.proposal, "agreement": found.id}
        return self._append(state, EventKind.AGREEMENT_TERMINATE, who, content)

    def _line_and_party(self, line_id: str, party: str | None) -> tuple[LineState, str]:
        state = self.store.line(line_id.lower())
        who = parse_party_id(party) if party else self.party
        if who not in state.line.acting:
            raise InvalidInput("party", f"{who} is not a party of line {state.line.id}")
        if who not in self.directory.hosted():
            raise Refused(f"{who} is not hosted on this node: its own node signs for it")
        if state.status is not LineStatus.ACTIVE:
            raise PolicyRefused(f"line {state.line.id} is not active")
        return state, who

    def _append(
        self, state: LineState, kind: EventKind, who: str, content: dict[str, Any]
    ) -> Event:
        hosted = self.directory.hosted()
        return self.writer.transact(
            lambda tx: self.writer.append(tx, state.line, kind, who, content, hosted=hosted),
            state.line.id,
        )


def describe(found: Agreement, parties: Sequence[str], now: datetime, lang: str) -> dict[str, Any]:
    """An agreement as the CLI and the API show it."""
    terms = found.terms
    return {
        "id": found.id,
        "line": found.line,
        "title": terms.title_in(lang),
        "state": found.state(parties, now),
        "proposed_by": found.proposed_by,
        "amends": found.amends,
        "superseded_by": found.superseded_by(parties, now),
        "signed": dict(found.signed),
        "terminated": dict(found.terminated),
        "start": format_time(terms.start),
        "end": format_time(terms.end) if terms.end else None,
        "zones": [{"id": z.id, "kinds": list(z.kinds), "km": z.km} for z in terms.zones],
        "notice": {a.value: int(d.total_seconds()) for a, d in terms.notice.items()},
        "exceptions": list(terms.exceptions),
    }
