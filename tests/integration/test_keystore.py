"""Private key files on disk: created owner-only, refused when exposed or missing."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.app import init_node
from hotline.domain.crypto import SigningKey
from hotline.domain.errors import AlreadyExists, KeyUnavailable
from hotline.storage.keystore import KeyStore
from tests.conftest import FakeClock, FakeRandom

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")

SEED = bytes(range(32))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def keystore(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "home" / "keys")


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """A umask that would leave new files world-readable: the store must not rely on it."""
    previous = os.umask(0o000)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("loose_umask")
@pytest.mark.parametrize(
    ("owner", "relative"),
    [("US", "US.key"), ("US/EUCOM-JOC", "US/EUCOM-JOC.key")],
)
def test_key_files_are_600_in_700_folders(keystore: KeyStore, owner: str, relative: str) -> None:
    key = keystore.create(owner, SEED)
    path = keystore.folder / relative
    assert keystore.path(owner) == path
    assert mode(path) == 0o600
    assert mode(keystore.folder) == 0o700
    assert mode(path.parent) == 0o700
    assert not list(keystore.folder.rglob("*.tmp"))
    assert keystore.load(owner).public == key.public
    assert keystore.load(owner).seed() == SEED


def test_a_key_loads_as_the_key_created(keystore: KeyStore) -> None:
    keystore.create("RU/NDMC", SEED)
    loaded = keystore.load("RU/NDMC")
    assert loaded.public == SigningKey(SEED).public
    assert loaded.sign(b"hello") == SigningKey(SEED).sign(b"hello")


@pytest.mark.parametrize("loose", [0o640, 0o604, 0o660, 0o644, 0o610, 0o601])
def test_an_exposed_key_file_is_refused(keystore: KeyStore, loose: int) -> None:
    keystore.create("US/EUCOM-JOC", SEED)
    path = keystore.path("US/EUCOM-JOC")
    path.chmod(loose)
    with pytest.raises(KeyUnavailable, match="can be read by others") as caught:
        keystore.load("US/EUCOM-JOC")
    assert caught.value.hint == f"chmod 600 {path}"
    path.chmod(0o600)
    assert keystore.load("US/EUCOM-JOC").seed() == SEED


@pytest.mark.parametrize("tight", [0o400, 0o600])
def test_an_owner_only_key_file_loads(keystore: KeyStore, tight: int) -> None:
    keystore.create("US", SEED)
    keystore.path("US").chmod(tight)
    assert keystore.load("US").seed() == SEED


def test_a_missing_key_is_unavailable(keystore: KeyStore) -> None:
    with pytest.raises(KeyUnavailable, match="no private key for US/SECDEF"):
        keystore.load("US/SECDEF")
    assert not keystore.has("US/SECDEF")


def test_a_key_is_created_once(keystore: KeyStore) -> None:
    keystore.create("US/EUCOM-JOC", SEED)
    other = bytes(reversed(SEED))
    with pytest.raises(AlreadyExists, match="US/EUCOM-JOC"):
        keystore.create("US/EUCOM-JOC", other)
    assert keystore.load("US/EUCOM-JOC").seed() == SEED


def test_a_discarded_key_is_gone(keystore: KeyStore) -> None:
    keystore.create("US/EUCOM-JOC", SEED)
    keystore.discard("US/EUCOM-JOC")
    keystore.discard("US/EUCOM-JOC")  # twice is fine
    assert not keystore.has("US/EUCOM-JOC")
    keystore.create("US/EUCOM-JOC", SEED)
    assert keystore.has("US/EUCOM-JOC")


@pytest.mark.usefixtures("loose_umask")
def test_init_node_writes_the_node_key_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "node"
    node = init_node({}, home, "US", "United States", clock=FakeClock(), random=FakeRandom())
    try:
        key_file = home / "keys" / "US.key"
        assert mode(key_file) == 0o600
        assert mode(home / "keys") == 0o700
        assert mode(home) == 0o700
        stored = node.store.party("US").node_key
        assert stored is not None
        assert node.writer.keystore.load("US").public == stored
        principal, held = node.directory.add_principal("US/EUCOM-JOC", "JOC", ["watch_officer"])
        assert held
        assert mode(home / "keys" / "US" / "EUCOM-JOC.key") == 0o600
        assert mode(home / "keys" / "US") == 0o700
        assert node.writer.keystore.load("US/EUCOM-JOC").public == principal.key
    finally:
        node.close()


def test_a_failed_init_leaves_no_node_key(tmp_path: Path) -> None:
    first = init_node({}, tmp_path / "a", "US", "United States", clock=FakeClock())
    url = first.settings.database_url
    first.close()
    with pytest.raises(AlreadyExists, match="already holds the node of US"):
        init_node({}, tmp_path / "b", "RU", "Russia", database_url=url, clock=FakeClock())
    assert not (tmp_path / "b" / "keys" / "RU.key").exists()
