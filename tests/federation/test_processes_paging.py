"""Paging and roll calls between real processes.

Paging: US sends a FLASH to RU; RU's `hotline serve` pages the officer on watch at RU/NDMC
by e-mail (through the loopback mail server), again, then the deputy by e-mail and by a
webhook whose signature a local receiver checks; RU's ack on the command line ends it,
and the webhook is told. Roll calls: at the next whole minute, as a service line's terms
fix. Everything the operators do goes through the command line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.domain.rollcall import asker, slots
from tests.conftest import MailServer
from tests.federation.test_processes import (
    LINE,
    RU_DESK,
    US_DESK,
    Lab,
    cli,
    cli_json,
    lab,  # noqa: F401  (a fixture)
    templates,  # noqa: F401  (a fixture)
    wait_for,
)
from tests.webhook_receiver import Expect, WebhookReceiver

pytestmark = pytest.mark.process

SOON_S = 90.0


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    found = WebhookReceiver({}, lambda: datetime.now(UTC)).start()
    yield found
    found.stop()


def test_a_flash_pages_the_watch_then_the_deputy_until_ru_acknowledges(
    lab: Lab,  # noqa: F811
    mail_server: MailServer,
    receiver: WebhookReceiver,
) -> None:
    petrov, volkov = mail_server.mailbox("petrov"), mail_server.mailbox("volkov")
    # submission with AUTH, as a node's own account would (the @ percent-encoded)
    user = quote(volkov, safe="")
    smtp = f"smtp://{user}:{mail_server.password}@{mail_server.host}:{mail_server.smtp_port}"
    pair = lab.pair(
        ru_env={
            "HOTLINE_SMTP_URL": smtp + "?starttls=off",
            "HOTLINE_MAIL_FROM": "hotline@ru.hotline.test",
            "HOTLINE_PAGING_INTERVAL": "1s",
            "HOTLINE_LANGUAGE": "ru",
        }
    )
    receiver.expect["/ru"] = Expect("RU", public_key=pair.ru_node.writer.key("RU").public)
    plan = pair.ru.home / "paging.yaml"
    plan.write_text(
        f"""
repeat: {{FLASH: 30s}}
next_after: {{FLASH: 40s}}
people:
  Maj. I. Petrov: {{email: {petrov}}}
  Lt Col V. Volkov: {{email: {volkov}, webhook: ru}}
webhooks:
  ru: {{url: "{receiver.url}/ru"}}
desks:
  {RU_DESK}: {{chain: [watch, Lt Col V. Volkov]}}
""",
        "utf-8",
    )
    cli(pair.ru.home, "page", "plan", "set", str(plan), "--by", "RU/NDMC")
    now = datetime.now(UTC)
    cli(
        pair.ru.home,
        "watch",
        "add",
        RU_DESK,
        "--officer",
        "Maj. I. Petrov",
        "--from",
        (now - timedelta(hours=1)).isoformat(),
        "--to",
        (now + timedelta(hours=7)).isoformat(),
    )
    shown = cli_json(pair.ru.home, "page", "plan", "show", "--json")
    assert shown["desks"][RU_DESK]["chain"] == ["watch", "Lt Col V. Volkov"]

    flash = MessageDraft(
        MessageKind.INCIDENT, Precedence.FLASH, "Missile impact", "Impact 3 km from the border."
    )
    sent = pair.us_node.messages.send(LINE, US_DESK, flash)

    [first] = mail_server.fetch(petrov, timeout=SOON_S)
    assert first["Subject"] == f"FLASH на линии {LINE} от {US_DESK}: Missile impact"
    assert "Вызов 1: Maj. I. Petrov" in first.get_content()
    assert receiver.pages == []  # the deputy is not paged yet

    # 40 s on, the deputy too: by e-mail and by the signed webhook
    wait_for("the deputy's webhook", lambda: receiver.paths() == ["/ru"], timeout=SOON_S)
    page = receiver.pages[0].body
    assert (page["person"], page["level"], page["message"]) == ("Lt Col V. Volkov", 1, sent.id)
    assert len(mail_server.fetch(volkov, timeout=SOON_S)) == 1
    assert len(mail_server.fetch(petrov, timeout=SOON_S, at_least=2)) >= 2  # paged again
    assert receiver.refused == []

    cli(pair.ru.home, "ack", sent.id, "--as", RU_DESK)
    wait_for(
        "the webhook told it is over",
        lambda: any(p.body["state"] == "resolved" for p in receiver.pages),
        timeout=SOON_S,
    )
    [item] = cli_json(pair.ru.home, "page", "list", "--json")
    assert item["reaction"]["how"] == "ack" and item["reaction"]["by"] == RU_DESK
    assert item["reaction"]["officer"] == "Maj. I. Petrov"
    channels = {(p["person"], p["channel"], p["state"]) for p in item["pages"]}
    assert ("Maj. I. Petrov", "email", "sent") in channels
    assert ("Lt Col V. Volkov", "webhook", "sent") in channels
    assert ("", "webhook", "resolved") in channels  # the tool told it is over, once


SERVICE = "us-ru-service"


def test_a_roll_call_is_asked_answered_and_counted_alike_on_both_nodes(
    lab: Lab,  # noqa: F811
) -> None:
    """The next whole minute is a roll call in the service line's terms; whichever node's
    turn it is asks, a desk of the other answers on the command line, and both count the
    month the same; the asker's signed statement verifies on the other node."""
    pair = lab.pair(line=False)
    now = datetime.now(UTC)
    at = (now + timedelta(minutes=2 if now.second > 45 else 1)).replace(second=0, microsecond=0)
    hhmm = at.strftime("%H:%M")
    cli(
        pair.us.home,
        "line",
        "create",
        SERVICE,
        "--kind",
        "service",
        "--member",
        US_DESK,
        "--member",
        RU_DESK,
        "--roll-call",
        hhmm,
    )
    wait_for(
        "RU to receive the service line",
        lambda: any(s.line.id == SERVICE for s in pair.ru_node.store.lines()),
    )
    cli(pair.ru.home, "line", "accept", SERVICE, "--party", "RU")
    [number] = [n for n, when in slots([hhmm], at.date())]
    asking = asker(["RU", "US"], number)
    asked_home, answering = (pair.us.home, pair.ru) if asking == "US" else (pair.ru.home, pair.us)
    desk = RU_DESK if asking == "US" else US_DESK

    waiting = wait_for(
        f"{answering.party} to hold the roll call {asking} asks at {hhmm}",
        lambda: cli_json(answering.home, "rollcall", "list", "--waiting", desk),
        timeout=SOON_S + 60,
    )
    [call] = waiting
    assert (call["asked_by"], call["to"], call["outcome"]) == (asking, answering.party, "open")
    cli(answering.home, "rollcall", "answer", call["id"], "--as", desk, "--officer", "Capt. Duty")

    month = at.strftime("%Y-%m")

    def counted(home: Path) -> Any:
        stats = cli_json(
            home, "rollcall", "stats", "--line", SERVICE, "--party", answering.party,
            "--month", month, "--json",
        )  # fmt: skip
        return stats if stats["answered"] == 1 else None

    on_asker = wait_for("the answer to reach the asking node", lambda: counted(asked_home))
    on_answerer = counted(answering.home)
    assert on_asker == on_answerer
    assert (on_asker["total"], on_asker["unanswered"], on_asker["late"]) == (1, 0, 0)

    statement = lab.tmp / "statement.json"
    cli(
        asked_home, "rollcall", "statement", "--line", SERVICE, "--party", answering.party,
        "--month", month, "--out", str(statement),
    )  # fmt: skip
    shown = cli(answering.home, "rollcall", "verify", str(statement)).stdout
    assert f"verified, signed by {asking} with the node key pinned here" in shown
