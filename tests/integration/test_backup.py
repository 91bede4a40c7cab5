"""Backup and restore of a node (`storage/backup.py`, `hotline backup|restore`): the whole
record, configuration and keys come back, verify, and go on working; a damaged archive or
an occupied target is refused with nothing written. SQLite and, when reachable,
PostgreSQL, in both directions."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from hotline.app import Node, open_node
from hotline.config import write_config
from hotline.domain.errors import AlreadyExists, InvalidInput
from hotline.services.verification import verify_store
from hotline.storage.backup import backup, restore
from hotline.storage.engine import make_engine
from tests.conftest import FakeClock, make_lab_node
from tests.integration.test_store import DECONFLICTION, RU_NDMC, US_JOC, draft


def fill(node: Node) -> str:
    for n in range(5):
        message = node.messages.send(DECONFLICTION, US_JOC, draft(f"transit {n}"))
    node.messages.ack(message.id, RU_NDMC, reply="seen")
    return node.accounts.create_token(US_JOC)


def archive_of(node: Node, tmp_path: Path) -> Path:
    out = tmp_path / "backups" / "node.tar.gz"
    backup(node.store.engine, node.settings.home, node.settings.keys_dir, node.party, out)
    return out


def restored(archive: Path, home: Path, url: str, clock: FakeClock) -> Node:
    home.mkdir(mode=0o700, parents=True)
    engine = make_engine(url)
    try:
        manifest, _ = restore(archive, engine, home, home / "keys")
    finally:
        engine.dispose()
    values = {"party": manifest.party}
    if not url.startswith("sqlite:///" + str(home)):
        values["database_url"] = url
    write_config(home / "hotline.toml", values)
    return open_node({}, home, clock=clock)


def test_a_restored_node_holds_everything_verifies_and_goes_on(
    lab_node: Node, tmp_path: Path, clock: FakeClock
) -> None:
    token = fill(lab_node)
    archive = archive_of(lab_node, tmp_path)
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    home = tmp_path / "restored"
    node = restored(archive, home, f"sqlite:///{home / 'hotline.db'}", clock)
    try:
        report = verify_store(node.store)
        assert report.ok and report.events == lab_node.store.count_events()
        assert [e.id for e in node.store.events(DECONFLICTION)] == [
            e.id for e in lab_node.store.events(DECONFLICTION)
        ]
        assert node.accounts.authenticate(token).id == US_JOC  # sessions and tokens too
        clock.advance(minutes=1)
        after = node.messages.send(DECONFLICTION, US_JOC, draft("after the restore"))
        assert verify_store(node.store).ok  # the keys came back: it signs as before
        assert after.seq == lab_node.store.events(DECONFLICTION)[-1].seq + 1 or after.seq > 1
        assert oct((home / "keys").stat().st_mode & 0o777) == "0o700"
        keys = [k for k in (home / "keys").rglob("*") if k.is_file()]
        assert len(keys) >= 3  # the node's and its principals'
        assert all(oct(k.stat().st_mode & 0o777) == "0o600" for k in keys)
    finally:
        node.close()


@pytest.mark.postgres
def test_restore_from_sqlite_into_postgresql_continues_its_sequences(
    tmp_path: Path, clock: FakeClock, postgres_url: str
) -> None:
    source = make_lab_node(tmp_path / "source", None, clock)  # SQLite
    try:
        fill(source)
        archive = archive_of(source, tmp_path)
    finally:
        source.close()
    node = restored(archive, tmp_path / "restored", postgres_url, clock)
    try:
        assert verify_store(node.store).ok
        before = node.store.count_events()
        node.messages.send(DECONFLICTION, US_JOC, draft("after the restore"))  # new pos
        assert node.store.count_events() == before + 2
        assert verify_store(node.store).ok
    finally:
        node.close()


def test_a_damaged_archive_is_refused_and_nothing_is_written(
    lab_node: Node, tmp_path: Path
) -> None:
    fill(lab_node)
    archive = archive_of(lab_node, tmp_path)
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive, "r:gz") as source, tarfile.open(damaged, "w:gz") as target:
        for member in source.getmembers():
            data = (source.extractfile(member) or io.BytesIO()).read()
            if member.name == "tables/events.jsonl":
                data = data.replace(b'"kind":"ack"', b'"kind":"message"', 1)
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    home = tmp_path / "target"
    engine = make_engine(f"sqlite:///{tmp_path / 'target.db'}")
    try:
        with pytest.raises(InvalidInput, match="table events does not match its checksum"):
            restore(damaged, engine, home, home / "keys")
    finally:
        engine.dispose()
    assert not (home / "keys").exists()
    with pytest.raises(InvalidInput, match=r"not a hotline backup|cannot read"):
        restore(tmp_path / "damaged.tar.gz.missing", make_engine("sqlite://"), home, home)


def test_restore_refuses_a_database_that_holds_a_ledger(lab_node: Node, tmp_path: Path) -> None:
    fill(lab_node)
    archive = archive_of(lab_node, tmp_path)
    before = lab_node.store.count_events()
    with pytest.raises(AlreadyExists, match="already holds a ledger"):
        restore(archive, lab_node.store.engine, tmp_path / "x", tmp_path / "x" / "keys")
    assert lab_node.store.count_events() == before


@pytest.mark.process
def test_backup_and_restore_on_the_command_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}

    def hotline(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hotline", "--home", str(home), *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    node = tmp_path / "node"
    assert hotline(node, "init", "--party", "US").returncode == 0
    assert (
        hotline(node, "principal", "add", "US/EUCOM-JOC", "--role", "watch_officer").returncode == 0
    )
    done = hotline(node, "backup", str(tmp_path / "b.tar.gz"))
    assert done.returncode == 0, done.stderr
    assert "private keys" in done.stdout
    done = hotline(tmp_path / "copy", "restore", str(tmp_path / "b.tar.gz"))
    assert done.returncode == 0, done.stderr
    assert "ok:" in done.stdout and "verified" in done.stdout
    again = hotline(tmp_path / "copy", "restore", str(tmp_path / "b.tar.gz"))
    assert again.returncode != 0 and "already exists" in again.stderr
    shown = hotline(tmp_path / "copy", "principal", "list")
    assert "US/EUCOM-JOC" in shown.stdout
