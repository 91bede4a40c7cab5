"""Proof for third parties between two nodes: checkpoints signed by a chain's node and
cosigned by its peer, disclosure bundles checked with nothing but the file, and a node
rolled back found by the checkpoints its peer cosigned."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from hotline.app import checkpoint_round
from hotline.domain.crypto import PublicKey
from hotline.domain.errors import ChainHalted
from hotline.domain.events import EventKind
from hotline.domain.message import MessageDraft
from hotline.domain.notes import parse_note
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.domain.proofs import BundleRefused, verify_bundle
from hotline.domain.rollback import Cause
from hotline.federation.checkpointing import CheckpointRound
from hotline.services.disclosures import Disclosures
from hotline.services.halts import ChainHalts
from hotline.services.tree_audit import audit
from hotline.storage.schema import checkpoints, events, rejections, tree_hashes, tree_sizes
from tests.federation.conftest import US_URL, Pair
from tests.federation.test_rollback import remove

LINE = "us-ru-deconfliction"


def rounds(pair: Pair) -> tuple[CheckpointRound, CheckpointRound]:
    http = httpx.Client()
    return checkpoint_round(pair.us, pair.us_fed, http), checkpoint_round(
        pair.ru, pair.ru_fed, http
    )


def warning_acked(pair: Pair) -> tuple[str, str]:
    message = pair.us.messages.send(
        LINE,
        "US/EUCOM-JOC",
        MessageDraft(
            MessageKind.WARNING, Precedence.FLASH, "Missile test", "Launch at 12:00 into area A."
        ),
    )
    pair.settle()
    pair.clock.advance(seconds=20)
    ack = pair.ru.messages.ack(message.id, "RU/NDMC", reply="Understood")
    pair.settle()
    return message.id, ack.id


def test_a_checkpoint_is_signed_by_its_node_and_cosigned_by_the_peer_that_holds_it(
    pair: Pair,
) -> None:
    _message, _ = warning_acked(pair)
    us_round, ru_round = rounds(pair)
    done = us_round.once(force=True)
    assert done.signed >= 1 and done.cosigned >= 1, done.problems
    latest = pair.us.checkpoints.trees.latest(LINE, "US")
    assert latest is not None and latest.cosigned_at is not None
    names = [s.name for s in parse_note(latest.note).signatures]
    assert names == ["hotline/US", "hotline/RU"]
    # the peer keeps the same cosigned checkpoint
    theirs = pair.ru.checkpoints.trees.latest(LINE, "US")
    assert theirs is not None and theirs.root == latest.root and theirs.size == latest.size
    ru_round.once(force=True)
    assert pair.ru.checkpoints.trees.latest(LINE, "RU") is not None


def test_a_bundle_answers_when_the_warning_was_held_and_what_was_acknowledged(
    pair: Pair,
) -> None:
    message, ack = warning_acked(pair)
    us_round, ru_round = rounds(pair)
    pair.clock.advance(seconds=5)
    us_round.once(force=True)
    ru_round.once(force=True)
    bundle = Disclosures(pair.us.checkpoints, "US").export(
        message, with_ack=True, with_receipt=True
    )
    report = verify_bundle(bundle.data)
    roles = {e.role: e for e in report.events}
    assert set(roles) >= {"message", "ack", "receipt"}
    assert roles["message"].event.id == message and roles["ack"].event.id == ack
    assert roles["ack"].event.content["ref"] == message
    sent = roles["message"].checkpoint
    assert [c.name for c in sent.cosigned_by] == ["RU"]
    held_by = sent.cosigned_by[0].time
    assert held_by is not None and held_by == int(pair.clock.now().timestamp())
    # the ack is proven in RU's chain, under a checkpoint US cosigned
    assert roles["ack"].checkpoint.party == "RU"
    assert [c.name for c in roles["ack"].checkpoint.cosigned_by] == ["US"]
    # only what was disclosed: no other message of the record is in the file
    text = bundle.data.decode()
    assert "Launch at 12:00" not in text  # bodies travel only as base64 of the event
    assert len(report.events) <= 5


def test_a_bundle_checks_against_the_keys_a_reader_trusts(pair: Pair) -> None:
    message, _ = warning_acked(pair)
    us_round, _ = rounds(pair)
    us_round.once(force=True)
    bundle = Disclosures(pair.us.checkpoints, "US").export(message).data
    us_key = pair.us.store.party("US").node_key
    assert us_key is not None
    verify_bundle(bundle, trusted={"US": [us_key]})
    stranger = PublicKey(bytes(range(32)))
    with pytest.raises(BundleRefused, match="no node key of US"):
        verify_bundle(bundle, trusted={"US": [stranger]})


@pytest.mark.parametrize(
    "tamper",
    ["event byte", "proof hash", "checkpoint root", "cosignature time", "event signature"],
)
def test_a_tampered_bundle_is_refused_with_the_reason(pair: Pair, tamper: str) -> None:
    message, _ = warning_acked(pair)
    us_round, _ = rounds(pair)
    us_round.once(force=True)
    bundle = json.loads(Disclosures(pair.us.checkpoints, "US").export(message).data)
    entry = bundle["events"][0]
    if tamper == "event byte":
        raw = bytearray(base64.urlsafe_b64decode(entry["event"] + "=="))
        raw[raw.index(b"Missile")] ^= 1
        entry["event"] = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
        why = "signature|inclusion"
    elif tamper == "proof hash":
        first = bytearray(base64.b64decode(entry["proof"][0]))
        first[0] ^= 1
        entry["proof"][0] = base64.b64encode(bytes(first)).decode()
        why = "inclusion proof fails"
    elif tamper == "checkpoint root":
        lines = bundle["checkpoints"][0].split("\n")
        root = bytearray(base64.b64decode(lines[2]))
        root[0] ^= 1
        lines[2] = base64.b64encode(bytes(root)).decode()
        bundle["checkpoints"][0] = "\n".join(lines)
        why = "does not verify"
    elif tamper == "cosignature time":
        note = parse_note(bundle["checkpoints"][0])
        cosig = note.signatures[-1]
        blob = bytearray(cosig.key_id + cosig.signature)
        blob[11] ^= 1  # the low byte of the time
        lines = bundle["checkpoints"][0].rstrip("\n").split("\n")
        lines[-1] = f"\u2014 {cosig.name} {base64.b64encode(bytes(blob)).decode()}"
        bundle["checkpoints"][0] = "\n".join(lines) + "\n"
        why = "hotline/RU does not verify"
    else:
        sig = bytearray(base64.urlsafe_b64decode(entry["sig"] + "=="))
        sig[0] ^= 1
        entry["sig"] = base64.urlsafe_b64encode(bytes(sig)).decode().rstrip("=")
        why = "signature of US/EUCOM-JOC fails"
    with pytest.raises(BundleRefused, match=why):
        verify_bundle(json.dumps(bundle).encode())


def test_consistency_between_two_checkpoints_shows_nothing_was_removed_or_inserted(
    pair: Pair,
) -> None:
    message, _ = warning_acked(pair)
    us_round, _ = rounds(pair)
    us_round.once(force=True)
    first = pair.us.checkpoints.trees.latest(LINE, "US")
    assert first is not None
    for n in range(3):
        pair.us.messages.send(
            LINE,
            "US/EUCOM-JOC",
            MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, f"n{n}", "body"),
        )
    pair.settle()
    us_round.once(force=True)
    later = pair.us.store.heads(["US"])[(LINE, "US")]
    last_message = pair.us.store.chain(LINE, "US", later.seq - 1, 1)[0]
    bundle = Disclosures(pair.us.checkpoints, "US").export(last_message.id, since=first.size)
    report = verify_bundle(bundle.data)
    ((old, new),) = report.consistent
    assert (old.size, new.size) == (first.size, later.seq)
    # a forged old checkpoint (another history at that size) breaks the proof
    data = json.loads(bundle.data)
    data["consistency"][0]["proof"][0] = base64.b64encode(b"\x00" * 32).decode()
    with pytest.raises(BundleRefused, match="consistency proof fails"):
        verify_bundle(json.dumps(data).encode())
    assert message


def test_the_peer_refuses_to_cosign_another_history_and_keeps_it(pair: Pair) -> None:
    from hotline.domain.notes import Checkpoint, Note, sign_ed25519
    from hotline.domain.proofs import key_name, origin

    warning_acked(pair)
    size = pair.us.store.heads(["US"])[(LINE, "US")].seq
    forged = Note(Checkpoint(origin(LINE, "US"), size, b"\x07" * 32).text())
    forged = forged.with_signature(sign_ed25519(forged, key_name("US"), pair.us.writer.key("US")))
    answer = pair.us_fed.client(pair.us.peers.peers()[0]).call(
        "POST", "/checkpoints", body={"note": forged.render()}
    )
    assert answer.status == 422 and answer.data["error"] == "divergence"
    kept = [r for r in pair.ru.peers.rejections() if r.kind == "checkpoint"]
    assert [(r.peer, r.reason, r.line) for r in kept] == [("US", "divergence", LINE)]
    with pair.ru.store.engine.connect() as c:
        raw = c.execute(sa.select(rejections.c.raw).where(rejections.c.id == kept[0].id))
        assert raw.scalar_one() == forged.render().encode()  # the signed note, as evidence


def test_a_checkpoint_past_what_the_peer_holds_waits(pair: Pair) -> None:
    pair.us.messages.send(
        LINE, "US/EUCOM-JOC", MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, "s", "b")
    )  # not delivered
    us_round, _ = rounds(pair)
    done = us_round.once(force=True)
    assert any("not yet" in p for p in done.problems)
    latest = pair.us.checkpoints.trees.latest(LINE, "US")
    assert latest is not None and latest.cosigned_at is None
    pair.settle()
    assert us_round.once().cosigned == 1  # offered again, and now cosigned
    latest = pair.us.checkpoints.trees.latest(LINE, "US")
    assert latest is not None and latest.cosigned_at is not None


def test_a_node_rolled_back_is_halted_by_the_checkpoint_its_peer_cosigned(pair: Pair) -> None:
    warning_acked(pair)
    us_round, _ = rounds(pair)
    us_round.once(force=True)
    cosigned = pair.us.checkpoints.trees.latest(LINE, "US")
    assert cosigned is not None
    # what a restore from an old backup does to US's view: its events past seq 1 and
    # its checkpoints are gone; RU still holds the checkpoint it cosigned
    lost = pair.us.store.chain(LINE, "US", 2, 100)
    remove(pair.us, lost)
    with pair.us.store.engine.begin() as c:
        for table in (checkpoints, tree_hashes, tree_sizes):
            c.execute(sa.delete(table))
    result = us_round.once(force=True)
    halts = ChainHalts(pair.us.store, pair.us.peers).all()
    assert [(h.line, h.cause, h.theirs) for h in halts] == [
        (LINE, Cause.CHECKPOINTED, cosigned.size)
    ], result.problems
    with pytest.raises(ChainHalted):
        pair.us.messages.send(
            LINE,
            "US/EUCOM-JOC",
            MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, "x", "y"),
        )


def test_an_auditor_downloads_a_message_bundle_and_sees_the_line_checkpoints(
    pair: Pair,
) -> None:
    message, ack = warning_acked(pair)
    us_round, ru_round = rounds(pair)
    us_round.once(force=True)
    ru_round.once(force=True)
    pair.us.directory.add_principal("US/AUDIT", "Auditor", ["auditor"])
    state = pair.us.store.line(LINE)
    assert "US/AUDIT" not in state.line.policy.principals  # not on the line: sees nothing
    api = pair.net.apps[US_URL]
    outsider = {"Authorization": f"Bearer {pair.us.accounts.create_token('US/AUDIT')}"}
    assert api.get(f"/api/v1/events/{message}/proof", headers=outsider).status_code == 404
    desk = {"Authorization": f"Bearer {pair.us.accounts.create_token('US/EUCOM-JOC')}"}
    answer = api.get(f"/api/v1/events/{message[:10]}/proof?ack=true&receipt=true", headers=desk)
    assert answer.status_code == 200, answer.text
    assert "attachment" in answer.headers["content-disposition"]
    report = verify_bundle(answer.content)
    assert {e.event.id for e in report.events} >= {message, ack}
    assert api.get("/api/v1/events/zzzz/proof", headers=desk).status_code == 400
    assert api.get(f"/api/v1/events/{'0' * 64}/proof", headers=desk).status_code == 404
    listed = api.get(f"/api/v1/lines/{LINE}/checkpoints", headers=desk)
    assert listed.status_code == 200, listed.text
    chains = {c["party"]: c for c in listed.json()}
    assert set(chains) == {"US", "RU"}
    assert [c["name"] for c in chains["US"]["cosigners"]] == ["RU"]
    assert chains["US"]["cosigned_at"] is not None and chains["US"]["witnesses"] == []
    assert chains["US"]["note"].startswith(f"hotline/{LINE}/US\n")


PQ_LINE = "us-ru-pq"


def post_quantum_line(pair: Pair) -> None:
    from hotline.domain.policy import LineKind, make_proof_terms

    pair.us.lines.propose(
        line_id=PQ_LINE,
        kind=LineKind.DECONFLICTION,
        title="post-quantum",
        members=["US/EUCOM-JOC", "RU/NDMC"],
        proofs=make_proof_terms([], post_quantum=True),
    )
    pair.settle()
    pair.ru.lines.accept(PQ_LINE, "RU")
    pair.settle()


def test_a_line_whose_terms_require_post_quantum_signatures_gets_them_and_bundles_prove_it(
    pair: Pair,
) -> None:
    post_quantum_line(pair)
    message = pair.us.messages.send(
        PQ_LINE,
        "US/EUCOM-JOC",
        MessageDraft(MessageKind.WARNING, Precedence.FLASH, "Test", "Launch at 12:00."),
    )
    pair.settle()
    us_round, _ = rounds(pair)
    assert us_round.once(force=True).cosigned >= 1
    latest = pair.us.checkpoints.trees.latest(PQ_LINE, "US")
    assert latest is not None and latest.cosigned_at is not None
    sizes = sorted(len(s.signature) for s in parse_note(latest.note).signatures)
    assert sizes == [64, 72, 3309]  # Ed25519, RU's cosignature, ML-DSA-65
    bundle = Disclosures(pair.us.checkpoints, "US").export(message.id)
    report = verify_bundle(bundle.data, require_pq=True)
    assert report.checkpoints[0].post_quantum
    assert {e.role for e in report.events} >= {"message", "terms"}
    # without its post-quantum signature, the checkpoint no longer satisfies the terms
    data = json.loads(bundle.data)
    data["checkpoints"] = [
        "\n".join(line for line in note.split("\n") if len(line) < 500)
        for note in data["checkpoints"]
    ]
    with pytest.raises(BundleRefused, match="require a post-quantum signature"):
        verify_bundle(json.dumps(data).encode())


def test_the_peer_refuses_to_cosign_a_checkpoint_the_terms_want_post_quantum_without_it(
    pair: Pair,
) -> None:
    from hotline.domain.notes import Checkpoint, Note, sign_ed25519
    from hotline.domain.proofs import key_name, origin

    post_quantum_line(pair)
    size = pair.us.store.heads(["US"])[(PQ_LINE, "US")].seq
    root = pair.us.checkpoints.root(PQ_LINE, "US", size)
    plain = Note(Checkpoint(origin(PQ_LINE, "US"), size, root).text())
    plain = plain.with_signature(sign_ed25519(plain, key_name("US"), pair.us.writer.key("US")))
    answer = pair.us_fed.client(pair.us.peers.peers()[0]).call(
        "POST", "/checkpoints", body={"note": plain.render()}
    )
    assert answer.status == 422 and answer.data["error"] == "post-quantum"


def test_a_receipt_names_the_root_of_the_chain_it_receipts(pair: Pair) -> None:
    from hotline.domain.merkle import leaf_hash, root_of

    warning_acked(pair)
    for n in range(3):  # batches one after another: the root is carried on between them
        pair.us.messages.send(
            LINE,
            "US/EUCOM-JOC",
            MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, f"n{n}", "body"),
        )
        pair.settle()
    receipts = [
        r
        for r in pair.ru.store.events_on([LINE], ["receipt"])
        if r.party == "RU" and r.content.get("of") == "US"
    ]
    assert len(receipts) >= 4
    chain = pair.us.store.chain(LINE, "US", 0, 100)
    for receipt in receipts:
        upto = receipt.content["upto_seq"]
        expected = root_of([e.raw for e in chain[:upto]])
        assert base64.b64decode(receipt.content["root"]) == expected
    assert leaf_hash(chain[0].raw) != expected  # (the root is not a leaf's hash)


def test_verify_finds_a_chain_rewritten_under_cosigned_checkpoints_and_receipts(
    pair: Pair,
) -> None:
    from hotline.domain.events import sign_event

    message, _ = warning_acked(pair)
    us_round, _ = rounds(pair)
    us_round.once(force=True)
    checked, problems = audit(pair.us.checkpoints)
    assert checked >= 2 and problems == []
    # US rewrites its warning, re-signed with its own key: its id and signature verify;
    # the checkpoint RU cosigned and RU's receipt of it do not
    old = pair.us.store.event(message)
    forged = sign_event(
        line=LINE,
        party="US",
        seq=old.seq,
        prev=old.prev,
        kind=EventKind(old.kind),
        author=old.author,
        key=pair.us.writer.key(old.author),
        ts=old.ts,
        content={**old.content, "subject": "Nothing happened"},
    )
    remove(pair.us, [old])
    with pair.us.store.engine.begin() as c:
        c.execute(
            sa.insert(events).values(
                id=forged.id,
                line=LINE,
                party="US",
                seq=forged.seq,
                prev=forged.prev,
                kind=forged.kind,
                author=forged.author,
                ts=forged.body["ts"],
                ref=None,
                raw=forged.raw,
                sig=forged.sig,
                received_at=None,
            )
        )
    _, problems = audit(pair.us.checkpoints)
    assert problems and all(p.party == "US" and p.line == LINE for p in problems)
    assert any("checkpoint US signed" in p.detail for p in problems)
    assert any("RU's receipt" in p.detail for p in problems)


@pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")
def test_witnesses_cosign_each_chain_and_a_split_view_is_caught_with_both_checkpoints(
    pair: Pair, tmp_path: Path
) -> None:
    from starlette.testclient import TestClient

    from hotline.domain.crypto import SigningKey
    from hotline.domain.notes import Checkpoint, Note, sign_ed25519
    from hotline.domain.proofs import WitnessRef, key_name, origin
    from hotline.witness.client import WitnessConflict, submit
    from hotline.witness.core import Witness
    from hotline.witness.server import create_app
    from hotline.witness.store import WitnessStore

    store = WitnessStore(tmp_path / "witness.db")
    store.create("witness.osce.example", "2026-12-05T00:00:00.000Z")
    for node in (pair.us, pair.ru):
        key = node.store.party(node.party).node_key
        assert key is not None
        store.trust(node.party, key.text(), "2026-12-05T00:00:00.000Z")
    key = SigningKey(bytes(range(32)))
    witness = Witness(store, "witness.osce.example", key, pair.clock.now)
    http = TestClient(create_app(witness), base_url="http://osce.test")
    ref = WitnessRef("witness.osce.example", "http://osce.test", key.public)
    message, _ = warning_acked(pair)
    us_round = CheckpointRound(pair.us_fed, pair.us.checkpoints, [ref], http)
    done = us_round.once(force=True)
    assert done.witnessed >= 1, done.problems
    latest = pair.us.checkpoints.trees.latest(LINE, "US")
    assert latest is not None and latest.witnesses == 1
    # the chain grows: the witness is shown the consistency proof from what it holds
    pair.us.messages.send(
        LINE, "US/EUCOM-JOC", MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, "a", "b")
    )
    pair.settle()
    assert us_round.once(force=True).witnessed >= 1
    bundle = Disclosures(pair.us.checkpoints, "US", [ref]).export(message)
    report = verify_bundle(bundle.data)
    assert [w.name for w in report.events[0].checkpoint.witnessed_by] == ["witness.osce.example"]
    # US shows the witness another history at the size it holds: refused, and both
    # signed checkpoints kept as the evidence
    held = store.held()
    ours = next(h for h in held if h.origin == origin(LINE, "US"))
    forged = Note(Checkpoint(origin(LINE, "US"), ours.size, b"\x01" * 32).text())
    forged = forged.with_signature(sign_ed25519(forged, key_name("US"), pair.us.writer.key("US")))
    with pytest.raises(WitnessConflict):
        submit(http, "http://osce.test", ours.size, [], forged.render())
    (evidence,) = store.evidence()
    assert evidence.held == ours.note and evidence.offered == forged.render()
