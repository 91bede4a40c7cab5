"""The escalation scheduler against each database (SQLite, and PostgreSQL when
reachable): steps recorded once, a hosted party's messages escalated by its own node,
contact requests expired, policies stored and checked, and the record still verifies."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.app import Node
from hotline.domain.errors import InvalidInput, NotFound
from hotline.domain.events import EventKind
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.services.escalation import Escalations
from hotline.services.verification import verify_store
from tests.conftest import FakeClock

LINE = "us-ru-deconfliction"


def flash(n: int) -> MessageDraft:
    return MessageDraft(MessageKind.NOTIFICATION, Precedence.FLASH, f"Track {n}", "Over the sea.")


def test_each_step_is_recorded_once_across_schedulers(lab_node: Node, clock: FakeClock) -> None:
    sent = lab_node.messages.send_many(LINE, "US/EUCOM-JOC", [flash(n) for n in range(5)])
    theirs = lab_node.messages.send(LINE, "RU/NDMC", flash(99))  # RU is hosted here too
    second = Escalations(lab_node.writer, lab_node.directory, lab_node.peers, "US")
    assert lab_node.escalations.tick() == [] and second.tick() == []
    clock.advance(minutes=10)
    done = lab_node.escalations.tick() + second.tick()
    assert sorted(e.content["ref"] for e in done) == sorted([m.id for m in sent] + [theirs.id])
    assert {e.author for e in done} == {"US", "RU"}
    lab_node.messages.ack(sent[0].id, "RU/NDMC")
    clock.advance(minutes=5)
    later = lab_node.escalations.tick() + second.tick()
    kinds = sorted((e.content["action"], e.content["ref"] == sent[0].id) for e in later)
    assert kinds.count(("stop", True)) == 1
    assert ("relay", True) not in kinds
    assert len([k for k in kinds if k[0] == "relay"]) == 5  # four US messages and RU's
    report = verify_store(lab_node.store)
    assert report.ok, report.problems


def test_a_policy_is_checked_against_the_line_before_it_is_stored(lab_node: Node) -> None:
    with pytest.raises(InvalidInput, match="policy: for PRIORITY: step 2 comes before step 1"):
        lab_node.escalations.set_policy(
            LINE,
            '[[steps]]\naction = "resend"\nafter = "50%"\n'
            '[[steps]]\naction = "alert"\nafter = "20m"\nroles = ["leader"]\n',
            "toml",
        )
    with pytest.raises(NotFound):
        lab_node.escalations.set_policy(
            LINE, '[[steps]]\naction = "relay"\nafter = "0"\nvia = "nowhere"\n', "toml"
        )
    assert lab_node.escalations.policy(LINE).default
    view = lab_node.escalations.set_policy(
        LINE, "steps:\n  - {action: relay, after: '0', via: us-ru-attache}\n", "yaml"
    )
    assert not view.default and view.policy.steps[0].via == "us-ru-attache"
    assert lab_node.escalations.reset_policy(LINE)
    assert lab_node.escalations.policy(LINE).default


def test_a_contact_request_on_a_line_of_another_kind_is_refused(lab_node: Node) -> None:
    from hotline.domain.errors import PolicyRefused

    with pytest.raises(PolicyRefused, match="leaders line"):
        lab_node.contacts.request("US/EUCOM-JOC", "RU/NDMC", "call", line=LINE)
    assert lab_node.store.events(LINE, kinds=[EventKind.CONTACT_REQUEST.value]) == []


# -- snapshots -------------------------------------------------------------------------


def _scheduler(node: Node) -> Escalations:
    """A scheduler as a restarted node makes it: nothing in memory, the node's snapshots."""
    return Escalations(node.writer, node.directory, node.peers, "US", node.escalations.snapshots)


def _plan(scheduler: Escalations, moment: object) -> list[tuple[str, str, int, int]]:
    """What the scheduler's engine would do at ``moment`` (nothing is recorded)."""
    assert scheduler.engine is not None
    return sorted(
        (d.ref, d.action.value, d.number, d.cycle)
        for d in scheduler.engine.due(moment)  # type: ignore[arg-type]
    )


@pytest.fixture
def snapshot_from_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hotline.services.escalation.SNAPSHOT_FROM", 1)


@pytest.mark.usefixtures("snapshot_from_one")
def test_a_restart_resumes_from_the_snapshot_and_reads_only_what_is_new(
    lab_node: Node, clock: FakeClock
) -> None:
    sent = lab_node.messages.send_many(LINE, "US/EUCOM-JOC", [flash(n) for n in range(6)])
    assert lab_node.escalations.tick() == []  # reads the record, keeps a snapshot
    assert lab_node.escalations.snapshots.get("escalation") is not None
    lab_node.messages.ack(sent[0].id, "RU/NDMC")  # after the snapshot
    later = lab_node.messages.send(LINE, "US/EUCOM-JOC", flash(7))
    resumed, rebuilt = (
        _scheduler(lab_node),
        Escalations(lab_node.writer, lab_node.directory, lab_node.peers, "US"),
    )
    assert resumed.tick() == [] and rebuilt.tick() == []
    assert resumed.restored and not rebuilt.restored
    moment = clock.now() + timedelta(minutes=10)
    expected = _plan(rebuilt, moment)
    assert {ref for ref, *_ in expected} == {m.id for m in sent[1:]} | {later.id}
    assert _plan(resumed, moment) == expected


@pytest.mark.usefixtures("snapshot_from_one")
def test_a_restored_scheduler_records_each_step_once(lab_node: Node, clock: FakeClock) -> None:
    sent = lab_node.messages.send_many(LINE, "US/EUCOM-JOC", [flash(n) for n in range(3)])
    lab_node.escalations.tick()
    clock.advance(minutes=10)
    first = lab_node.escalations.tick()  # resends, recorded
    assert len(first) == 3
    lab_node.escalations.save()
    resumed = _scheduler(lab_node)
    assert resumed.tick() == [] and resumed.restored  # the resends are not taken again
    clock.advance(minutes=5)
    relays = resumed.tick()
    assert sorted(e.content["ref"] for e in relays) == sorted(m.id for m in sent)
    assert {e.content["action"] for e in relays} == {"relay"}
    assert verify_store(lab_node.store).ok


@pytest.mark.usefixtures("snapshot_from_one")
def test_a_snapshot_altered_or_made_under_other_policies_is_not_used(
    lab_node: Node, clock: FakeClock
) -> None:
    from hotline.storage.snapshots import Snapshot

    lab_node.messages.send_many(LINE, "US/EUCOM-JOC", [flash(n) for n in range(3)])
    lab_node.escalations.tick()
    store = lab_node.escalations.snapshots
    kept = store.get("escalation")
    assert kept is not None
    data = bytearray(kept.data)
    data[len(data) // 2] ^= 0x01
    store.put(Snapshot(kept.name, kept.pos, kept.taken_at, bytes(data), kept.sig))
    altered = _scheduler(lab_node)
    altered.tick()
    assert not altered.restored  # its signature fails: the record is read instead
    assert altered.engine is not None and len(altered.engine) == 3
    store.put(kept)
    lab_node.escalations.set_policy(
        LINE, "steps:\n  - {action: relay, after: '0', via: us-ru-attache}\n", "yaml"
    )
    other = _scheduler(lab_node)
    other.tick()
    assert not other.restored  # plans differ now


def test_the_scheduler_reads_past_a_peers_messages_without_them(lab_node: Node) -> None:
    """A peer's messages are its own node's to escalate: the scheduler's read leaves
    them out, yet moves past them, and still reads every acknowledgement."""
    ours = lab_node.messages.send(LINE, "US/EUCOM-JOC", flash(1))
    lab_node.messages.ack(ours.id, "RU/NDMC")
    theirs = lab_node.messages.send(LINE, "RU/NDMC", flash(2))  # the newest event
    found, newest = lab_node.store.watched_after(
        0, ["ack"], ["message", "escalation", "contact.request"], ["US"]
    )
    assert [(e.kind, e.party) for _, e in found] == [("message", "US"), ("ack", "RU")]
    assert theirs.id not in {e.id for _, e in found}
    assert newest == lab_node.store.last_pos() > max(pos for pos, _ in found)
    again, still = lab_node.store.watched_after(newest, ["ack"], ["message"], ["US"])
    assert (again, still) == ([], newest)


@pytest.mark.usefixtures("snapshot_from_one")
def test_a_restored_scheduler_keeps_no_snapshot_until_its_items_are_made(
    lab_node: Node, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save would make every item of a restored engine at once, in one tick: it waits
    until the ticks have made them a part at a time."""
    monkeypatch.setattr("hotline.services.escalation.SETTLE_BATCH", 2)
    lab_node.messages.send_many(LINE, "US/EUCOM-JOC", [flash(n) for n in range(6)])
    assert lab_node.escalations.tick() == []  # keeps a snapshot
    first = lab_node.escalations.snapshots.get("escalation")
    assert first is not None
    resumed = _scheduler(lab_node)
    resumed.tick()
    assert resumed.restored and resumed.engine is not None
    clock.advance(minutes=6)  # a save is due: the record moved, time passed
    lab_node.messages.send(LINE, "US/EUCOM-JOC", flash(7))
    unsettled = []
    while resumed.engine.unsettled:
        unsettled.append(resumed.engine.unsettled)
        before = lab_node.escalations.snapshots.get("escalation")
        resumed.tick()
        if resumed.engine.unsettled:
            assert lab_node.escalations.snapshots.get("escalation") == before
    assert len(unsettled) >= 3  # made two a tick, with no save meanwhile
    resumed.tick()
    assert lab_node.escalations.snapshots.get("escalation") != first  # then it saves
