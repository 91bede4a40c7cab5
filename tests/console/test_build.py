"""The console's build committed in src/hotline/web/static is the one its sources give:
a fresh Vite build from console/ (into a temporary folder) yields the same files, byte
for byte (Vite's output, file names included, depends only on the sources and the
lockfile). Needs console/node_modules (`npm ci`, which .ci/run does first)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "console"
STATIC = ROOT / "src" / "hotline" / "web" / "static"
VITE = CONSOLE / "node_modules" / ".bin" / "vite"


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def vite() -> Path:
    if not VITE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("console/node_modules is missing: .ci/run runs npm ci in console/")
        pytest.skip("console/node_modules is not installed (cd console && npm ci)")
    return VITE


def test_the_committed_build_is_what_the_sources_give(vite: Path, tmp_path: Path) -> None:
    out = tmp_path / "static"
    done = subprocess.run(
        [str(vite), "build", "--outDir", str(out), "--emptyOutDir", "--logLevel", "error"],
        cwd=CONSOLE,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    fresh, committed = files_of(out), files_of(STATIC)
    assert sorted(fresh) == sorted(committed), "run `make console` and commit the build"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert stale == [], f"stale: {stale}; run `make console` and commit the build"


def test_the_console_is_served_from_the_package_alone() -> None:
    index = (STATIC / "index.html").read_text("utf-8")
    assets = [p for p in STATIC.rglob("*") if p.suffix in {".js", ".css"}]
    assert assets, "no built assets"
    entry = [a for a in assets if f'"/console/assets/{a.name}"' in index]
    assert {a.suffix for a in entry} == {".js", ".css"}, "index.html names the entry's assets"
    loaded = "".join(a.read_text("utf-8") for a in entry if a.suffix == ".js")
    for asset in assets:  # each is named by index.html, or loaded by the entry when needed
        assert asset in entry or f"assets/{asset.name}" in loaded, asset.name
    assert '<html lang="en">' in index  # the console sets the operator's language itself
