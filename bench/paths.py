"""The two paths between nodes: HTTPS and e-mail. Two nodes as separate processes on
loopback, each reached through a TCP proxy that can be cut, each with a mailbox on the
loopback mail server (``scripts/mail-server``: Postfix, Dovecot).

Prints figures; asserts nothing.

    .venv/bin/python bench/paths.py [--flashes 20] [--failovers 5]

Figures:
- FLASH over the e-mail path: HTTPS cut both ways, FLASH messages sent on US one at a
  time; for each, from the send returning (committed) to US holding RU's signed receipt
  covering it (US's batch by mail to RU, RU's answer by mail back). p50 / p95 / max.
- failover: HTTPS up and the line settled; the proxy cut, a FLASH sent at once; from the
  send to RU holding it (delivery finds HTTPS refused and mails it). Repeated, HTTPS
  restored and the line settled between rounds. p50 / max.
- for scale: the same FLASH over HTTPS, send to receipt; and the mail server's own
  floor: one small message submitted by SMTP until IMAP IDLE reports it in the mailbox,
  twice (a batch and its answer), beside which the e-mail path's p50 is given as a ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.tcp_proxy, tests.mailbox

from limits import measure
from limits import report as limits_report
from tests.mailbox import MailServer
from tests.tcp_proxy import TcpProxy

from federation import LINE, ReceiptWatch, Server, cli, free_port, open_line
from hotline.app import Node, open_node
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence

FLASH = MessageDraft(
    MessageKind.WARNING,
    Precedence.FLASH,
    "Missile debris near the border",
    "A missile fell near the border at 15:40 UTC. It was not directed at you.",
)


def configure(home: Path, mail: MailServer) -> None:
    address = mail.mailbox(home.name)
    user = quote(address, safe="")
    settings = {
        "smtp_url": f"smtp://{mail.host}:{mail.smtp_port}?starttls=off",
        "imap_url": f"imap://{user}:{mail.password}@{mail.host}:{mail.imap_port}/INBOX",
        "mail_from": address,
    }
    with (home / "hotline.toml").open("a", encoding="utf-8") as file:
        file.write("".join(f'\n{k} = "{v}"' for k, v in settings.items()) + "\n")


def wait(what: str, check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            sys.exit(f"gave up waiting for {what}")
        time.sleep(0.005)


def holds(node: Node, event_id: str, after: int) -> bool:
    return any(e.id == event_id for e in node.store.chain(LINE, "US", after, 1000))


def quantiles(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {p50:.2f} s, p95 {p95:.2f} s, max {ordered[-1]:.2f} s (n={len(ordered)})"


def mail_hop(mail: MailServer) -> float:
    """Seconds from submitting one small message to IMAP IDLE reporting it."""
    from email.message import EmailMessage

    from imapclient import IMAPClient

    from hotline.domain.mail import parse_smtp_url
    from hotline.outbound.smtp import send_mail

    address = mail.mailbox("hop")
    with IMAPClient(mail.host, port=mail.imap_port, ssl=False, timeout=30) as imap:
        imap.login(address, mail.password)
        imap.select_folder("INBOX")
        imap.idle()
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = address, address, "hop"
        message.set_content("hop")
        started = time.perf_counter()
        send_mail(parse_smtp_url(f"smtp://{mail.host}:{mail.smtp_port}?starttls=off"), message)
        while not any(b"EXISTS" in r for r in imap.idle_check(timeout=30)):
            pass
        took = time.perf_counter() - started
        imap.idle_done()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flashes", type=int, default=20)
    parser.add_argument("--failovers", type=int, default=5)
    args = parser.parse_args()
    mail = MailServer()
    problem = mail.reachable()
    if problem is not None:
        sys.exit(f"{problem}: start it with scripts/mail-server (as root)")

    root = Path(tempfile.mkdtemp(prefix="hotline-pathbench-"))
    us_home, ru_home = root / "us", root / "ru"
    us_port, ru_port = free_port(), free_port()
    proxies = {"us": TcpProxy(us_port).start(), "ru": TcpProxy(ru_port).start()}
    cli(us_home, "init", "--party", "US")
    cli(ru_home, "init", "--party", "RU")
    configure(us_home, mail)
    configure(ru_home, mail)
    cli(us_home, "principal", "add", "US/EUCOM-JOC", "--role", "watch_officer")
    cli(ru_home, "principal", "add", "RU/NDMC", "--role", "watch_officer")
    for home in (us_home, ru_home):
        url = proxies[home.name].url
        cli(home, "peer", "export", "--url", url, "--out", str(root / f"{home.name}.json"))
    cli(us_home, "peer", "import", str(root / "ru.json"), "--yes")
    cli(ru_home, "peer", "import", str(root / "us.json"), "--yes")
    us, ru = Server(us_home, us_port), Server(ru_home, ru_port)
    us.start()
    ru.start()
    try:
        open_line(us_home, ru_home)
        us_node, ru_node = open_node({}, us_home), open_node({}, ru_home)
        wait("the line to be active", lambda: us_node.store.line(LINE).status.value == "active")
        watch = ReceiptWatch(us_node)
        watch.thread.start()
        print(
            f"hotline paths benchmark - Python {platform.python_version()}, "
            f"{os.cpu_count()} cores; two nodes on loopback behind proxies, "
            f"Postfix and Dovecot on loopback"
        )
        print(limits_report(measure(0.5)))
        print(f"load average {Path('/proc/loadavg').read_text().split()[:3]}")

        def flash_to_receipt() -> float:
            started = time.perf_counter()
            event = us_node.messages.send(LINE, "US/EUCOM-JOC", FLASH)
            if not watch.wait_for(event.seq, 60):
                sys.exit(f"no receipt for seq {event.seq} within 60 s")
            return watch.covered_at[event.seq] - started

        https = [flash_to_receipt() for _ in range(5)]
        print(f"FLASH over HTTPS, send -> RU's signed receipt: {quantiles(https)}")

        failovers = []
        for _ in range(args.failovers):
            time.sleep(1.0)  # the line settled, HTTPS known good
            for proxy in proxies.values():
                proxy.cut()
            started = time.perf_counter()
            event = us_node.messages.send(LINE, "US/EUCOM-JOC", FLASH)
            wait(
                "RU to hold the FLASH by mail", lambda e=event: holds(ru_node, e.id, e.seq - 1), 60
            )
            failovers.append(time.perf_counter() - started)
            watch.wait_for(event.seq, 60)
            for proxy in proxies.values():
                proxy.restore()
            wait(
                "HTTPS to carry the line again",
                lambda: us_node.peers.paths()["RU"]["carrier"] == "https",
                90,
            )
        print(f"failover, HTTPS cut -> RU holds the FLASH by mail: {quantiles(failovers)}")

        for proxy in proxies.values():
            proxy.cut()
        flash_to_receipt()  # the first finds HTTPS refused; the rest go by mail at once
        by_mail = [flash_to_receipt() for _ in range(args.flashes)]
        print(f"FLASH over the e-mail path, send -> RU's signed receipt: {quantiles(by_mail)}")
        floor = 2 * statistics.median(mail_hop(mail) for _ in range(5))
        ratio = floor / statistics.median(by_mail)
        print(
            f"  (floor: two hops of the mail server, SMTP submission to IMAP IDLE = "
            f"{floor:.2f} s; ratio {ratio:.2f})"
        )
        print(f"load average {Path('/proc/loadavg').read_text().split()[:3]}")
    finally:
        for proxy in proxies.values():
            proxy.cut()
        us.stop()
        ru.stop()


if __name__ == "__main__":
    main()
