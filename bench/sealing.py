"""What sealing a line's text from its mediator costs (see docs/ledger.md, Sealed content).

Prints figures; asserts nothing. For a FLASH warning of typical size, sealed for 2, 3, 8
and 57 readers (a mediated pair, a pair with an observer, the multilateral benchmark's
line, the OSCE network):
- seal: sealing the content for every reader (a fresh content key, AES-256-GCM, one key
  wrap per reader), per second on one core, beside the machine's event-append ceiling
  (bench/limits.py: canonical form, SHA-256, Ed25519), which every send also pays;
- open at a reader: unwrapping its content key and opening the box (once per event
  received), and opening with the stored key (every read of the event);
- bytes: the signed event's size sealed against in the clear.

    .venv/bin/python bench/sealing.py [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from limits import beside, measure
from limits import report as limits_report

from hotline.domain.crypto import SigningKey
from hotline.domain.events import EventKind, sign_event
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.domain.sealing import RANDOM_BYTES, open_content, seal, unwrap

READERS = (2, 3, 8, 57)


def rate(work: Callable[[], Any], seconds: float) -> float:
    """Calls of ``work`` per second, over about ``seconds``."""
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            work()
        done += 20
    return done / elapsed


def key(n: int) -> SigningKey:
    return SigningKey(hashlib.sha256(f"reader {n}".encode()).digest())


def line_for(
    n: int,
    content: dict[str, Any],
    seconds: float,
    ceiling: float,
    signed: Callable[[dict[str, Any]], int],
    clear_bytes: int,
) -> str:
    """The figures for ``content`` sealed for ``n`` readers."""
    secrets = [key(i) for i in range(n)]
    readers = {f"P{i:02d}": s.public for i, s in enumerate(secrets)}
    sealed, content_key = seal("message", content, readers, os.urandom(RANDOM_BYTES))
    assert content_key is not None
    sealing = rate(lambda: seal("message", content, readers, os.urandom(RANDOM_BYTES)), seconds)
    receiving = rate(
        lambda: open_content("message", sealed, unwrap(sealed, "P00", secrets[0])), seconds
    )
    reading = rate(lambda: open_content("message", sealed, content_key), seconds)
    size = signed(sealed)
    return (
        f"{n:>2} readers: seal {beside(sealing, ceiling)}, {1e6 / sealing:,.0f} µs; "
        f"open on receipt {1e6 / receiving:,.0f} µs; open on read {1e6 / reading:,.1f} µs; "
        f"{size:,} bytes signed (+{size - clear_bytes:,})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="per figure (default 1)")
    seconds = parser.parse_args().seconds
    limits = measure(0.5)
    print(limits_report(limits))
    content = MessageDraft(
        kind=MessageKind.WARNING,
        precedence=Precedence.FLASH,
        subject="Impact near the border",
        body="Missile impact 12 km from the border at 14:05 UTC: a test flight gone "
        "astray, not directed at you. Details follow on this line.",
        lang="ru",
        number=4,
    ).content()
    author = key(-1)
    at = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)

    def signed(c: dict[str, Any]) -> int:
        return len(
            sign_event(
                line="ru-ua-sealed",
                party="RU",
                seq=9,
                prev="a" * 64,
                kind=EventKind.MESSAGE,
                author="RU/NRRC",
                key=author,
                ts=at,
                content=c,
            ).raw
        )

    clear_bytes = signed(content)
    print(f"\na FLASH warning: {clear_bytes:,} bytes signed in the clear")
    for n in READERS:
        print(line_for(n, content, seconds, limits.seal, signed, clear_bytes))


if __name__ == "__main__":
    main()
