"""The escalation scheduler: feeds the pure engine from the ledger, and records on the
ledger every action it takes.

The engine's view is rebuilt from the ledger when the scheduler starts (steps already
taken are on the record, so none is taken twice), then kept up to date from the events
stored since. Each action is written in a transaction that first looks again at the
record: a step that another process recorded meanwhile, or a message acknowledged
meanwhile, is left alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hotline.domain.addressing import awaited
from hotline.domain.clock import format_time, parse_time
from hotline.domain.contact import ANSWERS, CONTACT_KINDS, ContactStatus, fold, reason_content
from hotline.domain.crypto import b64encode
from hotline.domain.errors import HotlineError, InvalidInput, NotFound
from hotline.domain.escalation import (
    DEFAULT_POLICY,
    DEFAULT_POLICY_TOML,
    Action,
    EscalationPolicy,
    PlannedStep,
    parse_policy,
)
from hotline.domain.escalation_engine import Due, Engine
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import party_of
from hotline.domain.ledger import escalation_content
from hotline.domain.policy import Line, LineKind, LineState, LineStatus, MessageKind
from hotline.domain.precedence import Precedence, format_duration
from hotline.services.directory import Directory
from hotline.services.snapshots import keep, take, without_gc
from hotline.services.writer import LedgerWriter
from hotline.storage.marks import events_at
from hotline.storage.peers import PeerStore
from hotline.storage.snapshots import SnapshotStore
from hotline.storage.transaction import WriteTx

log = logging.getLogger("hotline.escalation")

#: What the engine reads of the record: the messages, escalations and contact requests
#: of the parties hosted here (a peer's are its own node's to escalate), and every
#: acknowledgement and answer, whoever gave it.
WATCHED_OWN = (
    EventKind.MESSAGE.value,
    EventKind.ESCALATION.value,
    EventKind.CONTACT_REQUEST.value,
)
WATCHED_ALL = (
    EventKind.ACK.value,
    *sorted(k.value for k in CONTACT_KINDS - {EventKind.CONTACT_REQUEST}),
)
#: Most actions recorded by one tick (a catch-up after an outage goes on next tick), and
#: per write transaction.
TICK_LIMIT = 2000
TX_BATCH = 100
#: The engine's state is kept at most this often, once it holds SNAPSHOT_FROM items (a
#: smaller one is read again from the record in well under a second).
SNAPSHOT_EVERY = timedelta(minutes=5)
SNAPSHOT_FROM = 1000
SNAPSHOT_NAME = "escalation"
SNAPSHOT_VERSION = 3
#: Items of a restored engine made objects on each tick after the first (the first is
#: ready at once; the rest are made over the next ticks, each a fraction of a second).
SETTLE_BATCH = 20_000


@dataclass(frozen=True)
class PolicyView:
    line: str
    policy: EscalationPolicy
    source: str
    format: str
    default: bool
    updated_at: str | None


class Escalations:
    def __init__(
        self,
        writer: LedgerWriter,
        directory: Directory,
        peers: PeerStore,
        party: str,
        snapshots: SnapshotStore | None = None,
    ) -> None:
        """``snapshots``: where the engine's state is kept now and then, so that a restart
        resumes from there rather than from the whole record (see :meth:`save`)."""
        self.snapshots = snapshots
        self._saved: tuple[int, datetime] | None = None  # position and time of the last
        self.restored = False  # whether the engine was last started from a snapshot
        self.writer = writer
        self.store = writer.store
        self.directory = directory
        self.peers = peers
        self.party = party
        self.engine: Engine | None = None
        self._pos = 0
        self._recent: set[int] = set()
        self._lines: dict[str, LineState] = {}
        self._plans: dict[tuple[str, Precedence], tuple[PlannedStep, ...]] = {}
        self._policy_stamp: tuple[tuple[str, str], ...] | None = None
        self._hosted: frozenset[str] = frozenset()
        self._roles: dict[str, set[str]] | None = None

    # -- policies --------------------------------------------------------------------

    def policy(self, line_id: str) -> PolicyView:
        """The escalation policy of a line: the one set for it, or the default."""
        state = self.store.line(line_id)
        stored = self.store.escalation_policy(state.line.id)
        if stored is None:
            return PolicyView(
                state.line.id, DEFAULT_POLICY, DEFAULT_POLICY_TOML, "toml", True, None
            )
        fmt, source, at = stored
        try:
            policy = parse_policy(source, fmt)
        except InvalidInput:
            log.error("the escalation policy stored for %s does not parse: default used", line_id)
            policy = DEFAULT_POLICY
        return PolicyView(state.line.id, policy, source, fmt, False, at)

    def set_policy(self, line_id: str, text: str, fmt: str) -> PolicyView:
        """Check a policy against the line (every precedence, the relay line named) and
        store it. Raises InvalidInput or NotFound; nothing is stored then."""
        state = self.store.line(line_id)
        policy = parse_policy(text, fmt)
        policy.check(state.line.policy.deadlines)
        for step in policy.steps:
            if step.via is None:
                continue
            if step.via == state.line.id:
                raise InvalidInput(
                    "policy",
                    f"step {step.number} relays via {step.via}, the line itself",
                    hint="to send again on the same line, use a resend step",
                )
            try:
                via = self.store.line(step.via)
            except NotFound:
                raise NotFound(
                    "line", step.via, hint=f"step {step.number} relays via a line this node lacks"
                ) from None
            extra = set(via.line.parties) - set(state.line.parties)
            if extra:
                raise InvalidInput(
                    "policy",
                    f"step {step.number} relays via {step.via}, which reaches "
                    + ", ".join(sorted(extra))
                    + f" too: they would read what was not sent to them on {state.line.id}",
                    hint="relay via a line between parties of this line only",
                )
            if self.party not in via.line.acting or len(via.line.acting) < 2:
                raise InvalidInput(
                    "policy",
                    f"step {step.number} relays via {step.via}, on which {self.party} "
                    "does not write to another party",
                )
        form, at = "yaml" if fmt == "yml" else fmt, format_time(self.writer.now())
        self.writer.transact(lambda tx: tx.set_escalation_policy(state.line.id, form, text, at))
        return self.policy(state.line.id)

    def reset_policy(self, line_id: str) -> bool:
        """Go back to the default policy. True if a policy had been set."""
        state = self.store.line(line_id)
        return self.writer.transact(lambda tx: tx.clear_escalation_policy(state.line.id))

    def plan(self, line: Line, precedence: Precedence) -> tuple[PlannedStep, ...]:
        key = (line.id, precedence)
        if key not in self._plans:
            self._plans[key] = self.policy(line.id).policy.plan(line.policy.deadline(precedence))
        return self._plans[key]

    # -- the scheduler -----------------------------------------------------------------

    def rebuild(self) -> None:
        """Forget the engine's view; the next tick reads it again from the ledger."""
        self.engine = None

    def tick(self, now: datetime | None = None) -> list[Event]:
        """Bring the engine up to date with the ledger, and record the actions due: at
        most :data:`TICK_LIMIT` (the rest on the next tick), :data:`TX_BATCH` to a
        transaction."""
        moment = now or self.writer.now()
        stamp = self._stamp()
        if self.engine is None or stamp != self._policy_stamp:
            self._start(stamp)
        else:
            self._feed()
            self.engine.settle(SETTLE_BATCH)  # a restored engine, a part each tick
        assert self.engine is not None
        self._save_if_due(moment)  # before due(): the state of the record up to _pos
        dues = self.engine.due(moment, limit=TICK_LIMIT)
        self._roles = None  # principals and lines are read once per tick
        self._lines.clear()
        written: list[Event] = []
        for start in range(0, len(dues), TX_BATCH):
            batch = dues[start : start + TX_BATCH]

            def record(tx: WriteTx, batch: list[Due] = batch) -> list[Event | None]:
                return [self._execute(tx, due) for due in batch]

            try:
                done = self.writer.transact(record)
            except HotlineError as exc:
                log.warning("escalation not recorded: %s", exc.message)
                self.engine = None  # read the record again on the next tick: nothing skipped
                break
            except Exception:
                self.engine = None
                raise
            for event in done:
                if event is not None:
                    written.append(event)
                    self._bookkeeping(event, moment)
        return written

    def _principal_roles(self) -> dict[str, set[str]]:
        """Principal id -> its role names, read once per tick."""
        if self._roles is None:
            self._roles = {p.id: {r.value for r in p.roles} for p in self.store.principals()}
        return self._roles

    def _bookkeeping(self, event: Event, now: datetime) -> None:
        """Open or close the node's alert once the event is stored (a separate database
        connection: never written to while the ledger's write transaction is open)."""
        c = event.content
        if event.kind != EventKind.ESCALATION:
            return
        key = f"escalation:{c['ref']}"
        if c["action"] == Action.STOP:
            self.peers.close_alert(key, format_time(now))
        elif c["action"] == Action.ALERT and c.get("outcome") == "done":
            self.peers.open_alert(
                key,
                "escalation",
                f"message {str(c['ref'])[:12]} on {event.line} unacknowledged",
                f"alerted {', '.join(c.get('to') or [])}: {c['reason']}",
                format_time(now),
            )

    def _stamp(self) -> tuple[tuple[str, str], ...]:
        """When each line's policy was last set: a change means new plans."""
        return tuple(sorted(self.store.escalation_policies().items()))

    def _start(self, stamp: tuple[tuple[str, str], ...]) -> None:
        self._policy_stamp = stamp
        self._plans.clear()
        self._lines.clear()
        self.restored = self._restore(stamp)
        if self.restored:
            self._feed()  # what was recorded since the snapshot
            return
        self.engine = Engine()
        self._pos, self._recent = 0, set()
        self._feed()
        self.engine.compact()

    # -- snapshots ---------------------------------------------------------------------

    def save(self, now: datetime | None = None) -> bool:
        """Keep the engine's state at the position it has read up to, signed by the node
        key; False when there is no engine yet or nowhere to keep it. Call it only
        between ticks: the state must be that of the record up to its position."""
        if self.snapshots is None or self.engine is None:
            return False
        moment = now or self.writer.now()
        plans = {
            id(plan): f"{line}\x00{precedence.value}"
            for (line, precedence), plan in self._plans.items()
        }
        at = events_at(self.store.engine, [self._pos]) if self._pos else []
        with without_gc():
            data = {
                "v": SNAPSHOT_VERSION,
                "at": at[0][1].id if at else None,
                "recent": sorted(self._recent),
                "stamp": [list(item) for item in self._policy_stamp or ()],
                "hosted": sorted(self._hosted),
                "engine": self.engine.dump(lambda plan: plans[id(plan)]),
            }
        keep(
            self.snapshots,
            self.writer.key(self.party),
            SNAPSHOT_NAME,
            self._pos,
            data,
            format_time(moment),
        )
        self._saved = (self._pos, moment)
        return True

    def _save_if_due(self, now: datetime) -> None:
        if self.engine is None or len(self.engine) < SNAPSHOT_FROM:
            return
        if self.engine.unsettled:
            # a restored engine still making its items: a save now would make them all
            # in this tick; the next ticks make them a part at a time (SETTLE_BATCH)
            return
        if self._saved is not None and (
            self._saved[0] == self._pos or now - self._saved[1] < SNAPSHOT_EVERY
        ):
            return
        try:
            self.save(now)
        except HotlineError as exc:  # the scheduler goes on; the next restart reads more
            log.warning("the escalation snapshot was not kept: %s", exc.message)

    def _restore(self, stamp: tuple[tuple[str, str], ...]) -> bool:
        """Start the engine from the snapshot, if there is one that still fits the record:
        signed by this node's key, at an event still stored where it was, made under the
        same policies for the same hosted parties."""
        if self.snapshots is None:
            return False
        try:
            found = take(self.snapshots, self.writer.key(self.party), SNAPSHOT_NAME)
            if found is None:
                return False
            data = found.data
            if data.get("v") != SNAPSHOT_VERSION:
                raise ValueError("it is of another format")
            hosted = self.directory.hosted()
            if data["stamp"] != [list(item) for item in stamp] or data["hosted"] != sorted(hosted):
                return False  # a policy or the parties changed since: plans differ
            at = events_at(self.store.engine, [found.pos]) if found.pos else []
            if (at[0][1].id if at else None) != data["at"]:
                raise ValueError("the record at its position is not the one it was made from")
            with without_gc():
                engine = Engine.load(data["engine"], self._plan_named)
        except (ValueError, KeyError, IndexError, TypeError, HotlineError) as exc:
            why = exc.message if isinstance(exc, HotlineError) else str(exc)
            log.warning("the escalation snapshot is not used (%s): reading the record", why)
            return False
        self.engine = engine
        self._pos, self._recent = found.pos, set(data["recent"])
        self._hosted = hosted
        self._saved = (found.pos, parse_time(found.taken_at))
        log.info("escalation resumed from its snapshot at position %d", found.pos)
        return True

    def _plan_named(self, name: str) -> tuple[PlannedStep, ...]:
        line_id, precedence = name.split("\x00")
        state = self._line(line_id)
        if state is None:
            raise KeyError(f"no line {line_id}")
        return self.plan(state.line, Precedence(precedence))

    def _feed(self) -> None:
        self._hosted = self.directory.hosted()
        # an event may commit after one with a higher position was read: read back again
        # as far as the store says (and skip what was seen)
        overlap = self.store.late_positions
        start = max(0, self._pos - overlap)
        found, newest = self.store.watched_after(
            start, WATCHED_ALL, WATCHED_OWN, sorted(self._hosted)
        )
        for pos, event in found:
            if pos <= self._pos and pos in self._recent:
                continue
            self._observe(event)
            if overlap:
                self._recent.add(pos)
        self._pos = max(self._pos, newest)  # past what was left out too
        if overlap:
            floor = self._pos - overlap
            self._recent = {p for p in self._recent if p > floor}

    def _all_lines(self) -> list[LineState]:
        if not self._lines:
            self._lines = {s.line.id: s for s in self.store.lines()}
        return list(self._lines.values())

    def _line(self, line_id: str) -> LineState | None:
        if line_id not in self._lines:
            self._lines = {s.line.id: s for s in self.store.lines()}
        return self._lines.get(line_id)

    def _observe(self, event: Event) -> None:
        engine = self.engine
        assert engine is not None
        kind, c = event.kind, event.content
        if kind == EventKind.MESSAGE:
            state = self._line(event.line)
            if event.party not in self._hosted or state is None:
                return
            precedence = Precedence(c["precedence"])
            engine.track_message(
                event.id,
                event.line,
                event.party,
                event.ts,
                self.plan(state.line, precedence),
                awaited(event, state.line),
            )
        elif kind == EventKind.ACK:
            engine.ack(str(c.get("ref")), event.party, event.author, event.ts)
        elif kind == EventKind.ESCALATION:
            if event.party not in self._hosted:
                return
            if c.get("action") == Action.STOP:
                engine.stopped(str(c.get("ref")))
            else:
                engine.done(str(c.get("ref")), int(c.get("step", 0)), int(c.get("cycle", 0)))
        elif kind == EventKind.CONTACT_REQUEST:
            if event.party in self._hosted:
                engine.track_request(
                    event.id, event.line, event.party, parse_time(str(c["respond_by"]))
                )
        elif kind == EventKind.CONTACT_EXPIRE:
            engine.done(str(c.get("ref")), 0, 0)
        elif kind in ANSWERS or kind == EventKind.CONTACT_CANCEL:
            engine.close(str(c.get("ref")), event.author, event.ts)

    # -- actions -----------------------------------------------------------------------

    def _execute(self, tx: WriteTx, due: Due) -> Event | None:
        """One action, in the tick's transaction: looked up again on the record first."""
        tx.head(due.line, due.party)  # holds the chain: a second scheduler waits, then sees
        if due.action is Action.EXPIRE:
            return self._expire(tx, due)
        earlier = tx.referring(due.ref, [EventKind.ESCALATION.value])
        for e in earlier:
            c = e.content
            if due.action is Action.STOP and c.get("action") == Action.STOP:
                return None
            if (c.get("step"), c.get("cycle")) == (due.number, due.cycle) and (
                due.action is not Action.STOP
            ):
                return None
        message = tx.event(due.ref)
        if message is None:
            return None
        state = self._line(message.line)
        if state is None:
            return None
        if due.action is Action.STOP:
            content = escalation_content(
                action=Action.STOP.value,
                ref=due.ref,
                step=0,
                cycle=0,
                due=format_time(due.due),
                reason=f"acknowledged by {due.by} at {format_time(due.at or due.due)}",
                by=due.by,
                acked_at=format_time(due.at or due.due),
            )
            return self._append(tx, state.line, due.party, content)
        waiting = set(awaited(message, state.line)) - {
            a.party for a in tx.referring(due.ref, [EventKind.ACK.value])
        }
        if not waiting:
            return None  # acknowledged meanwhile: the next feed closes it
        return self._step(tx, due, message, state, waiting)

    def _append(self, tx: WriteTx, line: Line, party: str, content: dict[str, Any]) -> Event:
        return self.writer.append(
            tx, line, EventKind.ESCALATION, party, content, hosted=self._hosted
        )

    def _reason(self, due: Due, message: Event, state: LineState, waiting: set[str]) -> str:
        c = message.content
        deadline = message.counted_from + state.line.policy.deadline(Precedence(c["precedence"]))
        text = (
            f"{c['precedence']} {c['kind']} {message.id[:12]} not acknowledged by "
            f"{', '.join(sorted(waiting))}; deadline {format_time(deadline)}; "
            f"{due.step.describe() if due.step else due.action.value}"
            + (f", round {due.cycle + 1}" if due.cycle else "")
        )
        if due.late > timedelta(minutes=1):
            late = timedelta(seconds=int(due.late.total_seconds()))
            text += f"; done {format_duration(late)} late"
        return text

    def _step(
        self,
        tx: WriteTx,
        due: Due,
        message: Event,
        state: LineState,
        waiting: set[str],
    ) -> Event:
        assert due.step is not None
        common: dict[str, Any] = {
            "action": due.action.value,
            "ref": due.ref,
            "step": due.number,
            "cycle": due.cycle,
            "due": format_time(due.due),
            "reason": self._reason(due, message, state, waiting),
            "waiting": sorted(waiting),  # the parties it was done for
        }
        if due.action is Action.RESEND:
            return self._append(tx, state.line, due.party, escalation_content(**common))
        if due.action is Action.ALERT:
            roles = {r.value for r in due.step.roles}
            to = sorted(
                p
                for p, has in self._principal_roles().items()
                if party_of(p) == due.party and roles & has
            )
            outcome = (
                "done"
                if to
                else f"skipped: no principal of {due.party} has role "
                + (" or ".join(sorted(roles)))
            )
            return self._append(
                tx,
                state.line,
                due.party,
                escalation_content(**common, outcome=outcome, roles=sorted(roles), to=to),
            )
        via, recipients, why = self._route(due, message, state, waiting)
        if via is None:
            return self._append(
                tx, state.line, due.party, escalation_content(**common, outcome=f"skipped: {why}")
            )
        return self._append(
            tx,
            via.line,
            due.party,
            escalation_content(
                **common,
                from_line=state.line.id,
                to=recipients,
                original={"raw": b64encode(message.raw), "sig": b64encode(message.sig)},
            ),
        )

    def _route(
        self, due: Due, message: Event, state: LineState, waiting: set[str]
    ) -> tuple[LineState | None, list[str], str]:
        """The line a relay goes over, and who receives it there; or why there is none."""
        assert due.step is not None
        kind = MessageKind(message.content["kind"])
        if due.step.via is not None:
            candidates = [s for s in self._all_lines() if s.line.id == due.step.via]
            if not candidates:
                return None, [], f"relay line {due.step.via} is not on this node"
        else:
            candidates = [
                s
                for s in self._all_lines()
                if s.line.kind is LineKind.RELAY and s.line.id != state.line.id
            ]
        usable = [
            s
            for s in candidates
            if s.status is LineStatus.ACTIVE
            and waiting | {due.party} <= set(s.line.acting)  # each writes there
            and set(s.line.parties) <= set(state.line.parties)  # nobody new reads it
            and kind in s.line.policy.kinds
        ]
        if not usable:
            named = due.step.via or "no relay line"
            return (
                None,
                [],
                f"{named} is not an active line to {', '.join(sorted(waiting))} "
                f"that takes a {kind.value}",
            )
        via = usable[0]
        relays = {p for p, has in self._principal_roles().items() if "relay" in has}
        members = [p for p in via.line.policy.principals if party_of(p) in waiting]
        return via, [p for p in members if p in relays] or members, ""

    def _expire(self, tx: WriteTx, due: Due) -> Event | None:
        request = tx.event(due.ref)
        if request is None:
            return None
        later = tx.referring(due.ref, [k.value for k in CONTACT_KINDS])
        state = fold(request, later)
        if state.status is not ContactStatus.PENDING:
            return None
        line = self._line(due.line)
        if line is None:
            return None
        window = format_duration(state.respond_by - state.requested_at)
        return self.writer.append(
            tx,
            line.line,
            EventKind.CONTACT_EXPIRE,
            due.party,
            reason_content(due.ref, f"no answer from {state.addressee} within {window}"),
            hosted=self._hosted,
        )
