"""The e-mail path between real processes: two `hotline serve`, each reached over HTTP
through a proxy that can be cut, and each with a mailbox on the loopback mail server
(Postfix, Dovecot). HTTPS cut both ways, the line carried by e-mail, HTTPS back: nothing
lost, nothing doubled, and `peer status` says which path carried the line."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest

from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from tests.conftest import MailServer
from tests.federation.test_processes import (
    LINE,
    RU_DESK,
    US_DESK,
    Lab,
    Server,
    assert_ru_holds_exactly,
    cli_json,
    lab,  # noqa: F401  (a fixture)
    templates,  # noqa: F401  (a fixture)
    wait_for,
)
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.process


@pytest.fixture
def proxies() -> Iterator[dict[str, TcpProxy]]:
    made: dict[str, TcpProxy] = {}
    yield made
    for proxy in made.values():
        proxy.cut()


def mail_settings(mail: MailServer) -> object:
    def config(server: Server) -> dict[str, str]:
        address = mail.mailbox(server.party.lower())
        user = quote(address, safe="")
        return {
            "smtp_url": f"smtp://{mail.host}:{mail.smtp_port}?starttls=off",
            "imap_url": f"imap://{user}:{mail.password}@{mail.host}:{mail.imap_port}/INBOX",
            "mail_from": address,
        }

    return config


def test_https_cut_the_line_carried_by_mail_then_https_again(
    lab: Lab,  # noqa: F811
    mail_server: MailServer,
    proxies: dict[str, TcpProxy],
) -> None:
    def front(server: Server) -> str:
        proxies[server.party] = TcpProxy(server.port).start()
        return proxies[server.party].url

    pair = lab.pair(config=mail_settings(mail_server), front=front)  # type: ignore[arg-type]
    [ru] = pair.us_node.peers.peers()
    assert ru.mail is not None and ru.mail.endswith("@hotline.test")
    sent = pair.send(2)
    wait_for("RU to hold the first messages", lambda: pair.ru_holds(sent), explain=pair.explain)

    for proxy in proxies.values():
        proxy.cut()
    flash = pair.us_node.messages.send(
        LINE,
        US_DESK,
        MessageDraft(
            MessageKind.WARNING,
            Precedence.FLASH,
            "Missile debris near the border",
            "Not directed at you.",
        ),
    )
    sent.append(flash.id)
    wait_for(
        "RU to hold the FLASH, by mail", lambda: pair.ru_holds([flash.id]), explain=pair.explain
    )
    reply = pair.ru_node.messages.send(
        LINE,
        RU_DESK,
        MessageDraft(MessageKind.RESPONSE, Precedence.FLASH, "Understood", "Received."),
    )
    wait_for(
        "US to hold RU's answer, by mail",
        lambda: reply.id in {e.id for e in pair.us_node.store.chain(LINE, "RU", 0, 1000)},
        explain=pair.explain,
    )
    pair.wait_settled()  # each knows the other holds its chain: the answers moved cursors
    status = cli_json(pair.us.home, "peer", "status")
    assert {row["carrier"] for row in status} == {"mail"}, status
    paths = status[0]["paths"]
    assert paths["mail"]["works"] and not paths["https"]["works"], paths

    for proxy in proxies.values():
        proxy.restore()
    sent += pair.send(3)
    wait_for("RU to hold what US sent after HTTPS came back", lambda: pair.ru_holds(sent))
    pair.wait_settled()
    wait_for(
        "US to see HTTPS carry the line again",
        lambda: {r["carrier"] for r in cli_json(pair.us.home, "peer", "status")} == {"https"},
        explain=pair.explain,
    )
    assert_ru_holds_exactly(pair, sent)
    pair.verify_both()
