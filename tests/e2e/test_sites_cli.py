"""`hotline site add` and `hotline site sync`: another site of a node on PostgreSQL."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hotline.app import open_node
from tests.e2e.conftest import Run


def test_a_site_shares_party_database_and_keys_with_its_own_address(
    hotline: Run, home: Path, tmp_path: Path, postgres_url: str
) -> None:
    hotline("init", "--party", "US", "--database", postgres_url, ok=True)
    site = tmp_path / "site-b"
    done = hotline("site", "add", str(site), "--listen", "10.2.0.5:8100", ok=True)
    assert "1 keys copied" in done.out
    config = tomllib.loads((site / "hotline.toml").read_text())
    assert config == {"party": "US", "database_url": postgres_url, "listen": "10.2.0.5:8100"}
    assert (site / "keys" / "US.key").read_bytes() == (home / "keys" / "US.key").read_bytes()
    assert oct((site / "keys" / "US.key").stat().st_mode & 0o777) == "0o600"
    node = open_node({}, site)
    try:
        assert node.party == "US" and node.writer.key("US").public.text()
    finally:
        node.close()

    again = hotline("site", "add", str(site), "--listen", "10.2.0.5:8100")
    assert again.code != 0 and "already exists" in again.err

    hotline("principal", "add", "US/EUCOM-JOC", "--role", "watch_officer", ok=True)
    synced = hotline("site", "sync", str(site), ok=True)
    assert "1 keys copied" in synced.out
    assert hotline("site", "sync", str(site), ok=True).out.startswith("0 keys copied")


@pytest.mark.sqlite
def test_a_node_on_sqlite_has_no_other_sites(hotline: Run, tmp_path: Path) -> None:
    hotline("init", "--party", "US", ok=True)
    refused = hotline("site", "add", str(tmp_path / "b"), "--listen", "127.0.0.1:8200")
    assert refused.code != 0
    assert "PostgreSQL" in refused.err
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("listen", ["8200", "host:", "host:99999"])
def test_a_bad_listen_address_is_refused(hotline: Run, tmp_path: Path, listen: str) -> None:
    hotline("init", "--party", "US", ok=True)
    refused = hotline("site", "add", str(tmp_path / "b"), "--listen", listen)
    assert refused.code != 0 and "HOST:PORT" in refused.err
