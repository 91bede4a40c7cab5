"""A message sealed from a line's mediator, disclosed to a third party: the bundle holds
its content key, and every verifier (hotline's, the standalone script, the offline page)
opens the signed text with it, refuses a key other than the one the text commits to, and
says so when the text is disclosed without its key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hotline.app import checkpoint_round
from hotline.domain.crypto import b64encode
from hotline.domain.errors import InvalidInput
from hotline.domain.proofs import verify_bundle
from hotline.services.disclosures import Disclosures
from tests.conftest import FakeClock
from tests.federation.mesh import Mesh, make_mesh
from tests.federation.test_console_browser import browser  # noqa: F401 - the fixture
from tests.federation.test_multilateral import PARTIES, SEALED, flash, sealed_line
from tests.federation.test_standalone_verifiers import offline_page, run_script  # noqa: F401


@pytest.fixture
def mesh(tmp_path: Path, clock: FakeClock) -> Iterator[Mesh]:
    made = make_mesh(tmp_path, clock, PARTIES)
    yield made
    made.close()


def sealed_sent(mesh: Mesh) -> str:
    """A FLASH RU sent on the sealed line and UA's acknowledgement of it, every chain's
    checkpoints cosigned (UA's by RU too, carried to it by the mediator)."""
    ru, ua = mesh.nodes["RU"], mesh.nodes["UA"]
    sealed_line(mesh)
    sent = ru.messages.send(SEALED, "RU/NRRC", flash("Impact near the border"))
    mesh.settle()
    mesh.clock.advance(seconds=30)
    ua.messages.ack(sent.id, "UA/GS-OPS", reply="Understood, standing by.")
    mesh.settle()
    http = httpx.Client()
    for party in ("RU", "UA", "UN", "OSCE"):
        checkpoint_round(mesh.nodes[party], mesh.feds[party], http).once(force=True)
    mesh.settle()
    return sent.id


@pytest.fixture
def bundle(mesh: Mesh) -> dict[str, object]:
    sent = sealed_sent(mesh)
    data = Disclosures(mesh.nodes["RU"].checkpoints, "RU").export(sent, with_ack=True)
    found: dict[str, object] = json.loads(data.data)
    return found


def _message(bundle: dict[str, object]) -> dict[str, str]:
    entry: dict[str, str] = next(e for e in bundle["events"] if e["role"] == "message")  # type: ignore[attr-defined]
    return entry


def test_hotline_and_the_script_open_the_disclosed_sealed_text(
    bundle: dict[str, object], tmp_path: Path
) -> None:
    assert "content_key" in _message(bundle)
    report = verify_bundle(json.dumps(bundle).encode())
    message = next(c.event for c in report.events if c.role == "message")
    assert message.content["subject"] == "Impact near the border"
    ack = next(c for c in report.events if c.role == "ack")  # UA's chain
    assert ack.event.content["reply"]["body"] == "Understood, standing by."
    assert {s.name for s in ack.checkpoint.cosigned_by} == {"UN", "RU"}  # carrier, reader
    path = tmp_path / "sealed.json"
    path.write_text(json.dumps(bundle))
    done = run_script(path, "--json")
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)["answers"]
    assert any("RU/NRRC sent FLASH warning 'Impact near the border'" in a for a in answers)
    assert any("replying 'Understood, standing by.'" in a for a in answers)


def test_a_key_other_than_the_committed_one_is_refused(
    bundle: dict[str, object], tmp_path: Path
) -> None:
    wrong = json.loads(json.dumps(bundle))
    _message(wrong)["content_key"] = b64encode(bytes(32))
    with pytest.raises(InvalidInput, match="commits to"):
        verify_bundle(json.dumps(wrong).encode())
    path = tmp_path / "wrong.json"
    path.write_text(json.dumps(wrong))
    done = run_script(path)
    assert done.returncode == 1 and "not the one it commits to" in done.stdout + done.stderr


def test_a_bundle_that_keeps_the_text_sealed_proves_the_event_not_its_words(
    mesh: Mesh, tmp_path: Path
) -> None:
    sent = sealed_sent(mesh)
    data = Disclosures(mesh.nodes["RU"].checkpoints, "RU").export(sent, keep_sealed=True)
    bare = json.loads(data.data)
    assert all("content_key" not in e for e in bare["events"])
    report = verify_bundle(data.data)
    shown = next(c.event for c in report.events if c.role == "message")
    assert shown.id == sent and "subject" not in shown.content
    path = tmp_path / "bare.json"
    path.write_text(json.dumps(bare))
    done = run_script(path, "--json")
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)["answers"]
    assert any("(sealed: its text was not disclosed)" in a for a in answers)
    assert not any("Impact" in a for a in answers)


def test_the_page_opens_the_disclosed_sealed_text_offline(
    offline_page: object,  # noqa: F811
    bundle: dict[str, object],
    tmp_path: Path,
) -> None:
    page = offline_page
    path = tmp_path / "sealed.json"
    path.write_text(json.dumps(bundle))
    page.set_input_files("#bundle", str(path))  # type: ignore[attr-defined]
    result = page.locator("#result")  # type: ignore[attr-defined]
    result.get_by_text("Verified").wait_for(timeout=15000)
    text = result.inner_text()
    assert "RU/NRRC sent FLASH warning" in text and "Impact near the border" in text
    assert "Understood, standing by." in text
    wrong = json.loads(json.dumps(bundle))
    _message(wrong)["content_key"] = b64encode(bytes(32))
    path = tmp_path / "wrong.json"
    path.write_text(json.dumps(wrong))
    page.reload()  # type: ignore[attr-defined]
    page.set_input_files("#bundle", str(path))  # type: ignore[attr-defined]
    result.get_by_text("not the one it commits to").wait_for(timeout=15000)
