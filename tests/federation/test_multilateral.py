"""Lines of many parties: five nodes (US, RU, UA write; OSCE observes; UN writes on the
network and mediates between RU and UA, who do not reach each other directly).

- a notification to all on the network, acknowledged by two of three, the third
  escalated, as the acknowledgement matrix shows on the sender's node;
- desks informed owe no acknowledgement; messages are numbered per sender;
- the observer holds and verifies every chain, and cannot write: not through its node's
  services, and not by pushing a signed message of its own to a peer;
- a mediated FLASH reaches the other party through the mediator, whose alteration of it
  is refused where it arrives; the acknowledgement comes back the same way, and the
  mediator's record shows what it carried and when.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hotline.app import checkpoint_round
from hotline.domain.addressing import Role, Standing
from hotline.domain.canonical import canonical
from hotline.domain.crypto import b64decode, b64encode
from hotline.domain.errors import Forbidden, IntegrityFailure, InvalidInput, PolicyRefused
from hotline.domain.events import Event, EventKind, sign_event
from hotline.domain.message import MessageDraft
from hotline.domain.notes import (
    Note,
    NoteSignature,
    SignatureType,
    Verifier,
    key_id,
    parse_note,
    verify_note,
)
from hotline.domain.policy import LineKind, MessageKind
from hotline.domain.precedence import Precedence
from hotline.domain.proofs import key_name
from hotline.domain.sealing import RANDOM_BYTES, is_sealed, seal
from hotline.services.verification import verify_store
from hotline.storage.schema import events
from tests.conftest import FakeClock
from tests.federation.mesh import Mesh, make_mesh, url_of

NETWORK = "risk-reduction-network"
MEDIATED = "ru-ua-tripartite"

PARTIES = [
    ("US", "United States", [("US/NRRC", "watch_officer"), ("US/SECDEF", "leader")]),
    ("RU", "Russian Federation", [("RU/NRRC", "watch_officer")]),
    ("UA", "Ukraine", [("UA/GS-OPS", "watch_officer")]),
    ("OSCE", "OSCE Conflict Prevention Centre", [("OSCE/CPC", "auditor")]),
    ("UN", "United Nations", [("UN/DPO-OPS", "watch_officer")]),
]


def note(subject: str, *, to: tuple[str, ...] = (), info: tuple[str, ...] = ()) -> MessageDraft:
    return MessageDraft(
        kind=MessageKind.NOTIFICATION,
        precedence=Precedence.PRIORITY,
        subject=subject,
        body="Air exercise in the announced area, 06:00-18:00 UTC.",
        to=to,
        info=info,
    )


def flash(subject: str) -> MessageDraft:
    return MessageDraft(
        kind=MessageKind.WARNING,
        precedence=Precedence.FLASH,
        subject=subject,
        body="Missile impact near the border: not directed at you.",
    )


def forge(
    mesh: Mesh,
    line: str,
    author: str,
    content: dict[str, Any],
    kind: EventKind = EventKind.MESSAGE,
) -> Event:
    """An event ``author`` signs onto its party's chain of ``line`` past the chain's
    head, as its node would, but not stored: what a dishonest node could push."""
    party = author.split("/")[0]
    node = mesh.nodes[party]
    head = node.store.heads().get((line, party))
    return sign_event(
        line=line,
        party=party,
        seq=head.seq + 1 if head else 1,
        prev=head.id if head else None,
        kind=kind,
        author=author,
        key=node.writer.key(author),
        ts=mesh.clock.now(),
        content=content,
    )


@pytest.fixture
def mesh(tmp_path: Path, clock: FakeClock) -> Iterator[Mesh]:
    made = make_mesh(tmp_path, clock, PARTIES)
    us, ru = made.nodes["US"], made.nodes["RU"]
    us.lines.propose(
        line_id=NETWORK,
        kind=LineKind.DECONFLICTION,
        title="risk reduction network",
        members=["US/NRRC", "RU/NRRC", "UA/GS-OPS", "UN/DPO-OPS", "OSCE/CPC"],
        observers=["OSCE"],
    )
    ru.lines.propose(
        line_id=MEDIATED,
        kind=LineKind.DECONFLICTION,
        title="tripartite line",
        members=["RU/NRRC", "UA/GS-OPS", "UN/DPO-OPS"],
        mediator="UN",
    )
    made.settle()
    for party in ("RU", "UA", "UN", "OSCE"):
        made.nodes[party].lines.accept(NETWORK, party)
    for party in ("UA", "UN"):
        made.nodes[party].lines.accept(MEDIATED, party)
    made.settle()
    yield made
    made.close()


def test_every_node_holds_both_lines_active(mesh: Mesh) -> None:
    for party, node in mesh.nodes.items():
        assert node.store.line(NETWORK).status.value == "active", party
    for party in ("RU", "UA", "UN"):
        state = mesh.nodes[party].store.line(MEDIATED)
        assert state.status.value == "active", party
        assert state.line.mediator == "UN"
    # RU's and UA's nodes never spoke of the mediated line to each other: the UN carried it
    for a, b in (("RU", "ua.test"), ("UA", "ru.test")):
        direct = [r for r in mesh.nets[a].requests if r.url.host == b]
        assert direct  # (they do on the network line)
        assert all(MEDIATED.encode() not in r.content + r.url.query for r in direct)


def test_a_notification_to_all_acknowledged_by_two_of_three_the_third_escalated(
    mesh: Mesh,
) -> None:
    us = mesh.nodes["US"]
    sent = us.messages.send(NETWORK, "US/NRRC", note("Exercise CANDLE"))
    mesh.settle()
    for party in ("RU", "UA", "UN", "OSCE"):  # everyone holds it, the observer too
        assert mesh.nodes[party].store.event(sent.id).sig == sent.sig
    mesh.nodes["RU"].messages.ack(sent.id, "RU/NRRC")
    mesh.nodes["UA"].messages.ack(sent.id, "UA/GS-OPS")
    mesh.settle()

    matrix = us.messages.matrix(sent.id)
    rows = {r.party: r for r in matrix.rows}
    assert [r.party for r in matrix.rows] == ["RU", "UA", "UN", "OSCE"]  # owing first
    assert {p: rows[p].role for p in rows} == {
        "RU": Role.TO,
        "UA": Role.TO,
        "UN": Role.TO,
        "OSCE": Role.OBSERVER,
    }
    assert rows["RU"].standing is Standing.ACKNOWLEDGED and rows["RU"].acked_by == "RU/NRRC"
    assert rows["UA"].standing is Standing.ACKNOWLEDGED
    assert rows["UN"].standing is Standing.WAITING
    assert rows["OSCE"].standing is Standing.RECEIVED  # its node signed a receipt
    assert all(rows[p].received_at is not None for p in rows)

    # past the deadline, the escalation engine acts for the one missing party only
    mesh.clock.advance(hours=3, minutes=1)
    done = us.escalations.tick()
    assert done and all(e.content["waiting"] == ["UN"] for e in done)
    assert "not acknowledged by UN;" in done[0].content["reason"]
    matrix = us.messages.matrix(sent.id)
    rows = {r.party: r for r in matrix.rows}
    assert rows["UN"].standing is Standing.OVERDUE
    assert rows["UN"].escalations == ("resend",)
    assert rows["RU"].escalations == ()
    data = matrix.to_json()
    assert (data["owed"], data["acknowledged"]) == (3, 2)

    # the UN acknowledges at last: the matrix closes, the engine stops
    mesh.settle()
    mesh.nodes["UN"].messages.ack(sent.id, "UN/DPO-OPS")
    mesh.settle()
    assert us.messages.matrix(sent.id).to_json()["acknowledged"] == 3
    stop = us.escalations.tick()
    assert [e.content["action"] for e in stop] == ["stop"]


def test_desks_informed_owe_nothing_and_messages_are_numbered_per_sender(mesh: Mesh) -> None:
    us, ru = mesh.nodes["US"], mesh.nodes["RU"]
    first = us.messages.send(NETWORK, "US/NRRC", note("one", info=("UN/DPO-OPS",)))
    second = us.messages.send(NETWORK, "US/NRRC", note("two", to=("RU/NRRC",)))
    mesh.settle()
    answer = ru.messages.send(
        NETWORK,
        "RU/NRRC",
        MessageDraft(
            kind=MessageKind.RESPONSE,
            precedence=Precedence.PRIORITY,
            subject="re two",
            body="Noted.",
            refs=(second.id,),
        ),
    )
    mesh.settle()
    assert [first.content["number"], second.content["number"]] == [1, 2]
    assert answer.content["number"] == 1  # each sender numbers its own
    held = mesh.nodes["UA"].store.event(second.id)
    assert held.content["number"] == 2

    rows = {r.party: r for r in us.messages.matrix(first.id).rows}
    assert rows["UN"].role is Role.INFO and rows["UA"].role is Role.TO
    # what owes no acknowledgement waits in no inbox; it is there among all the messages
    un, osce = mesh.nodes["UN"], mesh.nodes["OSCE"]
    assert first.id not in [i.message.id for i in un.messages.inbox("UN")]
    assert first.id in [i.message.id for i in mesh.nodes["UA"].messages.inbox("UA")]
    everything = {i.message.id: i for i in un.messages.inbox("UN", include_acked=True)}
    assert everything[first.id].owed is False
    assert osce.messages.inbox("OSCE") == []
    assert {i.owed for i in osce.messages.inbox("OSCE", include_acked=True)} == {False}
    rows = {r.party: r for r in us.messages.matrix(second.id).rows}
    assert [p for p, r in rows.items() if r.role is Role.TO] == ["RU"]
    assert rows["UA"].role is Role.INFO and rows["UA"].standing is Standing.RECEIVED

    with pytest.raises(InvalidInput, match="only receives"):
        us.messages.send(NETWORK, "US/NRRC", note("to the observer", to=("OSCE/CPC",)))
    with pytest.raises(InvalidInput, match="addressed to nobody"):
        us.messages.send(
            NETWORK, "US/NRRC", note("nobody", info=("RU/NRRC", "UA/GS-OPS", "UN/DPO-OPS"))
        )
    with pytest.raises(InvalidInput, match="named twice"):
        us.messages.send(NETWORK, "US/NRRC", note("twice", to=("RU/NRRC",), info=("RU/NRRC",)))


def test_a_message_numbered_out_of_turn_is_refused(mesh: Mesh) -> None:
    us, ru = mesh.nodes["US"], mesh.nodes["RU"]
    head = us.store.heads()[(NETWORK, "US")]
    content = {**note("skipped a number").content(), "number": 5}
    forged = forge(mesh, NETWORK, "US/NRRC", content)
    answer = mesh.feds["US"].client(us.peers.peer("RU")).push(NETWORK, "US", [forged])
    assert answer.status == 422
    assert "numbered 5" in answer.data["detail"]
    assert ru.store.heads()[(NETWORK, "US")].seq == head.seq

    # once a sender numbers its messages, it does not stop
    us.messages.send(NETWORK, "US/NRRC", note("numbered"))
    mesh.settle()
    head = us.store.heads()[(NETWORK, "US")]
    unnumbered = forge(mesh, NETWORK, "US/NRRC", note("no number").content())
    answer = mesh.feds["US"].client(us.peers.peer("RU")).push(NETWORK, "US", [unnumbered])
    assert answer.status == 422 and "has no number" in answer.data["detail"]
    assert ru.store.heads()[(NETWORK, "US")].seq == head.seq


def test_the_observer_verifies_everything_and_cannot_write(mesh: Mesh) -> None:
    us, osce = mesh.nodes["US"], mesh.nodes["OSCE"]
    sent = us.messages.send(NETWORK, "US/NRRC", note("watched"))
    mesh.settle()
    mesh.nodes["RU"].messages.ack(sent.id, "RU/NRRC")
    mesh.settle()
    report = verify_store(osce.store)
    assert report.ok, report.problems
    chains = {party for line, party in report.chains if line == NETWORK}
    assert {"US", "RU", "OSCE"} <= chains
    assert osce.store.event(sent.id).sig == sent.sig

    with pytest.raises(PolicyRefused, match="observer on line"):
        osce.messages.send(NETWORK, "OSCE/CPC", note("an observer speaks"))
    with pytest.raises(PolicyRefused, match="observer"):
        osce.messages.ack(sent.id, "OSCE/CPC")

    # signed by its own desk and pushed by its own node: refused, and on record
    forged = forge(mesh, NETWORK, "OSCE/CPC", note("an observer speaks").content())
    before = us.peers.count_rejections()
    answer = mesh.feds["OSCE"].client(osce.peers.peer("US")).push(NETWORK, "OSCE", [forged])
    assert answer.status == 422
    assert "only receives" in answer.data["detail"]
    assert us.peers.count_rejections() == before + 1
    assert forged.id not in {e.id for e in us.store.events(NETWORK)}


def test_a_mediated_flash_arrives_unaltered_and_its_ack_comes_back(mesh: Mesh) -> None:
    ru, ua, un = mesh.nodes["RU"], mesh.nodes["UA"], mesh.nodes["UN"]
    mesh.cut("RU", "UA")  # they reach each other only through the UN
    sent = ru.messages.send(MEDIATED, "RU/NRRC", flash("Impact near the border"))
    mesh.feds["RU"].deliver_once()  # RU's node delivers to the mediator only
    assert un.store.event(sent.id).sig == sent.sig

    # the mediator alters the FLASH before carrying it on: refused where it arrives
    body = json.loads(sent.raw)
    body["content"]["body"] = "Missile impact near the border: directed at you."
    altered = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    before = ua.peers.count_rejections()
    answer = (
        mesh.feds["UN"]
        .client(un.peers.peer("UA"))
        .push(MEDIATED, "RU", [(altered.encode(), sent.sig)])
    )
    assert answer.status == 422
    assert ua.peers.count_rejections() == before + 1
    assert sent.id not in {e.id for e in ua.store.events(MEDIATED)}

    # carried as signed, it verifies at the other end; the ack comes back the same way
    mesh.settle()
    held = ua.store.event(sent.id)
    assert held.raw == sent.raw and held.sig == sent.sig
    ack = ua.messages.ack(sent.id, "UA/GS-OPS", reply="Understood.")
    mesh.settle()
    assert ru.store.event(ack.id).sig == ack.sig
    rows = {r.party: r for r in ru.messages.matrix(sent.id).rows}
    assert rows["UA"].standing is Standing.ACKNOWLEDGED and rows["UA"].reply == "Understood."
    assert rows["UN"].role is Role.MEDIATOR and rows["UN"].received_at is not None
    for node in (ru, ua, un):
        report = verify_store(node.store)
        assert report.ok, report.problems

    # the mediator's own record: what it carried (both chains) and its receipts of them
    carried = {(e.party, e.kind) for e in un.store.events(MEDIATED)}
    assert {("RU", EventKind.MESSAGE), ("UA", EventKind.ACK)} <= carried
    receipts = [
        e for e in un.store.events(MEDIATED) if e.party == "UN" and e.kind == EventKind.RECEIPT
    ]
    assert {r.content["of"] for r in receipts} == {"RU", "UA"}
    with pytest.raises(PolicyRefused, match="mediator on line"):
        un.messages.send(MEDIATED, "UN/DPO-OPS", flash("the mediator speaks"))


def test_a_party_catches_up_through_the_mediator(mesh: Mesh) -> None:
    ru, ua = mesh.nodes["RU"], mesh.nodes["UA"]
    mesh.cut("RU", "UA")
    mesh.nets["UA"].down.add("http://un.test:8100")  # UA cannot reach the UN for a while
    mesh.nets["UN"].down.add("http://ua.test:8100")
    sent = [ru.messages.send(MEDIATED, "RU/NRRC", flash(f"warning {i}")) for i in range(3)]
    mesh.settle()
    assert sent[0].id not in {e.id for e in ua.store.events(MEDIATED)}
    mesh.nets["UA"].down.clear()
    mesh.nets["UA"].down.add("http://ru.test:8100")
    mesh.feds["UA"].catch_up_once()  # pulls RU's chain from the UN
    assert [ua.store.event(s.id).content["number"] for s in sent] == [1, 2, 3]


def test_line_terms_check_observers_and_mediator(mesh: Mesh) -> None:
    us = mesh.nodes["US"]
    with pytest.raises(InvalidInput, match="not a party of the line"):
        us.lines.propose(
            line_id="bad-observer",
            kind=LineKind.DECONFLICTION,
            title="x",
            members=["US/NRRC", "RU/NRRC"],
            observers=["OSCE"],
        )
    with pytest.raises(InvalidInput, match="at least two parties that write"):
        us.lines.propose(
            line_id="bad-mediator",
            kind=LineKind.DECONFLICTION,
            title="x",
            members=["US/NRRC", "UN/DPO-OPS"],
            mediator="UN",
        )
    line = us.store.line(NETWORK).line
    assert line.terms()["observers"] == ["OSCE"] and "mediator" not in line.terms()


def test_a_relay_from_the_network_goes_over_a_line_of_its_parties_only(mesh: Mesh) -> None:
    us, ru = mesh.nodes["US"], mesh.nodes["RU"]
    us.lines.propose(
        line_id="us-ru-relay",
        kind=LineKind.RELAY,
        title="attaché",
        members=["US/NRRC", "RU/NRRC"],
    )
    mesh.settle()
    ru.lines.accept("us-ru-relay", "RU")
    mesh.settle()
    to_ru = us.messages.send(NETWORK, "US/NRRC", note("to RU", to=("RU/NRRC",)))
    to_all = us.messages.send(NETWORK, "US/NRRC", note("to all"))
    mesh.settle()
    before = ru.peers.count_rejections()
    mesh.clock.advance(hours=4, minutes=31)  # PRIORITY: resend at +3 h, relay at +4 h 30
    done = us.escalations.tick()
    relays = {e.content["ref"]: e for e in done if e.content["action"] == "relay"}
    assert relays[to_ru.id].line == "us-ru-relay"
    assert relays[to_ru.id].content["to"] == ["RU/NRRC"]
    # UA and the UN are not on the relay line: the step says so, and nothing goes
    assert relays[to_all.id].line == NETWORK
    assert relays[to_all.id].content["outcome"].startswith("skipped")
    mesh.settle()
    assert ru.store.event(relays[to_ru.id].id).sig == relays[to_ru.id].sig
    assert ru.peers.count_rejections() == before
    rows = {r.party: r for r in us.messages.matrix(to_ru.id).rows}
    assert rows["RU"].escalations == ("resend", "relay")


def test_no_call_is_asked_of_an_observer_and_no_page_goes_for_what_is_not_owed(
    mesh: Mesh,
) -> None:
    us, osce = mesh.nodes["US"], mesh.nodes["OSCE"]
    us.lines.propose(
        line_id="leaders-net",
        kind=LineKind.LEADERS,
        title="leaders",
        members=["US/SECDEF", "RU/NRRC", "OSCE/CPC"],
        observers=["OSCE"],
    )
    mesh.settle()
    for party in ("RU", "OSCE"):
        mesh.nodes[party].lines.accept("leaders-net", party)
    mesh.settle()
    with pytest.raises(PolicyRefused, match="observer"):
        us.contacts.request("US/SECDEF", "OSCE/CPC", "a call")  # no line named
    sent = mesh.nodes["RU"].messages.send(
        NETWORK,
        "RU/NRRC",
        MessageDraft(
            kind=MessageKind.WARNING,
            precedence=Precedence.FLASH,
            subject="FLASH to US",
            body="Impact near the border: not directed at you.",
            to=("US/NRRC",),
            info=("UN/DPO-OPS",),
        ),
    )
    mesh.settle()
    paged = {i.ref for i in us.pager.open_items()}
    assert sent.id in paged  # US owes it
    assert sent.id not in {i.ref for i in mesh.nodes["UN"].pager.open_items()}
    assert sent.id not in {i.ref for i in osce.pager.open_items()}


def test_a_rotated_key_is_followed_through_the_mediator(mesh: Mesh) -> None:
    ru, ua = mesh.nodes["RU"], mesh.nodes["UA"]
    mesh.cut("RU", "UA")
    ru.directory.rotate_key("RU/NRRC")
    sent = ru.messages.send(MEDIATED, "RU/NRRC", flash("after a rotation"))
    before = ua.peers.count_rejections()
    mesh.settle()
    assert ua.store.event(sent.id).sig == sent.sig
    assert ua.peers.count_rejections() == before


def test_an_escalation_naming_malformed_waiting_parties_is_refused(mesh: Mesh) -> None:
    us, ru = mesh.nodes["US"], mesh.nodes["RU"]
    sent = us.messages.send(NETWORK, "US/NRRC", note("watched"))
    mesh.settle()
    forged = forge(
        mesh,
        NETWORK,
        "US",
        {
            "action": "resend",
            "ref": sent.id,
            "step": 1,
            "cycle": 0,
            "due": "2026-01-01T00:00:00Z",
            "reason": "x",
            "outcome": "done",
            "waiting": 5,
        },
        EventKind.ESCALATION,
    )
    answer = mesh.feds["US"].client(us.peers.peer("RU")).push(NETWORK, "US", [forged])
    assert answer.status == 422 and "waiting" in answer.data["detail"]
    assert ru.messages.matrix(sent.id).to_json()["owed"] == 3


def test_a_mediated_line_proposed_while_a_party_was_away_is_pulled_from_the_mediator(
    mesh: Mesh,
) -> None:
    ru, ua, un = mesh.nodes["RU"], mesh.nodes["UA"], mesh.nodes["UN"]
    mesh.cut("RU", "UA")
    mesh.cut("UA", "UN")  # UA away
    ru.lines.propose(
        line_id="ru-ua-second",
        kind=LineKind.DECONFLICTION,
        title="second tripartite line",
        members=["RU/NRRC", "UA/GS-OPS", "UN/DPO-OPS"],
        mediator="UN",
    )
    mesh.settle()
    un.lines.accept("ru-ua-second", "UN")
    mesh.settle()
    assert "ru-ua-second" not in {s.line.id for s in ua.store.lines()}
    mesh.nets["UA"].down.discard("http://un.test:8100")  # UA is back, and asks first
    for _ in range(3):  # the proposer's chain opens the line; then the mediator's
        mesh.feds["UA"].catch_up_once()
    state = ua.store.line("ru-ua-second")
    assert state.line.mediator == "UN" and state.accepted_by == {"RU", "UN"}
    assert ua.peers.count_rejections() == 0


SEALED = "ru-ua-sealed"


def sealed_line(mesh: Mesh) -> None:
    """A mediated line whose mediator may not read, with the OSCE observing."""
    mesh.nodes["RU"].lines.propose(
        line_id=SEALED,
        kind=LineKind.DECONFLICTION,
        title="tripartite line, sealed from the mediator",
        members=["RU/NRRC", "UA/GS-OPS", "UN/DPO-OPS", "OSCE/CPC"],
        observers=["OSCE"],
        mediator="UN",
        mediator_reads=False,
    )
    mesh.settle()
    for party in ("UA", "UN", "OSCE"):
        mesh.nodes[party].lines.accept(SEALED, party)
    mesh.settle()
    mesh.cut("RU", "UA")


def test_what_is_said_on_a_line_sealed_from_its_mediator_is_read_by_all_but_it(
    mesh: Mesh,
) -> None:
    ru, ua, un, osce = (mesh.nodes[p] for p in ("RU", "UA", "UN", "OSCE"))
    sealed_line(mesh)
    assert un.store.line(SEALED).line.readers == ("OSCE", "RU", "UA")
    sent = ru.messages.send(SEALED, "RU/NRRC", flash("Impact near the border"))
    assert sent.content["subject"] == "Impact near the border"  # the sender reads its own
    mesh.settle()

    # the mediator carries and verifies it, and holds no word of its text
    carried = un.store.event(sent.id)
    assert carried.raw == sent.raw and is_sealed(carried.content)
    assert carried.content["precedence"] == "FLASH" and "subject" not in carried.content
    assert all(b"Impact" not in e.raw for e in un.store.events(SEALED))
    assert sent.id not in {i.message.id for i in un.messages.inbox("UN", include_acked=True)}
    with pytest.raises(Forbidden, match="sealed from this node"):
        un.translations.of(sent.id)  # (read, translate: not at the mediator)
    api = mesh.apps[url_of("UN")]
    auth = {"Authorization": f"Bearer {un.accounts.create_token('UN/DPO-OPS')}"}
    answer = api.get(f"/api/v1/messages/{sent.id}/read", headers=auth)
    assert answer.status_code == 403 and "sealed" in answer.json()["detail"]
    answer = api.get("/api/v1/translations/pending", headers=auth)
    assert answer.status_code == 200 and sent.id not in answer.text
    answer = api.get(f"/api/v1/lines/{SEALED}/events", headers=auth)
    assert answer.status_code == 200 and sent.id in answer.text and "Impact" not in answer.text
    # every reader opens it; the party it is to has it in its inbox
    for node in (ua, osce):
        assert node.store.event(sent.id).content["subject"] == "Impact near the border"
    assert sent.id in {i.message.id for i in ua.messages.inbox("UA")}

    ack = ua.messages.ack(sent.id, "UA/GS-OPS", reply="Understood, standing by.")
    mesh.settle()
    assert "reply" not in un.store.event(ack.id).content
    assert b"standing by" not in un.store.event(ack.id).raw
    rows = {r.party: r for r in ru.messages.matrix(sent.id).rows}
    assert rows["UA"].standing is Standing.ACKNOWLEDGED
    assert rows["UA"].reply == "Understood, standing by."
    assert rows["UN"].role is Role.MEDIATOR and rows["UN"].received_at is not None
    # a handover note on the line is sealed too
    handover = ru.watch.handover("RU/NRRC", "Lt Orlova", "Quiet night; FLASH 4 acked.", SEALED)
    mesh.settle()
    assert "note" not in un.store.event(handover.id).content
    assert ua.store.event(handover.id).content["note"] == "Quiet night; FLASH 4 acked."
    for node in (ru, ua, un, osce):
        report = verify_store(node.store)
        assert report.ok, report.problems


def test_content_not_sealed_for_every_reader_is_refused_where_it_arrives(mesh: Mesh) -> None:
    ru, un = mesh.nodes["RU"], mesh.nodes["UN"]
    sealed_line(mesh)
    content = note("not for the observer").content()
    readers = un.store.line(SEALED).line.readers or ()
    keys = {p: un.store.party(p).node_key for p in readers if p != "OSCE"}
    short, _ = seal("message", content, keys, bytes(RANDOM_BYTES))  # type: ignore[arg-type]
    before = un.peers.count_rejections()
    for bad, why in ((short, "sealed for RU, UA"), (content, "in the clear")):
        forged = forge(mesh, SEALED, "RU/NRRC", bad)
        answer = (
            mesh.feds["RU"]
            .client(ru.peers.peer("UN"))
            .push(SEALED, "RU", [(forged.raw, forged.sig)])
        )
        assert answer.status == 422 and why in answer.data["detail"], answer.data
    assert un.peers.count_rejections() == before + 2


def test_a_changed_content_key_is_found_by_verify_and_never_shown_as_the_text(
    mesh: Mesh,
) -> None:
    ru, ua = mesh.nodes["RU"], mesh.nodes["UA"]
    sealed_line(mesh)
    sent = ru.messages.send(SEALED, "RU/NRRC", flash("Impact near the border"))
    mesh.settle()
    with ua.store.engine.begin() as c:
        c.execute(sa.text("DROP TRIGGER IF EXISTS events_no_update"))
        c.execute(sa.update(events).where(events.c.id == sent.id).values(content_key=bytes(32)))
    report = verify_store(ua.store)
    assert [(p.event_id, p.reason.value) for p in report.problems] == [(sent.id, "mismatch")]
    assert "content key" in report.problems[0].detail
    with pytest.raises(IntegrityFailure, match="unreadable"):
        ua.store.event(sent.id)


def test_a_box_showing_readers_other_addressees_than_the_mediator_sees_is_refused(
    mesh: Mesh,
) -> None:
    ru, ua, un = mesh.nodes["RU"], mesh.nodes["UA"], mesh.nodes["UN"]
    sealed_line(mesh)
    readers = un.store.line(SEALED).line.readers or ()
    keys = {p: un.store.party(p).node_key for p in readers}
    content = {**note("to UA, or for its information?").content(), "number": 1}
    sealed, content_key = seal("message", content, keys, bytes(RANDOM_BYTES))  # type: ignore[arg-type]
    assert content_key is not None
    # the box tells the readers UA is only informed; the clear fields tell the mediator
    # that UA owes an acknowledgement (to all)
    hidden = {k: v for k, v in content.items() if k in ("subject", "body", "lang")}
    part = sealed["sealed"]
    part["box"] = b64encode(
        AESGCM(content_key).encrypt(
            b64decode(part["nonce"]), canonical({**hidden, "info": ["UA/GS-OPS"]}), None
        )
    )
    forged = forge(mesh, SEALED, "RU/NRRC", sealed)
    answer = (
        mesh.feds["RU"].client(ru.peers.peer("UN")).push(SEALED, "RU", [(forged.raw, forged.sig)])
    )
    assert answer.status == 200  # the mediator cannot tell: it carries it on
    before = ua.peers.count_rejections()
    mesh.settle()
    assert forged.id not in {e.id for e in ua.store.events(SEALED)}
    assert ua.peers.count_rejections() > before


def test_the_mediator_delivers_again_what_a_restored_party_lost_of_a_chain_it_relays(
    mesh: Mesh,
) -> None:
    ru, ua = mesh.nodes["RU"], mesh.nodes["UA"]
    mesh.cut("RU", "UA")
    sent = [ru.messages.send(MEDIATED, "RU/NRRC", flash(f"warning {i}")) for i in range(3)]
    mesh.settle()
    assert {s.id for s in sent} <= {e.id for e in ua.store.events(MEDIATED)}
    with ua.store.engine.begin() as c:  # UA restored from a backup older than the last two
        c.execute(sa.text("DROP TRIGGER IF EXISTS events_no_delete"))
        c.execute(sa.delete(events).where(events.c.id.in_([s.id for s in sent[1:]])))
    mesh.feds["UN"].catch_up_once()  # UA's heads say it holds less than UN delivered
    mesh.settle()
    assert {s.id for s in sent} <= {e.id for e in ua.store.events(MEDIATED)}


def test_only_a_lines_mediator_carries_another_partys_checkpoint(mesh: Mesh) -> None:
    us, ru, ua, un = (mesh.nodes[p] for p in ("US", "RU", "UA", "UN"))
    mesh.cut("RU", "UA")
    sent = ru.messages.send(MEDIATED, "RU/NRRC", flash("Impact near the border"))
    us.messages.send(NETWORK, "US/NRRC", note("exercise"))
    mesh.settle()
    ua.messages.ack(sent.id, "UA/GS-OPS")
    mesh.settle()
    http = httpx.Client()
    for party in ("US", "UA", "UN"):
        checkpoint_round(mesh.nodes[party], mesh.feds[party], http).once(force=True)
    # UA's checkpoint of the mediated line reached RU through the UN, and RU cosigned it
    carried = ru.checkpoints.trees.latest(MEDIATED, "UA")
    assert carried is not None and carried.cosigned_at is not None
    # the UN writes on the network line, but does not carry it: US's checkpoint is US's
    network = un.checkpoints.trees.latest(NETWORK, "US")
    assert network is not None
    client = mesh.feds["UN"].client(un.peers.peer("RU"))
    answer = client.call("POST", "/checkpoints", body={"note": network.note})
    assert answer.status == 422 and answer.data["error"] == "wrong chain"
    # what a carrier adds under another name is not kept: no line can spoil the note
    ua_cp = un.checkpoints.trees.latest(MEDIATED, "UA")
    assert ua_cp is not None
    signed = parse_note(ua_cp.note)
    ru_key = ru.store.party("RU").node_key
    assert ru_key is not None
    name = key_name("RU")
    bogus = NoteSignature(name, key_id(name, SignatureType.COSIGNATURE, ru_key.raw), bytes(72))
    spoiled = Note(signed.text, (*signed.signatures, bogus)).render()
    client = mesh.feds["UN"].client(un.peers.peer("RU"))
    assert client.call("POST", "/checkpoints", body={"note": spoiled}).status == 200
    kept = ru.checkpoints.trees.latest(MEDIATED, "UA")
    assert kept is not None and bogus not in parse_note(kept.note).signatures
    verify_note(parse_note(kept.note), [Verifier(name, SignatureType.COSIGNATURE, ru_key)])
