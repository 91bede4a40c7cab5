"""Paging the watch: each round, what waits at the node's desks (FLASH and IMMEDIATE
messages unacknowledged, escalation alerts of the node's own), who on each desk's chain
is due a page, and the pages sent — by e-mail and by signed webhook — each recorded
before it goes out and with how it went. An item stops being paged when it is
acknowledged or somebody takes it ("I have it"); the webhooks that were told of it are
then told that it is over, so an on-call tool closes what it opened.

The plan (:mod:`hotline.domain.paging`) is the node's own, set by an administrator; the
console of the desk rings by itself (it reads :meth:`Pager.board`)."""

from __future__ import annotations

import email.policy
import logging
import secrets
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from hashlib import sha256
from typing import Any

from hotline.domain.addressing import awaited
from hotline.domain.clock import Clock, format_time, parse_time
from hotline.domain.errors import Forbidden, InvalidInput, NotFound
from hotline.domain.escalation import Action
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import Role, parse_principal_id, party_of
from hotline.domain.paging import (
    PAGED,
    WATCH,
    ItemKind,
    Pageable,
    PageDue,
    PagingPlan,
    Person,
    Webhook,
    item_key,
    pages_due,
    parse_plan,
)
from hotline.domain.policy import LineStatus
from hotline.domain.precedence import Precedence
from hotline.domain.webhooks import PageText, encode, page_body, sign_webhook
from hotline.services.watch import Watch
from hotline.services.writer import LedgerWriter
from hotline.storage.paging import (
    FAILED,
    RESOLVED,
    SENDING,
    SENT,
    UNREACHABLE,
    PageRecord,
    PagingStore,
    Reaction,
)
from hotline.storage.peers import PeerStore

log = logging.getLogger("hotline.paging")
#: How long a round may send for: well inside a worker's lease (``lease_ttl``, 10 s).
ROUND_BUDGET = 4.0
#: A page still ``sending`` after this was cut short by a stop: counted as unknown.
STALE_SENDING = timedelta(minutes=1)
#: The on-call tools are told an item is over for this long after the reaction.
RESOLVE_FOR = timedelta(days=1)
RESOLVE_RETRY = timedelta(minutes=1)
_PAGED_VALUES = frozenset(p.value for p in PAGED)
#: The desks paged about a message waiting on their line: those that answer for it (not
#: its translators, auditors or administrators).
ANSWERING_ROLES = frozenset({Role.WATCH_OFFICER, Role.LEADER, Role.RELAY})

#: Headers folded only past RFC 5322's 998 characters: the standard library's folding of
#: a long non-ASCII subject doubles the space before its encoded part.
MAIL_POLICY = email.policy.SMTP.clone(max_line_length=998)
#: sends one e-mail (SMTP submission); raises OSError or smtplib's errors when it fails
SendMail = Callable[[EmailMessage], None]
#: POSTs a body with headers; returns the status code; raises OSError when unreachable
Post = Callable[[str, bytes, Mapping[str, str]], int]


@dataclass(frozen=True)
class PagedItem:
    """An item paged at a desk, with its pages and who reacted (for the console)."""

    item: Pageable
    pages: list[PageRecord]
    reaction: Reaction | None

    def to_json(self) -> dict[str, Any]:
        i = self.item
        return {
            "item": i.key,
            "kind": i.kind.value,
            "desk": i.desk,
            "ref": i.ref,
            "line": i.line,
            "precedence": i.precedence.value,
            "subject": i.subject,
            "from": i.sender,
            "since": format_time(i.since),
            "open": self.reaction is None,
            "pages": [p.to_json() for p in self.pages],
            "reaction": self.reaction.to_json() if self.reaction else None,
        }


class Pager:
    def __init__(
        self,
        writer: LedgerWriter,
        watch: Watch,
        peers: PeerStore,
        paging: PagingStore,
        party: str,
        *,
        send_mail: SendMail | None = None,
        post: Post | None = None,
        mail_from: str = "hotline@localhost",
        language: str = "en",
        console_url: str = "",
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.writer = writer
        self.store = writer.store
        self.clock: Clock = writer.clock
        self.watch = watch
        self.peers = peers
        self.paging = paging
        self.party = party
        self.send_mail = send_mail
        self.post = post
        self.mail_from = mail_from
        self.language = language
        self.console_url = console_url.rstrip("/")
        self.monotonic = monotonic
        self._plan: tuple[int, PagingPlan] | None = None
        self._pos = 0  # the record read up to here for messages waiting
        self._waiting: dict[str, Event] = {}
        self._acked: set[str] = set()  # messages acknowledged (paged ones only matter)

    # -- the plan ------------------------------------------------------------------------

    def plan(self) -> PagingPlan:
        """The plan in force (the defaults, paging whoever is on watch, if none is set)."""
        record = self.paging.plan()
        if record is None:
            return PagingPlan()
        if self._plan is None or self._plan[0] != record.id:
            self._plan = (record.id, parse_plan(record.source, record.format))
        return self._plan[1]

    def set_plan(self, text: str, fmt: str, by: str) -> PagingPlan:
        """Check and keep a new plan; its desks must be desks of this node's party."""
        if fmt not in ("yaml", "json"):
            raise InvalidInput("format", f"{fmt!r}: a plan is yaml or json")
        plan = parse_plan(text, fmt)
        known = {p.id for p in self.store.principals(self.party)}
        for desk in plan.desks:
            if desk not in known:
                raise NotFound("desk", desk, hint=f"a desk is a principal of {self.party}")
        self.paging.set_plan(text, fmt, by, format_time(self.clock.now()))
        return plan

    # -- what is paged -------------------------------------------------------------------

    def open_items(self) -> list[Pageable]:
        """What waits at this party's desks now: FLASH and IMMEDIATE messages nobody has
        acknowledged (one item per desk of the party on the line that answers for it: a
        watch officer, a leader's staff, an attaché), and escalation alerts still open
        (one per desk alerted)."""
        items: list[Pageable] = []
        lines = {state.line.id: state for state in self.store.lines(self.party)}
        answering = {
            p.id for p in self.store.principals(self.party) if set(p.roles) & ANSWERING_ROLES
        }
        for m in self._waiting_messages():
            state = lines.get(m.line)
            if state is None or state.status is not LineStatus.ACTIVE:
                continue
            if self.party not in awaited(m, state.line):
                continue  # sent to it for information, or it only observes the line
            for desk in sorted(state.line.policy.principals):
                if party_of(desk) != self.party or desk not in answering:
                    continue
                items.append(
                    Pageable(
                        item_key(ItemKind.MESSAGE, m.id, desk),
                        ItemKind.MESSAGE,
                        desk,
                        m.id,
                        m.line,
                        Precedence(m.content["precedence"]),
                        m.counted_from,
                        str(m.content["subject"]),
                        m.author,
                    )
                )
        refs = [
            a.key.partition(":")[2]
            for a in self.peers.alerts()
            if a.kind == "escalation" and a.key.startswith("escalation:")
        ]
        if refs:
            for e in self.store.referring(refs, [EventKind.ESCALATION.value]):
                c = e.content
                if e.party != self.party or c.get("action") != Action.ALERT.value:
                    continue
                if c.get("outcome") != "done":
                    continue
                try:
                    message = self.store.event(str(c["ref"]))
                except NotFound:
                    continue
                precedence = Precedence(message.content.get("precedence", "FLASH"))
                for desk in c.get("to") or []:
                    items.append(
                        Pageable(
                            item_key(ItemKind.ESCALATION, e.id, str(desk)),
                            ItemKind.ESCALATION,
                            str(desk),
                            message.id,
                            message.line,
                            precedence if precedence in PAGED else Precedence.IMMEDIATE,
                            e.ts,
                            str(message.content["subject"]),
                            message.author,
                        )
                    )
        return items

    def _waiting_messages(self) -> list[Event]:
        """FLASH and IMMEDIATE messages of other parties that this party has not
        acknowledged, kept up to date from the events stored since the last call (the
        whole record is read once, at the first)."""
        found, newest = self.store.watched_after(
            max(0, self._pos - self.store.late_positions),
            [EventKind.MESSAGE.value],
            [EventKind.ACK.value],
            [self.party],
        )
        for _, e in found:
            if e.kind == EventKind.ACK:
                ref = str(e.content["ref"])
                if self._waiting.pop(ref, None) is not None:
                    self._acked.add(ref)  # read again on PostgreSQL: not waiting again
            elif (
                e.party != self.party
                and e.content.get("precedence") in _PAGED_VALUES
                and e.id not in self._acked
            ):
                self._waiting[e.id] = e
        self._pos = newest
        return list(self._waiting.values())

    def chain(self, plan: PagingPlan, desk: str, now: datetime) -> list[Person | None]:
        """The desk's chain, each place resolved to a person (None: nobody on watch)."""
        out: list[Person | None] = []
        for name in plan.desk(desk).chain:
            if name == WATCH:
                officer = self.watch.officer(desk, now)
                out.append(None if officer is None else plan.people.get(officer, Person(officer)))
            else:
                out.append(plan.people[name])
        return out

    # -- a round -------------------------------------------------------------------------

    def tick(self) -> int:
        """One round: pages due sent, items no longer waiting closed, the on-call tools
        told of what is over. Sending stops once the round has taken :data:`ROUND_BUDGET`
        (what is left is still due at the next round), so a round never outlasts the
        lease of the worker that runs it. Returns how many pages were sent or tried."""
        now = self.clock.now()
        started = self.monotonic()
        self.paging.mark_unknown(format_time(now - STALE_SENDING), format_time(now))
        plan = self.plan()
        items = self.open_items()
        keys = [i.key for i in items]
        reacted = self.paging.reactions(keys) if keys else {}
        waiting = [i for i in items if i.key not in reacted]
        sent = self.paging.sent([i.key for i in waiting])
        count = 0
        for item in waiting:
            chain = self.chain(plan, item.desk, now)
            for due in pages_due(item, chain, sent, plan, now):
                if self.monotonic() - started > ROUND_BUDGET:
                    return count
                count += self._page(plan, due, now)
            configured = item.desk in plan.desks  # the desk is meant to be paged beyond its console
            if configured and not any(p is not None and p.reachable for p in chain):
                self.peers.open_alert(
                    f"paging:{item.key}",
                    "paging",
                    f"nobody can be paged at {item.desk}",
                    f"{item.precedence.value} {item.subject!r} waits at {item.desk} and no "
                    "place on its chain can be reached: set the roster (hotline watch) or "
                    "the paging plan (hotline page plan set)",
                    format_time(now),
                )
        self._close_finished({i.key for i in items}, now)
        self._resolve_pending(plan, now, started)
        return count

    def _page(self, plan: PagingPlan, due: PageDue, now: datetime) -> int:
        """Send one page (by the person's e-mail and webhook, and the desk's webhooks),
        or record that nobody could be reached there (and tell the desk's webhooks)."""
        at = format_time(now)
        text = self.text(due)
        hooks = list(plan.desk(due.item.desk).webhooks)
        count = 0
        if not due.reachable:
            why = (
                f"nobody on watch at {due.item.desk}"
                if not due.person
                else f"no e-mail or webhook for {due.person} in the paging plan"
            )
            if self.paging.begin(due, "none", "", UNREACHABLE, why, at) is None:
                return 0  # recorded by another process
            log.warning("page not sent: %s (%s)", why, due.item.key)
        else:
            person = plan.people.get(due.person) or Person(due.person)
            if person.email:
                count += self._email(due, person.email, text, at)
            if person.webhook and person.webhook not in hooks:
                hooks.insert(0, person.webhook)
        for name in hooks:
            count += self._webhook(due, plan.webhooks[name], text, now)
        return count

    def _email(self, due: PageDue, address: str, text: PageText, at: str) -> int:
        if self.send_mail is None:
            self.paging.begin(due, "email", address, FAILED, "no SMTP server: set smtp_url", at)
            return 1
        mail = EmailMessage(policy=MAIL_POLICY)
        mail["From"] = self.mail_from
        mail["To"] = address
        mail["Subject"] = text.title
        mail["Message-ID"] = make_msgid(domain="hotline")
        thread = f"<{sha256(due.item.key.encode()).hexdigest()[:32]}@hotline>"
        mail["References"] = thread
        mail["In-Reply-To"] = thread
        mail["Auto-Submitted"] = "auto-generated"
        mail["Importance"] = "high"
        mail["X-Priority"] = "1"
        mail["X-Hotline-Item"] = due.item.key
        mail.set_content(text.body + (f"\n\n{text.link}\n" if text.link else "\n"))
        page_id = self.paging.begin(due, "email", address, SENDING, "", at)
        if page_id is None:
            return 0  # this very page is another process's
        try:
            self.send_mail(mail)
        except Exception as exc:  # any failure of the server is the page's outcome
            self.paging.finish(page_id, FAILED, _why(exc), format_time(self.clock.now()))
            log.warning("e-mail page to %s failed: %s", address, _why(exc))
        else:
            self.paging.finish(page_id, SENT, "", format_time(self.clock.now()))
        return 1

    def _request(
        self, due: PageDue, hook: Webhook, text: PageText, now: datetime, *, resolved: bool
    ) -> tuple[bytes, dict[str, str]]:
        body = encode(page_body(hook, due, text, party=self.party, at=now, resolved=resolved))
        headers = sign_webhook(
            hook,
            body,
            node_key=self.writer.key(self.party),
            party=self.party,
            now=now,
            nonce=secrets.token_urlsafe(16),
        )
        return body, headers

    def _webhook(self, due: PageDue, hook: Webhook, text: PageText, now: datetime) -> int:
        at = format_time(now)
        if self.post is None:
            self.paging.begin(due, "webhook", hook.name, FAILED, "no HTTP client", at)
            return 1
        body, headers = self._request(due, hook, text, now, resolved=False)
        page_id = self.paging.begin(due, "webhook", hook.name, SENDING, "", at)
        if page_id is None:
            return 0
        self._post(page_id, hook, body, headers, SENT)
        return 1

    def _post(
        self, page_id: int, hook: Webhook, body: bytes, headers: dict[str, str], done: str
    ) -> None:
        assert self.post is not None
        try:
            status = self.post(hook.url, body, headers)
        except Exception as exc:  # unreachable, refused, timed out: the page's outcome
            self.paging.finish(page_id, FAILED, _why(exc), format_time(self.clock.now()))
            log.warning("webhook %s failed: %s", hook.name, _why(exc))
            return
        state = done if status < 300 else FAILED
        self.paging.finish(page_id, state, f"HTTP {status}", format_time(self.clock.now()))

    # -- reactions -----------------------------------------------------------------------

    def take(self, item: str, principal: str) -> Reaction:
        """``principal`` (a desk) takes an item paged there: paging it stops (the next
        round tells the on-call tools). Raises NotFound for an item not paged, Forbidden
        for another desk's item, InvalidInput when somebody reacted already."""
        who = parse_principal_id(principal)
        open_items = {i.key: i for i in self.open_items()}
        found = open_items.get(item)
        if found is None:
            raise NotFound("paged item", item, hint="see `hotline page list`")
        if found.desk != who:
            raise Forbidden(f"{item} is paged at {found.desk}", hint=f"sign in as {found.desk}")
        now = self.clock.now()
        officer = self.watch.officer(who, now) or ""
        if not self.paging.react(item, found.desk, who, officer, "take", format_time(now)):
            held = self.paging.reactions([item])[item]
            raise InvalidInput(
                "item", f"{held.by} reacted already ({held.how}, {held.at})", hint="nothing to do"
            )
        self.peers.close_alert(f"paging:{item}", format_time(now))
        return self.paging.reactions([item])[item]

    def _close_finished(self, still_open: Collection[str], now: datetime) -> None:
        """Items paged that no longer wait: record who closed them (no I/O here)."""
        for key, desk in self.paging.paged_items().items():
            if key in still_open:
                continue
            kind, _, rest = key.partition(":")
            ref = rest.rpartition(":")[0]
            by, officer, how, at = "", "", "closed", format_time(now)
            if kind == ItemKind.MESSAGE.value:
                acks = [a for a in self.store.acks_of([ref]) if a.party == self.party]
                if acks:
                    a = acks[0]
                    by, officer, how = a.author, str(a.content.get("officer") or ""), "ack"
                    at = str(a.body["ts"])
            self.paging.react(key, desk, by, officer, how, at)
            self.peers.close_alert(f"paging:{key}", format_time(now))

    def _resolve_pending(self, plan: PagingPlan, now: datetime, started: float) -> None:
        """Tell each webhook that paged about an item somebody reacted to (in the last
        :data:`RESOLVE_FOR`) that it is over; one that failed is tried again a minute
        later."""
        if self.post is None:
            return
        for reaction in self.paging.reacted_since(format_time(now - RESOLVE_FOR)):
            rows = self.paging.webhooks_paged(reaction.item)
            told = {r.target for r in rows if r.ring == 0 and r.state == RESOLVED}
            paged = {r.target: r for r in rows if r.ring > 0 and r.state != FAILED}
            for target, page in paged.items():
                hook = plan.webhooks.get(target)
                if target in told or hook is None:
                    continue
                if self.monotonic() - started > ROUND_BUDGET:
                    return
                due = PageDue(_pageable(page), -1, "", 0, True)
                retry_before = format_time(now - RESOLVE_RETRY)
                page_id = self.paging.claim_resolve(due, target, format_time(now), retry_before)
                if page_id is None:
                    continue
                body, headers = self._request(
                    due, hook, self.text(due, resolved=True), now, resolved=True
                )
                self._post(page_id, hook, body, headers, RESOLVED)

    # -- what the console shows ----------------------------------------------------------

    def board(self, desks: Collection[str], limit: int = 50) -> list[PagedItem]:
        """Items paged at ``desks``, open ones first, newest first, with their pages."""
        records = self.paging.pages(desks=desks, limit=2000)
        by_item: dict[str, list[PageRecord]] = {}
        for r in records:
            by_item.setdefault(r.item, []).append(r)
        reactions = self.paging.reactions(list(by_item)) if by_item else {}
        out = [
            PagedItem(_pageable(pages[-1]), pages, reactions.get(key))
            for key, pages in by_item.items()
        ]
        out.sort(key=lambda p: (p.reaction is not None, -max(r.id for r in p.pages)))
        return out[:limit]

    # -- what a page says ----------------------------------------------------------------

    def text(self, due: PageDue, *, resolved: bool = False) -> PageText:
        item = due.item
        words = _WORDS.get(self.language, _WORDS["en"])
        values = {
            "precedence": item.precedence.value,
            "sender": item.sender,
            "line": item.line,
            "subject": item.subject,
            "desk": item.desk,
            "since": format_time(item.since),
            "person": due.person,
            "ring": due.ring,
            "level": due.level + 1,
        }
        head = words["over" if resolved else item.kind.value].format(**values)
        body = words["body_" + item.kind.value].format(**values)
        if not resolved:
            body += " " + words["ring"].format(**values)
        link = f"{self.console_url}/#/inbox/{item.ref}" if self.console_url else None
        return PageText(head, body, link)


def _pageable(page: PageRecord) -> Pageable:
    return Pageable(
        page.item,
        ItemKind(page.kind),
        page.desk,
        page.ref,
        page.line,
        Precedence(page.precedence),
        parse_time(page.since),
        page.subject,
        page.sender,
    )


def _why(exc: BaseException) -> str:
    return (f"{type(exc).__name__}: {exc}").strip()[:500]


_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "message": "{precedence} on {line} from {sender}: {subject}",
        "escalation": "Unacknowledged: our {precedence} on {line}: {subject}",
        "over": "Over: {subject} ({line})",
        "body_message": "A {precedence} message waits at {desk} since {since}, not acknowledged.",
        "body_escalation": "Our {precedence} message on {line} ({subject}) has not been "
        "acknowledged by the other party; {desk} is alerted.",
        "ring": "Page {ring} to {person} (place {level} on the desk's chain). "
        "Acknowledge it, or take it in the console.",
    },
    "ru": {
        "message": "{precedence} на линии {line} от {sender}: {subject}",
        "escalation": "Без подтверждения: наше {precedence} на линии {line}: {subject}",
        "over": "Снято: {subject} ({line})",
        "body_message": "Сообщение {precedence} ждёт на посту {desk} с {since}, не подтверждено.",
        "body_escalation": "Наше сообщение {precedence} на линии {line} ({subject}) не "
        "подтверждено другой стороной; пост {desk} оповещён.",
        "ring": "Вызов {ring}: {person} (место {level} в цепочке поста). "
        "Подтвердите сообщение или примите вызов в консоли.",
    },
    "zh": {
        "message": "线路 {line} 上来自 {sender} 的 {precedence}：{subject}",
        "escalation": "未获确认：我方在线路 {line} 上的 {precedence}：{subject}",
        "over": "已结束：{subject}（{line}）",
        "body_message": "一条 {precedence} 消息自 {since} 起在 {desk} 等待处理，尚未确认。",
        "body_escalation": "我方在线路 {line} 上的 {precedence} 消息（{subject}）"
        "尚未获对方确认；已向 {desk} 发出警报。",
        "ring": "第 {ring} 次呼叫 {person}（席位呼叫链第 "
        "{level} 位）。请确认该消息，或在控制台中接手。",
    },
    "ko": {
        "message": "{precedence}, 회선 {line}, 발신 {sender}: {subject}",
        "escalation": "미확인: 아측 {precedence}, 회선 {line}: {subject}",
        "over": "종료: {subject} ({line})",
        "body_message": "{precedence} 전문이 {since}부터 {desk}에서 "
        "확인되지 않은 채 대기 중입니다.",
        "body_escalation": "회선 {line}의 아측 {precedence} 전문({subject})을 "
        "상대측이 확인하지 않았습니다. {desk}에 경보가 발령되었습니다.",
        "ring": "{person}에게 {ring}회차 호출 (근무석 호출 순서 "
        "{level}순위). 콘솔에서 확인하거나 담당하십시오.",
    },
}
