"""The verifiers a third party uses with no hotline at all: a single Python file (the
standard library and `cryptography`) and a single static HTML page (the browser's
WebCrypto, offline). Both give the answers `hotline proof verify` gives, and refuse a
tampered bundle with the reason."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hotline.app import checkpoint_round
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.services.disclosures import Disclosures
from tests.federation.conftest import Pair
from tests.federation.test_console_browser import browser  # noqa: F401 - the fixture

DATA = Path(__file__).resolve().parents[2] / "src" / "hotline" / "data"
SCRIPT = DATA / "verify_proof.py"
PAGE = DATA / "verify-proof.html"
LINE = "us-ru-deconfliction"


@pytest.fixture
def bundle(pair: Pair) -> dict[str, object]:
    """A FLASH warning US sent, RU acknowledged, with both nodes' checkpoints cosigned:
    its bundle (with the ack and the receipt) as JSON."""
    warning = pair.us.messages.send(
        LINE,
        "US/EUCOM-JOC",
        MessageDraft(
            MessageKind.WARNING, Precedence.FLASH, "Missile test", "Launch at 12:00 into area A."
        ),
    )
    pair.settle()
    pair.clock.advance(seconds=30)
    pair.ru.messages.ack(warning.id, "RU/NDMC", reply="Understood")
    pair.settle()
    http = httpx.Client()
    checkpoint_round(pair.us, pair.us_fed, http).once(force=True)
    checkpoint_round(pair.ru, pair.ru_fed, http).once(force=True)
    data = Disclosures(pair.us.checkpoints, "US").export(
        warning.id, with_ack=True, with_receipt=True
    )
    found: dict[str, object] = json.loads(data.data)
    return found


def tampered(bundle: dict[str, object], how: str) -> dict[str, object]:
    """The bundle with one thing changed, as a forger would."""
    changed = json.loads(json.dumps(bundle))
    entry = next(e for e in changed["events"] if e["role"] == "message")
    if how == "event byte":
        raw = bytearray(base64.urlsafe_b64decode(entry["event"] + "=="))
        raw[raw.index(b"12:00")] = ord("9")
        entry["event"] = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    elif how == "proof hash":
        first = bytearray(base64.b64decode(entry["proof"][0]))
        first[0] ^= 1
        entry["proof"][0] = base64.b64encode(bytes(first)).decode()
    elif how == "checkpoint root":
        note = changed["checkpoints"][entry["checkpoint"]]
        lines = note.split("\n")
        root = bytearray(base64.b64decode(lines[2]))
        root[0] ^= 1
        lines[2] = base64.b64encode(bytes(root)).decode()
        changed["checkpoints"][entry["checkpoint"]] = "\n".join(lines)
    elif how == "cosignature time":
        note = changed["checkpoints"][entry["checkpoint"]]
        lines = note.rstrip("\n").split("\n")
        name, blob = lines[-1].split(" ")[1:]
        raw = bytearray(base64.b64decode(blob))
        raw[11] ^= 1
        lines[-1] = f"\u2014 {name} {base64.b64encode(bytes(raw)).decode()}"
        changed["checkpoints"][entry["checkpoint"]] = "\n".join(lines) + "\n"
    else:
        sig = bytearray(base64.urlsafe_b64decode(entry["sig"] + "=="))
        sig[0] ^= 1
        entry["sig"] = base64.urlsafe_b64encode(bytes(sig)).decode().rstrip("=")
    return changed


WHY = {
    "event byte": "inclusion proof fails",
    "proof hash": "inclusion proof fails",
    "checkpoint root": "does not verify",
    "cosignature time": "does not verify",
    "signature": "signature of US/EUCOM-JOC fails",
}


#: Python with the installed packages on its path but without site processing: the
#: packages (cryptography) import, hotline (an editable install, a .pth hook) does not.
BARE = [
    sys.executable,
    "-S",
    "-I",
    "-c",
    "import runpy, sys; sys.path.append(sys.argv.pop(1)); sys.argv.pop(0); "
    "runpy.run_path(sys.argv[0], run_name='__main__')",
    sysconfig.get_paths()["platlib"],
]


def run_script(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The script as a third party runs it: nothing of hotline importable."""
    return subprocess.run(
        [*BARE, str(SCRIPT), str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=path.parent,
        env={"PATH": os.environ.get("PATH", "")},
    )


def test_the_script_runs_without_hotline(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import cryptography\nimport hotline\n")
    done = subprocess.run([*BARE, str(probe)], capture_output=True, text=True, check=False)
    assert "No module named 'hotline'" in done.stderr  # cryptography imported; hotline not


def test_the_script_verifies_a_bundle_and_says_what_it_proves(
    bundle: dict[str, object], tmp_path: Path
) -> None:
    path = tmp_path / "warning.json"
    path.write_text(json.dumps(bundle))
    done = run_script(path, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    answers = report["answers"]
    assert any("US/EUCOM-JOC sent FLASH warning 'Missile test'" in a for a in answers)
    assert any(a.strip().startswith("RU held it by") for a in answers)
    assert any("RU/NDMC acknowledged" in a and "'Understood'" in a for a in answers)
    assert any("receipted US's chain" in a for a in answers)
    # the same answers as hotline's own verifier gives
    from hotline.cli.proofs import _answers
    from hotline.domain.proofs import verify_bundle

    ours = [a for a in _answers(verify_bundle(path.read_bytes())) if "key history" not in a]
    assert answers == ours
    plain = run_script(path)
    assert plain.returncode == 0 and plain.stdout.startswith("verified: ")


@pytest.mark.parametrize("how", list(WHY))
def test_the_script_refuses_a_tampered_bundle_with_the_reason(
    bundle: dict[str, object], tmp_path: Path, how: str
) -> None:
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(tampered(bundle, how)))
    done = run_script(path)
    assert done.returncode == 1
    assert done.stderr.startswith("REFUSED") and WHY[how] in done.stderr


def test_the_script_pins_trusted_keys_and_says_bad_usage(
    bundle: dict[str, object], tmp_path: Path, pair: Pair
) -> None:
    path = tmp_path / "warning.json"
    path.write_text(json.dumps(bundle))
    key = pair.us.store.party("US").node_key
    assert key is not None
    assert run_script(path, "--trust", f"US={key.text()}").returncode == 0
    stranger = base64.urlsafe_b64encode(bytes(32)).decode().rstrip("=")
    refused = run_script(path, "--trust", f"US={stranger}")
    assert refused.returncode == 1 and "no node key of US" in refused.stderr
    assert run_script(path, "--trust", "nonsense").returncode == 2
    assert run_script(tmp_path / "missing.json").returncode == 2


# -- the page, in Debian chromium with the network off ---------------------------------


@pytest.fixture
def offline_page(browser: object) -> Iterator[object]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    context.set_offline(True)
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort(),
    )
    page = context.new_page()
    page.goto(PAGE.as_uri())
    try:
        yield page
    finally:
        context.close()


def test_the_page_verifies_a_bundle_offline_and_says_what_it_proves(
    offline_page: object, bundle: dict[str, object], tmp_path: Path
) -> None:
    page = offline_page
    path = tmp_path / "warning.json"
    path.write_text(json.dumps(bundle))
    page.set_input_files("#bundle", str(path))  # type: ignore[attr-defined]
    result = page.locator("#result")  # type: ignore[attr-defined]
    result.get_by_text("Verified").wait_for(timeout=15000)
    text = result.inner_text()
    assert "US/EUCOM-JOC sent FLASH warning" in text and "Missile test" in text
    assert "RU held it by" in text
    assert "RU/NDMC acknowledged" in text and "Understood" in text
    entry = next(e for e in bundle["events"] if e["role"] == "message")  # type: ignore[attr-defined]
    assert entry["id"][:16] in text
    if os.environ.get("HOTLINE_SCREENSHOT"):
        page.screenshot(
            path=str(Path(__file__).resolve().parents[2] / "docs" / "verify-proof.png"),
            full_page=True,
        )  # type: ignore[attr-defined]


@pytest.mark.parametrize("how", ["event byte", "cosignature time"])
def test_the_page_refuses_a_tampered_bundle_with_the_reason(
    offline_page: object, bundle: dict[str, object], tmp_path: Path, how: str
) -> None:
    page = offline_page
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(tampered(bundle, how)))
    page.set_input_files("#bundle", str(path))  # type: ignore[attr-defined]
    result = page.locator("#result")  # type: ignore[attr-defined]
    result.get_by_text("Refused").wait_for(timeout=15000)
    assert WHY[how] in result.inner_text()


# -- evidence committed at capture -------------------------------------------------------


@pytest.fixture
def positions(pair: Pair) -> dict[str, object]:
    """RU's missile captured by US over a minute, committed, and its positions disclosed."""
    from tests.federation.test_evidence import capture_a_minute

    capture_a_minute(pair)
    checkpoint_round(pair.us, pair.us_fed, httpx.Client()).once(force=True)
    found = pair.us.evidence.disclose("RU-CM-01")
    data = Disclosures(pair.us.checkpoints, "US").export_positions(found)
    loaded: dict[str, object] = json.loads(data.data)
    return loaded


def moved(bundle: dict[str, object]) -> dict[str, object]:
    """One position moved after the fact, its leaf made again to match."""
    changed = json.loads(json.dumps(bundle))
    entry = changed["positions"][1]
    record = json.loads(base64.b64decode(entry["leaf"]))
    record["lat"] += 0.01
    entry["record"] = record
    entry["leaf"] = base64.b64encode(json.dumps(record).encode()).decode()
    return changed


def test_the_script_verifies_disclosed_positions_and_refuses_a_moved_one(
    positions: dict[str, object], tmp_path: Path
) -> None:
    path = tmp_path / "positions.json"
    path.write_text(json.dumps(positions))
    done = run_script(path, "--json")
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)["answers"]
    assert any("US's node committed 4 positions of RU's tracks" in a for a in answers)
    assert sum(a.startswith("position of RU-CM-01 (RU missile)") for a in answers) == 4
    from hotline.cli.proofs import _answers
    from hotline.domain.proofs import verify_bundle

    ours = [a for a in _answers(verify_bundle(path.read_bytes())) if "key history" not in a]
    assert answers == ours
    path.write_text(json.dumps(moved(positions)))
    refused = run_script(path)
    assert refused.returncode == 1 and "it was not held as committed" in refused.stderr


def test_the_page_verifies_disclosed_positions_offline_and_refuses_a_moved_one(
    offline_page: object, positions: dict[str, object], tmp_path: Path
) -> None:
    page = offline_page
    path = tmp_path / "positions.json"
    path.write_text(json.dumps(positions))
    page.set_input_files("#bundle", str(path))  # type: ignore[attr-defined]
    result = page.locator("#result")  # type: ignore[attr-defined]
    result.get_by_text("Verified").wait_for(timeout=15000)
    text = result.inner_text()
    assert "committed 4 positions of RU's tracks" in text
    assert text.count("position of RU-CM-01 (RU missile)") == 4
    forged = tmp_path / "moved.json"
    forged.write_text(json.dumps(moved(positions)))
    page.set_input_files("#bundle", str(forged))  # type: ignore[attr-defined]
    result.get_by_text("Refused").wait_for(timeout=15000)
    assert "it was not held as committed" in result.inner_text()
