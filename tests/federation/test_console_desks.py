"""The desks' views of the console in real headless Chromium (Debian's package, driven by
Playwright) against two real `hotline serve` processes: the US node in English, the RU
node in Russian. Each workflow end to end on both: notifications of intent (with a
short-notice confirmation, amend and cancel), the overdue board with each item's
escalation timeline, the attaché forwarding a relayed message with its verified
signature, the watch roster and a handover, a translation certified or corrected by a
second translator beside its original, contact requests accepted, declined, cancelled
and held with the refusal record as a chart, and the auditor's record of a line with
its verification and the peer comparison, a roll call answered from the banner, and the
Paging view taking an item. axe-core finds no violation on any of these views, forms and
dialogs in either language.

The two nodes and their lines are set up once for the module; each test uses its own
subjects and topics.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hotline.domain.proofs import verify_bundle
from tests.federation.test_console_browser import (  # noqa: F401 - the browser fixture
    PASSWORD,
    axe_clean,
    browser,
    open_view,
    sign_in,
)
from tests.federation.test_processes import (
    LINE,
    RU_DESK,
    US_DESK,
    Lab,
    Pair,
    both,
    cli,
    cli_json,
    wait_for,
)
from tests.federation.test_processes_escalation import open_line

pytestmark = pytest.mark.browser

ATTACHE = "us-ru-attache"
LEADERS = "us-ru-leaders"
US_LEADER, RU_LEADER = "US/SECDEF", "RU/MINDEF"
US_RELAY, RU_RELAY = "US/DATT-MOSCOW", "RU/MOD-ILO"
US_TRANSLATORS = ("US/LANG-1", "US/LANG-2")
RU_TRANSLATORS = ("RU/LANG-1", "RU/LANG-2")
US_AUDITOR, RU_AUDITOR = "US/AUDIT", "RU/AUDIT"
#: Escalation and delivery between two processes on a loaded two-core machine.
SOON_S = 90.0

PRINCIPALS = {
    "US": [
        (US_DESK, "watch_officer"),
        (US_LEADER, "leader"),
        (US_RELAY, "relay"),
        (US_TRANSLATORS[0], "translator"),
        (US_TRANSLATORS[1], "translator"),
        (US_AUDITOR, "auditor"),
    ],
    "RU": [
        (RU_DESK, "watch_officer"),
        (RU_LEADER, "leader"),
        (RU_RELAY, "relay"),
        (RU_TRANSLATORS[0], "translator"),
        (RU_TRANSLATORS[1], "translator"),
        (RU_AUDITOR, "auditor"),
    ],
}


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def desk_templates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """US and RU nodes with a principal for every desk (and its password); the RU node
    speaks Russian (its `language` setting)."""
    base = tmp_path_factory.mktemp("desk-templates")
    us, ru = base / "us", base / "ru"

    def make(home: Path, party: str) -> None:
        cli(home, "init", "--party", party)
        for principal, role in PRINCIPALS[party]:
            cli(home, "principal", "add", principal, "--role", role)
            cli(home, "principal", "set-password", principal, "--password", PASSWORD)
        if party == "RU":
            with (home / "hotline.toml").open("a", encoding="utf-8") as config:
                config.write('\nlanguage = "ru"\n')

    both(lambda: make(us, "US"), lambda: make(ru, "RU"))
    return us, ru


@pytest.fixture(scope="module")
def desks(
    tmp_path_factory: pytest.TempPathFactory, desk_templates: tuple[Path, Path]
) -> Iterator[Pair]:
    """Both nodes served and peered, with a deconfliction line (FLASH due in 3 s, so
    that escalation runs within a test), an attaché line and a leaders line."""
    lab = Lab(tmp_path_factory.mktemp("desks"), desk_templates)
    try:
        fast = {"HOTLINE_CHECKPOINT_INTERVAL": "1s"}  # checkpoints soon after each message
        pair = lab.pair(line=False, us_env=fast, ru_env=fast)
        members = [US_DESK, RU_DESK, *US_TRANSLATORS, *RU_TRANSLATORS, US_AUDITOR, RU_AUDITOR]
        open_line(pair, LINE, "deconfliction", members, "--deadline", "FLASH=3s")
        open_line(pair, ATTACHE, "relay", [US_RELAY, RU_RELAY], "--title", "attaché")
        open_line(pair, LEADERS, "leaders", [US_LEADER, RU_LEADER])
        pair.wait_settled()
        yield pair
    finally:
        lab.close()


# -- helpers -----------------------------------------------------------------------------


def desk(browser: Any, pair: Pair, principal: str) -> Any:  # noqa: F811
    """A console signed in as ``principal`` on its own party's node."""
    url = pair.us.url if principal.startswith("US/") else pair.ru.url
    page = sign_in(browser, url, principal)
    assert page.evaluate("document.documentElement.lang") == ("en" if url == pair.us.url else "ru")
    return page


def utc_input(delta: timedelta) -> str:
    """A datetime-local value (read as UTC by the console), ``delta`` from now."""
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M")


def send(pair: Pair, side: str, *args: str) -> None:
    server = pair.us if side == "US" else pair.ru
    author = US_DESK if side == "US" else RU_DESK
    cli(server.home, "send", "--line", LINE, "--as", author, *args)


def arrived(pair: Pair, subject: str) -> Callable[[], bool]:
    def check() -> bool:
        return all(
            any(
                e.content.get("subject") == subject
                for e in node.store.events(LINE, kinds=["message"])
            )
            for node in (pair.us_node, pair.ru_node)
        )

    return check


def no_raw_iso(page: Any, where: str = "#main") -> None:
    """No time on screen as raw ISO 8601 (``where``: the part of the page the view writes
    times in; a message's own subject may quote one)."""
    for text in page.locator(where).all_inner_texts():
        found = re.search(r"\d{4}-\d\d-\d\dT\d\d:\S*", text)
        assert not found, f"a raw ISO time on screen: {found.group(0)} in {text[:200]!r}"


def too_wide(page: Any) -> list[str]:
    """The innermost elements reaching past the window's right edge."""
    found: list[str] = page.evaluate(
        """() => {
          const past = e => e.getBoundingClientRect().right > window.innerWidth;
          return [...document.querySelectorAll('#main *')]
            .filter(e => past(e) && ![...e.children].some(past))
            .slice(0, 5)
            .map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`);
        }"""
    )
    return found


# -- notifications of intent -------------------------------------------------------------


def test_notifications_of_intent_sent_at_short_notice_amended_and_cancelled(
    desks: Pair,
    browser: Any,  # noqa: F811
) -> None:
    pair = desks
    us = desk(browser, pair, US_DESK)
    open_view(us, "notices")
    axe_clean(us, "notices (en)")
    us.click("#notice-new")
    form = us.locator("#notice-form")
    us.select_option("#notice-form-line", LINE)
    us.select_option("#notice-form-activity", "missile_launch")
    us.fill("#notice-form-start", utc_input(timedelta(hours=2)))
    us.fill("#notice-form-end", utc_input(timedelta(hours=4)))
    us.fill("#notice-form-points", "34.6, -120.6\n34.8, -120.6\n34.8, -120.4")
    us.fill("#notice-form-units", "30th Space Wing\nMinuteman III")
    us.fill("#notice-form-remark", "Test launch westward. Not directed at you.")
    lead = us.locator("#notice-form-lead")
    assert "Short notice" in lead.inner_text() and "24h" in lead.inner_text(), lead.inner_text()
    us.wait_for_selector("#area-map .leaflet-buttons-control-button", timeout=20_000)
    axe_clean(us, "notice form (en)")
    form.locator("button[type=submit]").click()

    dialog = us.locator("dialog#short-notice[open]")
    dialog.wait_for(timeout=10_000)  # the node refused it for lead time: confirm or not
    assert "24h" in dialog.inner_text()
    axe_clean(us, "short-notice dialog (en)")
    us.click("#short-notice-confirm")
    us.locator("#notice-status", has_text="Notification sent").wait_for(timeout=10_000)
    assert "Short notice recorded" in us.locator("#notice-status").inner_text()
    row = us.locator("#notices tbody tr", has_text="missile launch").first
    row.wait_for(timeout=10_000)
    assert "active" in row.inner_text()
    assert "short notice" in row.inner_text()
    notice_id = row.get_attribute("data-id")

    # amend: a circle now, and three days ahead
    row.locator("button[data-action=amend]").click()
    assert us.input_value("#notice-form-units") == "30th Space Wing\nMinuteman III"
    us.check("#notice-form input[name=area-mode][value=circle]")
    us.fill("#notice-form-centre", "34.7N 120.5W")
    us.fill("#notice-form-radius", "25")
    us.select_option("#notice-form-unit", "NM")
    us.fill("#notice-form-start", utc_input(timedelta(days=3)))
    us.fill("#notice-form-end", utc_input(timedelta(days=3, hours=2)))
    assert "a missile launch needs 24h" in us.locator("#notice-form-lead").inner_text()
    us.locator("#notice-form button[type=submit]").click()
    us.locator("#notice-status", has_text="Amendment sent").wait_for(timeout=10_000)
    row = us.locator(f"#notices tbody tr[data-id='{notice_id}']")
    row.filter(has_text="amended").wait_for(timeout=10_000)
    assert "25 nautical miles around 34.7, -120.5" in row.inner_text()

    # the RU console sees the US notification as amended, in Russian
    ru = desk(browser, pair, RU_DESK)
    open_view(ru, "notices")
    theirs = ru.locator(f"#notices tbody tr[data-id='{notice_id}']")
    theirs.wait_for(timeout=SOON_S * 1000)
    assert "пуск ракеты" in theirs.inner_text() and "изменено" in theirs.inner_text()
    assert theirs.locator("button").count() == 0  # not RU's to amend or cancel

    # RU announces a naval exercise with enough notice, as a polygon
    ru.click("#notice-new")
    ru.select_option("#notice-form-activity", "naval_exercise")
    ru.fill("#notice-form-start", utc_input(timedelta(days=4)))
    ru.fill("#notice-form-end", utc_input(timedelta(days=5)))
    ru.fill("#notice-form-points", "55,0 19,0\n56,0 19,0\n56,0 20,5\n55,0 20,5")
    ru.fill("#notice-form-units", "Балтийский флот")
    lead = ru.locator("#notice-form-lead").inner_text()
    assert "Срок уведомления" in lead and "требуется 3 сут" in lead, lead
    ru.wait_for_selector("#area-map .leaflet-buttons-control-button", timeout=20_000)
    axe_clean(ru, "notice form (ru)")
    ru.locator("#notice-form button[type=submit]").click()
    ru.locator("#notice-status", has_text="Уведомление отправлено").wait_for(timeout=10_000)
    ours = ru.locator("#notices tbody tr", has_text="военно-морские учения").first
    ours.filter(has_text="действует").wait_for(timeout=10_000)
    assert "многоугольник: 55, 19; 56, 19; 56, 20.5; 55, 20.5" in ours.inner_text()
    no_raw_iso(ru)
    axe_clean(ru, "notices (ru)")

    # an area that is not one is refused before anything is sent
    ru.click("#notice-new")
    ru.fill("#notice-form-start", utc_input(timedelta(days=4)))
    ru.fill("#notice-form-end", utc_input(timedelta(days=5)))
    ru.fill("#notice-form-points", "55 19\nпятьдесят 19\n56 20")
    ru.fill("#notice-form-units", "корабли")
    ru.locator("#notice-form button[type=submit]").click()
    assert "Строка 2 района" in ru.locator("#notice-form-problem").inner_text()
    ru.locator("#notice-form button.secondary").click()

    # RU cancels its own; US cancels the amended one
    ours.locator("button[data-action=cancel]").click()
    ru.locator("dialog#notice-cancel[open]").wait_for()
    axe_clean(ru, "cancel dialog (ru)")
    ru.fill("#notice-cancel-reason", "Учения перенесены.")
    ru.locator("dialog#notice-cancel button[type=submit]").click()
    ru.locator("#notice-status", has_text="Отмена отправлена").wait_for(timeout=10_000)
    ours.filter(has_text="отменено").wait_for(timeout=10_000)

    row.locator("button[data-action=cancel]").click()
    us.fill("#notice-cancel-reason", "Launch postponed.")
    us.locator("dialog#notice-cancel button[type=submit]").click()
    row.filter(has_text="cancelled").wait_for(timeout=10_000)
    assert row.locator("button").count() == 0
    no_raw_iso(us)

    # the CLI tells the same story
    listed = {n["id"]: n for n in cli_json(pair.us.home, "notice", "list")}
    assert listed[str(notice_id)]["state"] == "cancelled"
    assert listed[str(notice_id)]["activity"] == "missile_launch"
    us.context.close()
    ru.context.close()


# -- the overdue board and the attaché's desk ------------------------------------------


def test_overdue_flashes_show_their_escalation_and_the_attache_forwards_the_relay(
    desks: Pair,
    browser: Any,  # noqa: F811
) -> None:
    pair = desks
    us_subject, ru_subject = "Launch warning: unacknowledged", "Предупреждение о пуске"
    send(
        pair, "US", "--precedence", "FLASH", "--subject", us_subject, "--body", "Launch at 14:00Z."
    )
    send(
        pair,
        "RU",
        "--precedence",
        "FLASH",
        "--lang",
        "ru",
        "--subject",
        ru_subject,
        "--body",
        "Пуск в 14:00Z.",
    )

    def relayed(node: Any, party: str, subject: str) -> bool:
        return any(r.original.content.get("subject") == subject for r in node.relays.relayed(party))

    wait_for(
        "both FLASHes to be relayed to the other side",
        lambda: relayed(pair.ru_node, "RU", us_subject) and relayed(pair.us_node, "US", ru_subject),
        timeout=SOON_S,
        explain=pair.explain,
    )

    # the watch officer's overdue board: each FLASH with what escalation did, when, by which route
    for principal, subject, words in (
        (US_DESK, us_subject, ("resent", "relayed", f"via {ATTACHE}", "OVERDUE")),
        (
            RU_DESK,
            ru_subject,
            (
                "отправлено повторно",
                "передано через посредника",
                f"по линии {ATTACHE}",
                "ПРОСРОЧЕНО",
            ),
        ),
    ):
        page = desk(browser, pair, principal)
        open_view(page, "overdue")
        item = page.locator("#overdue li.overdue-item", has_text=subject)
        item.locator(".timeline li[data-action=relay]").first.wait_for(timeout=SOON_S * 1000)
        text = item.inner_text()
        for word in words:
            assert word in text, (word, text)
        assert re.search(r"\d\d:\d\d:\d\d UTC", item.locator(".timeline").inner_text())
        no_raw_iso(page, "#overdue .meta, #overdue .due, #overdue .timeline")
        axe_clean(page, f"overdue ({principal})")
        page.context.close()

    # the leader's staff sees the board too
    leader = desk(browser, pair, US_LEADER)
    open_view(leader, "overdue")
    leader.locator("#main h1").wait_for()
    leader.context.close()

    # the attaché: the relayed original, its signature verified, forwarded to the desk
    forwarded_relay = ""
    for principal, subject, verified, to, forwarded in (
        (US_RELAY, ru_subject, f"Signature of {RU_DESK} verified", US_DESK, "Forwarded by"),
        (RU_RELAY, us_subject, f"Подпись {US_DESK} проверена", RU_DESK, "Переслал"),
    ):
        page = desk(browser, pair, principal)
        open_view(page, "relays")
        first = page.locator("#relays li.relay", has_text=subject).first
        first.wait_for(timeout=SOON_S * 1000)
        # each round of escalation relays it again: keep to one relay
        forwarded_relay = str(first.get_attribute("data-id"))
        card = page.locator(f"#relays li.relay[data-id='{forwarded_relay}']")
        assert verified in card.locator(".signature").inner_text()
        axe_clean(page, f"relays ({principal})")
        card.locator("button[data-action=forward]").click()
        page.locator("dialog#relay-forward[open]").wait_for()
        axe_clean(page, f"forward dialog ({principal})")
        page.fill("#relay-forward-to", to)
        page.locator("dialog#relay-forward button[type=submit]").click()
        card.locator(".forwarded", has_text=forwarded).wait_for(timeout=10_000)
        assert to in card.locator(".forwarded").inner_text()
        no_raw_iso(page, "#relays .meta, #relays .forwarded")
        page.context.close()
    listed = cli_json(pair.ru.home, "relay", "list", "--as", RU_RELAY)
    (row,) = [r for r in listed if r["relay"] == forwarded_relay]  # RU's, the last one
    assert [f["to"] for f in row["forwarded"]] == [[RU_DESK]]


# -- the watch roster ----------------------------------------------------------------------


def test_the_watch_roster_shows_who_is_on_watch_and_records_a_handover(
    desks: Pair,
    browser: Any,  # noqa: F811
) -> None:
    pair = desks
    now = datetime.now(UTC)

    def iso(delta: timedelta) -> str:
        return (now + delta).strftime("%Y-%m-%dT%H:%M:%SZ")

    for server, principal, first, second in (
        (pair.us, US_DESK, "Maj. Carter", "Capt. Reyes"),
        (pair.ru, RU_DESK, "майор Петров", "капитан Иванов"),
    ):
        cli(
            server.home,
            "watch",
            "add",
            principal,
            "--officer",
            first,
            "--from",
            iso(-timedelta(hours=1)),
            "--to",
            iso(timedelta(hours=7)),
        )
        cli(
            server.home,
            "watch",
            "add",
            principal,
            "--officer",
            second,
            "--from",
            iso(timedelta(hours=7)),
            "--to",
            iso(timedelta(hours=15)),
        )

    for principal, on, nxt, note, done in (
        (
            US_DESK,
            "Maj. Carter",
            "Capt. Reyes",
            "Two FLASH items open; RU link degraded at 03:10Z.",
            "handed over to Capt. Reyes",
        ),
        (
            RU_DESK,
            "майор Петров",
            "капитан Иванов",
            "Открыты два сообщения МОЛНИЯ.",
            "сдан: капитан Иванов",
        ),
    ):
        page = desk(browser, pair, principal)
        open_view(page, "watch")
        row = page.locator(f"#watch-board tr[data-desk='{principal}']")
        row.wait_for(timeout=10_000)
        assert on in row.locator(".on-watch").inner_text()
        assert nxt in row.inner_text()
        no_raw_iso(page)
        axe_clean(page, f"watch roster ({principal})")
        row.locator("button[data-action=handover]").click()
        assert page.input_value("#handover-to") == nxt  # the next officer, to begin with
        page.fill("#handover-note", note)
        axe_clean(page, f"handover form ({principal})")
        page.locator("#handover-form button[type=submit]").click()
        page.locator("#handover-status", has_text=done).wait_for(timeout=10_000)
        page.context.close()

    def handovers(node: Any, author: str) -> list[dict[str, Any]]:
        return [
            dict(e.content)
            for line in (LINE, ATTACHE, LEADERS)
            for e in node.store.events(line, kinds=["watch.handover"])
            if e.author == author
        ]

    (us_handover,) = handovers(pair.us_node, US_DESK)
    assert (us_handover["from"], us_handover["to"]) == ("Maj. Carter", "Capt. Reyes")
    (ru_handover,) = handovers(pair.ru_node, RU_DESK)
    assert ru_handover["to"] == "капитан Иванов"


# -- translations ------------------------------------------------------------------------


def test_a_translation_is_made_and_certified_or_corrected_beside_its_original(
    desks: Pair,
    browser: Any,  # noqa: F811
) -> None:
    pair = desks
    us_subject, ru_subject = "Ship movements near Gotland", "Полёты над Балтикой"
    send(pair, "US", "--subject", us_subject, "--body", "Two destroyers will transit at 06:00Z.")
    send(pair, "RU", "--lang", "ru", "--subject", ru_subject, "--body", "Плановые полёты с 09:00Z.")
    wait_for(
        "both messages to reach both nodes",
        lambda: arrived(pair, us_subject)() and arrived(pair, ru_subject)(),
        timeout=SOON_S,
        explain=pair.explain,
    )

    # RU: the first translator translates, the second corrects it and so certifies it
    first = desk(browser, pair, RU_TRANSLATORS[0])
    open_view(first, "translations")
    row = first.locator("#translation-queue tbody tr", has_text=us_subject)
    row.wait_for(timeout=10_000)
    assert "нужен перевод" in row.inner_text()
    axe_clean(first, "translations (ru)")
    row.locator("button.row-open").click()
    original = first.locator(".translation-desk .original")
    assert "Two destroyers will transit at 06:00Z." in original.inner_text()
    first.fill("#translate-subject", "Движение кораблей у Готланда")
    first.fill("#translate-body", "Два эсминца пройдут в 06:00Z.")
    axe_clean(first, "translate form (ru)")
    first.locator("#translate-form button[type=submit]").click()
    first.locator("#translator-status", has_text="записан").wait_for(timeout=10_000)
    row.filter(has_text="ждёт второго переводчика").wait_for(timeout=10_000)
    first.context.close()

    second = desk(browser, pair, RU_TRANSLATORS[1])
    open_view(second, "translations")
    row = second.locator("#translation-queue tbody tr", has_text=us_subject)
    row.filter(has_text="нужно заверить").wait_for(timeout=10_000)
    row.locator("button.row-open").click()
    panel = second.locator(".translation-desk")
    assert "Two destroyers" in panel.locator(".original").inner_text()  # the original beside it
    assert "Два эсминца пройдут в 06:00Z." in panel.locator(".translation").inner_text()
    second.click("#correct")
    second.fill("#correct-body", "Два эсминца пройдут проливом в 06:00Z.")
    axe_clean(second, "correction form (ru)")
    second.locator("#correct-form button[type=submit]").click()
    second.locator("#translator-status", has_text="исправлен и заверен").wait_for(timeout=10_000)
    row.filter(has_text="заверен").wait_for(timeout=10_000)
    row.locator("button.row-open").click()
    panel.locator(".translation", has_text="Два эсминца пройдут проливом").wait_for(timeout=10_000)
    assert "исправлен и заверен" in panel.locator(".translation").inner_text()
    assert "Two destroyers" in panel.locator(".original").inner_text()
    second.context.close()

    # US: translated into English, certified as it stands by the second translator
    first = desk(browser, pair, US_TRANSLATORS[0])
    open_view(first, "translations")
    row = first.locator("#translation-queue tbody tr", has_text=ru_subject)
    row.filter(has_text="to translate").wait_for(timeout=10_000)
    row.locator("button.row-open").click()
    assert "Плановые полёты" in first.locator(".translation-desk .original").inner_text()
    first.fill("#translate-subject", "Flights over the Baltic")
    first.fill("#translate-body", "Scheduled flights from 09:00Z.")
    first.locator("#translate-form button[type=submit]").click()
    row.filter(has_text="awaiting a second translator").wait_for(timeout=10_000)
    axe_clean(first, "translations (en)")
    first.context.close()

    second = desk(browser, pair, US_TRANSLATORS[1])
    open_view(second, "translations")
    row = second.locator("#translation-queue tbody tr", has_text=ru_subject)
    row.filter(has_text="to certify").wait_for(timeout=10_000)
    row.locator("button.row-open").click()
    axe_clean(second, "certify (en)")
    second.click("#certify")
    second.locator("#translator-status", has_text="certified").wait_for(timeout=10_000)
    row.filter(has_text="certified").wait_for(timeout=10_000)
    no_raw_iso(second, "#translation-queue td:nth-child(4)")
    second.context.close()

    message = next(
        e.id
        for e in pair.us_node.store.events(LINE, kinds=["message"])
        if e.content["subject"] == ru_subject
    )
    shown = cli_json(pair.us.home, "translation", "show", message)
    assert [(t["lang"], t["state"], t["certified_by"]) for t in shown["translations"]] == [
        ("en", "certified", US_TRANSLATORS[1])
    ]


# -- contact requests ----------------------------------------------------------------------


def answer(page: Any, row: Any, action: str, text: str, when: str | None = None) -> None:
    row.locator(f"button[data-action={action}]").click()
    dialog = page.locator(f"dialog#contact-{action}[open]")
    dialog.wait_for()
    if when is not None:
        page.fill(f"#contact-{action}-time", when)
    page.fill(f"#contact-{action}-text", text)
    dialog.locator("button[type=submit]").click()


def test_contact_requests_answered_and_the_refusal_record_as_a_chart(
    desks: Pair,
    browser: Any,  # noqa: F811
) -> None:
    pair = desks
    us = desk(browser, pair, US_LEADER)
    open_view(us, "contacts")
    axe_clean(us, "contacts (en)")
    for topic in ("Incident at sea on 12 March", "Exercise schedule for April"):
        us.click("#contact-new")
        us.select_option("#contact-to", RU_LEADER)
        us.fill("#contact-topic", topic)
        axe_clean(us, "request form (en)")
        us.locator("#contact-form button[type=submit]").click()
        us.locator("#contact-status", has_text=f"Call requested with {RU_LEADER}").wait_for(
            timeout=10_000
        )
    asked = us.locator("#contacts tbody tr", has_text="Incident at sea")
    assert "pending" in asked.inner_text() and "answer due" in asked.inner_text()
    # US withdraws the second one
    withdrawn = us.locator("#contacts tbody tr", has_text="Exercise schedule")
    answer(us, withdrawn, "cancel", "Settled at working level.")
    withdrawn.locator("span.state.cancelled").wait_for(timeout=10_000)

    # RU accepts the first with a time for the call, and asks for one of its own
    ru = desk(browser, pair, RU_LEADER)
    open_view(ru, "contacts")
    theirs = ru.locator("#contacts tbody tr", has_text="Incident at sea")
    theirs.wait_for(timeout=SOON_S * 1000)
    assert "ожидает ответа" in theirs.inner_text()
    theirs.locator("button[data-action=accept]").click()
    ru.locator("dialog#contact-accept[open]").wait_for()
    axe_clean(ru, "accept dialog (ru)")
    ru.fill("#contact-accept-time", utc_input(timedelta(hours=2)))
    ru.fill("#contact-accept-text", "Министр готов к разговору.")
    ru.locator("dialog#contact-accept button[type=submit]").click()
    theirs.locator("span.state.accepted", has_text="принят").wait_for(timeout=10_000)
    assert re.search(r"разговор \d", theirs.inner_text()), theirs.inner_text()
    ru.click("#contact-new")
    ru.select_option("#contact-to", US_LEADER)
    ru.fill("#contact-topic", "Учения в Балтийском море")
    ru.locator("#contact-form button[type=submit]").click()
    ru.locator("#contact-status", has_text=f"Запрошен разговор с {US_LEADER}").wait_for(
        timeout=10_000
    )

    # US declines RU's request and records the accepted call as held
    declined = us.locator("#contacts tbody tr", has_text="Учения в Балтийском море")
    declined.wait_for(timeout=SOON_S * 1000)
    answer(us, declined, "decline", "The Secretary is travelling.")
    declined.locator("span.state.declined", has_text="declined").wait_for(timeout=10_000)
    asked.locator("span.state.accepted").wait_for(timeout=SOON_S * 1000)
    asked.locator("button[data-action=held]").click()
    us.locator("dialog#contact-held[open]").wait_for()
    axe_clean(us, "held dialog (en)")
    us.fill("#contact-held-text", "Both sides agreed to exchange track data.")
    us.locator("dialog#contact-held button[type=submit]").click()
    asked.locator("span.state.held", has_text="held").wait_for(timeout=10_000)
    no_raw_iso(us)

    # the record: the summary line, as the CLI counts it, and the chart with its table
    record = us.locator(f".pair-record[data-pair='{US_LEADER}>{RU_LEADER}']")
    record.locator(".summary-line", has_text="2 requests in 30 days").wait_for(timeout=10_000)
    assert record.locator(".summary-line").inner_text() == (
        "2 requests in 30 days: 1 accepted, 0 declined, 0 unanswered; 1 cancelled"
    )
    stats = cli_json(pair.us.home, "contact", "stats", "--days", "30")["pairs"]
    (row,) = [s for s in stats if (s["from"], s["to"]) == (US_LEADER, RU_LEADER)]
    assert (row["requested"], row["accepted"], row["cancelled"]) == (2, 1, 1)
    chart = record.locator("svg[role=img]")
    assert "2 requests in 30 days" in chart.locator("title").first.inner_html()
    assert record.locator("svg rect.accepted").count() == 1
    assert record.locator("svg rect.cancelled").count() == 1
    record.locator("details.table-alt summary").click()
    cells = record.locator("table tbody tr").last.locator("td").all_inner_texts()
    assert cells == ["2", "1", "0", "0", "1", "0"], cells
    axe_clean(us, "contact record (en)")

    ru_record = ru.locator(f".pair-record[data-pair='{RU_LEADER}>{US_LEADER}']")
    ru_record.locator(".summary-line", has_text="отклонено 1").wait_for(timeout=SOON_S * 1000)
    assert ru_record.locator(".summary-line").inner_text() == (
        "1 запрос за 30 дней: принято 0, отклонено 1, без ответа 0"
    )
    ru.select_option("#contact-period", "90")
    ru_record.locator(".summary-line", has_text="за 90 дней").wait_for(timeout=10_000)
    held = ru.locator("#contacts tbody tr", has_text="Incident at sea")
    held.locator("span.state.held", has_text="состоялся").wait_for(timeout=SOON_S * 1000)
    no_raw_iso(ru)
    axe_clean(ru, "contacts (ru)")
    us.context.close()
    ru.context.close()


# -- the auditor ---------------------------------------------------------------------------


def test_the_auditor_reads_a_line_record_with_its_verification_and_the_peer_comparison(
    desks: Pair,
    browser: Any,  # noqa: F811
) -> None:
    pair = desks
    send(pair, "US", "--subject", "For the record", "--body", "Routine traffic.")
    wait_for(
        "the message on both nodes",
        arrived(pair, "For the record"),
        timeout=SOON_S,
        explain=pair.explain,
    )
    pair.wait_settled()
    for principal, verifies, in_step, kind, proofs in (
        (US_AUDITOR, "The record verifies", "in step", "message", "Proof for third parties"),
        (RU_AUDITOR, "Журнал проходит проверку", "совпадает", "сообщение", "Доказательства"),
    ):
        page = desk(browser, pair, principal)
        views = page.eval_on_selector_all(".desk-nav a", "as => as.map(a => a.id.slice(4))")
        assert "record" in views, views
        writing = {"compose", "notices", "watch", "contacts", "relays", "translations"}
        assert not writing & set(views), views  # read-only: no desk that writes
        open_view(page, "record")
        page.select_option("#record-line", LINE)
        page.locator("#record-verdict", has_text=verifies).wait_for(timeout=20_000)
        message = page.locator("#record tbody tr", has_text="For the record")
        message.wait_for(timeout=10_000)
        assert kind in message.inner_text()
        assert "FAIL" not in page.locator("#record").inner_text()
        assert (
            page.locator("#record tbody td.verification .verified").count()
            == page.locator("#record tbody tr").count()
        )
        # our chain against what the peer last confirmed of it
        own = principal.split("/")[0]
        chain = page.locator(f"#record-peer-table tr[data-party={own}]")
        chain.filter(has_text=in_step).wait_for(timeout=SOON_S * 1000)
        assert chain.count() == 1
        # nothing to change: the only buttons save a message's proof
        assert page.locator("#main button:not(.proof-download)").count() == 0
        no_raw_iso(page, "#record td:nth-child(5), #record-peer-table")
        # each chain's latest checkpoint, cosigned by the other node
        page.locator("#record-proofs", has_text=proofs).wait_for(timeout=10_000)
        other = "RU" if own == "US" else "US"
        page.locator(f"#checkpoints tr[data-party={own}] td.cosigners", has_text=other).wait_for(
            timeout=SOON_S * 1000
        )
        no_raw_iso(page, "#checkpoints")
        if os.environ.get("HOTLINE_SCREENSHOT"):
            page.locator("#proofs").scroll_into_view_if_needed()
            name = "console-proofs.png" if own == "US" else "console-proofs-ru.png"
            page.screenshot(path=str(Path(__file__).resolve().parents[2] / "docs" / name))
        if own == "US":  # the message's proof, saved and checked as a third party would
            with page.expect_download() as saved:
                message.get_by_role("button").click()
            bundle = Path(saved.value.path()).read_bytes()
            report = verify_bundle(bundle)
            assert [e.event.content["subject"] for e in report.events if e.role == "message"] == [
                "For the record"
            ]
            page.locator("#proof-saved").wait_for(timeout=10_000)
        axe_clean(page, f"record ({principal})")
        page.context.close()


def test_each_desk_sees_only_its_own_views_and_fits_1024_px(desks: Pair, browser: Any) -> None:  # noqa: F811
    pair = desks
    expected = {
        US_DESK: {"notices", "overdue", "watch"},
        US_LEADER: {"contacts", "overdue"},
        US_RELAY: {"relays"},
        US_TRANSLATORS[0]: {"translations"},
        RU_AUDITOR: {"record"},
    }
    desk_views = {"notices", "overdue", "watch", "translations", "relays", "contacts", "record"}
    for principal, views in expected.items():
        url = pair.us.url if principal.startswith("US/") else pair.ru.url
        page = sign_in(browser, url, principal, width=1024)
        shown = set(page.eval_on_selector_all(".desk-nav a", "as => as.map(a => a.id.slice(4))"))
        assert shown & desk_views == views, (principal, shown)
        for view in sorted(views):  # usable from 1024 px wide
            open_view(page, view)
            page.wait_for_timeout(500)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 1024, f"{view} ({principal}) is {width} px wide: {too_wide(page)}"
        page.context.close()


# -- paging and roll calls -------------------------------------------------------------------

ROLL_CALLS = "us-ru-roll-calls"


def test_a_roll_call_is_answered_from_the_banner_and_counted(desks: Pair, browser: Any) -> None:  # noqa: F811
    """The next whole minute is a roll call in a service line's terms: the desk of the
    party asked sees the banner ring and answers it; the asking desk's Roll calls view
    shows it answered, on both nodes alike."""
    from hotline.domain.rollcall import asker, slots

    now = datetime.now(UTC)
    at = (now + timedelta(minutes=2 if now.second > 40 else 1)).replace(second=0, microsecond=0)
    hhmm = at.strftime("%H:%M")
    open_line(desks, ROLL_CALLS, "service", [US_DESK, RU_DESK], "--roll-call", hhmm)
    [(turn, _)] = slots([hhmm], at.date())
    asking = asker(["RU", "US"], turn)
    answering, asked_by = (RU_DESK, US_DESK) if asking == "US" else (US_DESK, RU_DESK)
    page = desk(browser, desks, answering)
    banner = page.locator("#rollcall-banner [data-action=answer-rollcall]")
    banner.wait_for(timeout=(SOON_S + 60) * 1000)
    axe_clean(page, f"the roll-call banner of {answering}")
    banner.click()
    page.locator("#rollcall-banner").wait_for(state="detached", timeout=30_000)
    asker_page = desk(browser, desks, asked_by)
    open_view(asker_page, "rollcalls")
    row = asker_page.locator("#rollcalls tbody tr[data-outcome=answered]")
    row.wait_for(timeout=SOON_S * 1000)
    assert answering in row.inner_text()
    axe_clean(asker_page, f"the roll calls of {asked_by}")
    month = at.strftime("%Y-%m")
    both_counts = both(
        lambda: cli_json(desks.us.home, "rollcall", "stats", "--line", ROLL_CALLS,
                         "--party", answering[:2], "--month", month, "--json"),
        lambda: cli_json(desks.ru.home, "rollcall", "stats", "--line", ROLL_CALLS,
                         "--party", answering[:2], "--month", month, "--json"),
    )  # fmt: skip
    assert both_counts[0] == both_counts[1] and both_counts[0]["answered"] == 1


def test_the_paging_view_shows_the_pages_and_takes_an_item(desks: Pair, browser: Any) -> None:  # noqa: F811
    """A FLASH from RU pages US/EUCOM-JOC (nobody reachable, with no paging plan:
    recorded so); the desk's Paging view lists it, and "I have it" takes it."""
    send(desks, "RU", "--kind", "incident", "--precedence", "FLASH", "-s", "Paged flash", "-b", "x")
    page = desk(browser, desks, US_DESK)
    open_view(page, "pages")
    card = page.locator(".paged-item[data-open=true]", has_text="Paged flash")
    card.wait_for(timeout=SOON_S * 1000)
    # nobody reachable: no one on watch, or an officer on watch with no address (the
    # roster test of this module puts one there)
    assert "nobody to reach" in card.inner_text()
    axe_clean(page, "the Paging view")
    card.locator("[data-action=take]").click()
    page.locator(".paged-item[data-open=false]", has_text="Paged flash").wait_for(timeout=30_000)
    assert "Taken: Paged flash" in page.locator("#pages-status").inner_text()
    [item] = [
        i
        for i in cli_json(desks.us.home, "page", "list", "--json")
        if i["subject"] == "Paged flash"
    ]
    assert item["reaction"]["how"] == "take" and item["reaction"]["by"] == US_DESK


# -- agreements ------------------------------------------------------------------------------

AGREEMENT = """title: {en: Leaders' understanding, ru: Договорённость руководителей}
zones:
  - {id: drones, kinds: [uav], km: 15}
notice: {naval_exercise: 5d}
start: 2026-01-01T00:00:00Z
end: none
"""


def test_leaders_propose_and_sign_an_agreement_in_their_consoles(desks: Pair, browser: Any) -> None:  # noqa: F811
    """The US leader proposes terms in the Agreements view and signs them; the RU leader
    sees them in Russian on the RU node and signs; both consoles show it in force."""
    us = desk(browser, desks, US_LEADER)
    open_view(us, "agreements")
    us.select_option("#agreement-line", LEADERS)
    us.fill("#agreement-terms", AGREEMENT)
    us.click("#agreement-propose button[type=submit]")
    card = us.locator("section.agreement[data-state=proposed]")
    card.wait_for(timeout=30_000)
    card.locator("[data-action=sign]").click()
    axe_clean(us, "the Agreements view of the US leader")
    ru = desk(browser, desks, RU_LEADER)
    open_view(ru, "agreements")
    theirs = ru.locator("section.agreement", has_text="Договорённость руководителей")
    theirs.wait_for(timeout=SOON_S * 1000)
    theirs.locator("[data-action=sign]").click()
    ru.locator("section.agreement[data-state='in force']").wait_for(timeout=30_000)
    assert "бессрочно" in ru.locator("section.agreement").inner_text()
    axe_clean(ru, "the Agreements view of the RU leader")
    us.reload()
    open_view(us, "agreements")
    us.locator("section.agreement[data-state='in force']").wait_for(timeout=SOON_S * 1000)
    listed = cli_json(desks.us.home, "agreement", "list", LEADERS, "--json")
    assert [(a["state"], sorted(a["signed"])) for a in listed] == [("in force", ["RU", "US"])]
