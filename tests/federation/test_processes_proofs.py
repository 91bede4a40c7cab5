"""Proof for third parties between two real nodes (`hotline serve` processes): each
signs checkpoints of its chains, the other cosigns them, and a disclosure bundle written
on the command line is checked on the command line by a reader with no node at all."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from tests.federation.test_processes import (  # noqa: F401 - fixtures
    ENV,
    HOTLINE,
    LINE,
    RU_DESK,
    US_DESK,
    Lab,
    Pair,
    cli,
    free_port,
    lab,
    templates,
    wait_for,
)

pytestmark = pytest.mark.process

#: Checkpoints every second (the default is a minute); the round runs every 5 s.
FAST = {"HOTLINE_CHECKPOINT_INTERVAL": "1s"}


def cosigned(pair: Pair, party: str, size: int) -> bool:
    node = pair.us_node if party == "US" else pair.ru_node
    latest = node.checkpoints.trees.latest(LINE, party)
    return latest is not None and latest.size >= size and latest.cosigned_at is not None


def reader(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`hotline ARGS` run by a third party: a folder of its own, no node in it."""
    home = tmp / "reader"
    home.mkdir(exist_ok=True)
    return subprocess.run(
        [*HOTLINE, "--home", str(home), *args],
        env=ENV,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_warning_and_its_acknowledgement_are_proven_to_a_third_party(
    lab: Lab,  # noqa: F811
    tmp_path: Path,
) -> None:
    pair = lab.pair(us_env=FAST, ru_env=FAST)
    warning = pair.us_node.messages.send(
        LINE,
        US_DESK,
        MessageDraft(
            MessageKind.WARNING, Precedence.FLASH, "Missile test", "Launch at 12:00 into area A."
        ),
    )
    pair.wait_settled()
    ack = pair.ru_node.messages.ack(warning.id, RU_DESK, reply="Understood")
    pair.wait_settled()
    us_head = pair.us_node.store.heads(["US"])[(LINE, "US")].seq
    ru_head = pair.ru_node.store.heads(["RU"])[(LINE, "RU")].seq
    wait_for(
        "each node's checkpoint to be cosigned by the other",
        lambda: cosigned(pair, "US", us_head) and cosigned(pair, "RU", ru_head),
        explain=pair.explain,
    )
    bundle = tmp_path / "warning.json"
    cli(
        pair.us.home,
        "proof",
        "export",
        warning.id[:12],
        "--with-ack",
        "--with-receipt",
        "--output",
        str(bundle),
    )
    us_key = json.loads(cli(pair.us.home, "party", "list", "--json").stdout)
    anchor = next(p["node_key"] for p in us_key if p["id"] == "US")
    done = reader(tmp_path, "proof", "verify", str(bundle), "--trust", f"US={anchor}", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    roles = {e["role"]: e for e in report["events"]}
    assert roles["message"]["id"] == warning.id and roles["ack"]["id"] == ack.id
    assert roles["ack"]["content"]["reply"]["body"] == "Understood"
    sent_under = report["checkpoints"][roles["message"]["checkpoint"]]
    assert [c["party"] for c in sent_under["cosigned_by"]] == ["RU"]
    assert any("RU held it by" in line for line in report["answers"])
    # the same file, one byte of the warning changed: refused, with the reason
    data = json.loads(bundle.read_text())
    entry = next(e for e in data["events"] if e["role"] == "message")
    raw = bytearray(base64.urlsafe_b64decode(entry["event"] + "=="))
    raw[raw.index(b"12:00")] = ord("9")
    entry["event"] = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(data))
    refused = reader(tmp_path, "proof", "verify", str(tampered))
    assert refused.returncode == 1
    assert "REFUSED" in refused.stderr and "fails" in refused.stderr
    # both nodes' records still check against every tree head signed over them
    for server in (pair.us, pair.ru):
        verified = json.loads(cli(server.home, "verify", "--json").stdout)
        assert verified["ok"] and verified["checkpoints"]["problems"] == []
        assert verified["checkpoints"]["checked"] >= 2


def test_a_witness_process_cosigns_both_nodes_and_catches_a_split_view(
    lab: Lab,  # noqa: F811
    tmp_path: Path,
) -> None:
    import httpx

    from hotline.domain.notes import Checkpoint, Note, sign_ed25519
    from hotline.domain.proofs import key_name, origin
    from hotline.storage.keystore import KeyStore
    from hotline.witness.client import WitnessConflict, submit

    home = tmp_path / "osce"
    made = cli(home, "witness", "init", "--name", "witness.osce.example").stdout
    witness_key = made.split("public key: ")[1].split()[0]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "witness.log").open("wb")
    process = subprocess.Popen(
        [*HOTLINE, "--home", str(home), "witness", "serve", "--listen", f"127.0.0.1:{port}"],
        env=ENV,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        env = {**FAST, "HOTLINE_WITNESSES": f"witness.osce.example={url}={witness_key}"}
        pair = lab.pair(us_env=env, ru_env=env)
        for server in (pair.us, pair.ru):
            parties = json.loads(cli(server.home, "party", "list", "--json").stdout)
            key = next(p["node_key"] for p in parties if p["id"] == server.party)
            cli(home, "witness", "trust", server.party, key)
        warning = pair.us_node.messages.send(
            LINE,
            US_DESK,
            MessageDraft(MessageKind.WARNING, Precedence.FLASH, "Missile test", "At 12:00."),
        )
        pair.wait_settled()
        size = pair.us_node.store.heads(["US"])[(LINE, "US")].seq

        def witnessed() -> bool:
            latest = pair.us_node.checkpoints.trees.latest(LINE, "US")
            return latest is not None and latest.size >= size and latest.witnesses >= 1

        wait_for("the witness to cosign US's checkpoint", witnessed, explain=pair.explain)
        shown = json.loads(cli(home, "witness", "show", "--json").stdout)
        held = {entry["origin"]: entry["size"] for entry in shown["logs"]}
        assert held[origin(LINE, "US")] >= size
        bundle = tmp_path / "warning.json"
        cli(pair.us.home, "proof", "export", warning.id, "--output", str(bundle))
        checked = reader(tmp_path, "proof", "verify", str(bundle), "--json")
        assert checked.returncode == 0, checked.stderr
        report = json.loads(checked.stdout)
        seen = [w["witness"] for c in report["checkpoints"] for w in c["witnessed_by"]]
        assert seen and set(seen) == {"witness.osce.example"}
        assert any("witness witness.osce.example saw" in a for a in report["answers"])
        # US shows the witness another history at the size it holds: caught (asked
        # again if the witness took US's next checkpoint in between)
        us_key = KeyStore(pair.us.home / "keys").load("US")
        found: list[dict[str, str]] = []
        for _ in range(5):
            shown = json.loads(cli(home, "witness", "show", "--json").stdout)
            at = {e["origin"]: e["size"] for e in shown["logs"]}[origin(LINE, "US")]
            forged = Note(Checkpoint(origin(LINE, "US"), at, b"\x02" * 32).text())
            forged = forged.with_signature(sign_ed25519(forged, key_name("US"), us_key))
            with httpx.Client() as http, pytest.raises(WitnessConflict):
                submit(http, url, at, [], forged.render())
            found = json.loads(cli(home, "witness", "evidence", "--json").stdout)
            if found:
                break
        (evidence,) = found
        assert evidence["origin"] == origin(LINE, "US")
        assert evidence["offered"] == forged.render()
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
