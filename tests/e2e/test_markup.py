"""Text from the other side prints exactly as sent: square brackets are not markup."""

from __future__ import annotations

from tests.e2e.conftest import Run


def test_bracketed_text_prints_as_sent(lab: Run) -> None:
    subject = "Exercise [/ZAPAD] see [annex] ok"
    lab(
        "send",
        "--line",
        "us-ru-deconfliction",
        "--as",
        "US/EUCOM-JOC",
        "-s",
        subject,
        "-b",
        "Body [bold]x",
        ok=True,
    )
    inbox = lab("inbox", "--party", "RU", ok=True)
    assert "[/ZAPAD]" in inbox.out
    assert "[annex]" in inbox.out
    log = lab("log", "us-ru-deconfliction", ok=True)
    assert "[/ZAPAD]" in log.out
