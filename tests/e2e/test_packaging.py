"""The wheel as an operator gets it: built from the sources alone, installed into a fresh
venv, its `hotline demo` plays the scenario it carries (not the checkout's) and serves the
console it carries.

The fresh venv holds only the wheel (installed with ``--no-deps``); it reaches the project's
installed dependencies through a ``.pth`` file naming this venv's site-packages, so nothing
is downloaded. A plain path in a ``.pth`` file adds that folder alone: the editable install
found there (a ``.pth`` of its own, pointing at ``src/``) is not followed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hotline.domain.errors import InvalidInput
from hotline.runtime.demo import find_scenario

pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[2]
PIP = (sys.executable, "-m", "pip", "--quiet")
#: make's ``-o``: the venv's install stamps count as made, so no target reinstalls .venv.
AS_INSTALLED = ("-o", ".venv/.installed-test", "-o", ".venv/.installed")


def test_a_scenario_is_found_by_name_among_those_installed() -> None:
    default = find_scenario(None)
    assert default.name == "baltic-2022.yaml"
    assert find_scenario("baltic-2022").read_text("utf-8") == default.read_text("utf-8")
    with pytest.raises(InvalidInput) as refused:
        find_scenario("no-such-scenario")
    assert "no-such-scenario" in str(refused.value)
    assert refused.value.hint is not None and "baltic-2022" in refused.value.hint


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built by pip (``python -m build`` is not among the test tools) from a copy
    of what a source distribution holds (pyproject, README, LICENSE, src/): no checkout
    around it to fall back on."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "src",
        source / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [*PIP, "wheel", "--no-deps", "-w", str(dist), "."],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (found,) = dist.glob("hotline-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed and the project's dependencies in sight."""
    folder = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "project-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    installed = subprocess.run(
        [*PIP, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    return folder


def clean_env() -> dict[str, str]:
    """The environment without the node's settings or a path back into the checkout."""
    drop = ("HOTLINE_", "PYTHONPATH", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["COLUMNS"] = "200"
    return env


@pytest.mark.slow
def test_the_wheel_carries_the_scenarios_the_console_and_the_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "hotline/scenarios/baltic-2022.yaml" in names
    assert "hotline/web/static/index.html" in names
    assert any(n.startswith("hotline/storage/migrations/versions/") for n in names)
    assert not any(n.startswith("scenarios/") for n in names)
    # the verifiers a third party is handed with a bundle
    assert {"hotline/data/verify_proof.py", "hotline/data/verify-proof.html"} <= names


@pytest.mark.slow
def test_the_wheel_carries_its_licence(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        info = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(info).decode("utf-8")
        licence = archive.read(info.replace("METADATA", "licenses/LICENSE")).decode("utf-8")
    assert "License-Expression: Apache-2.0" in metadata
    assert "License-File: LICENSE" in metadata
    assert licence == (ROOT / "LICENSE").read_text("utf-8")
    assert licence.startswith("Copyright 2026 The hotline authors")
    assert "Apache License\n                           Version 2.0, January 2004" in licence


@pytest.mark.slow
def test_the_installed_package_is_the_wheel_not_the_checkout(venv: Path, tmp_path: Path) -> None:
    shown = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import hotline; print(hotline.__file__)"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(shown).is_relative_to(venv), shown
    assert (venv / "bin" / "hotline").exists()


@pytest.fixture
def demo(venv: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """The installed `hotline demo`, run from a folder with no scenarios/ in it; its output
    gathered line by line as it comes."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    process = subprocess.Popen(
        [str(venv / "bin" / "hotline"), "demo", "--keep", str(tmp_path / "nodes")],
        cwd=elsewhere,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
    reader.start()
    try:
        yield process, lines
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=10)


def wait_for(lines: list[str], text: str, process: subprocess.Popen[str], seconds: float) -> str:
    """The first line of output holding ``text``; fails if the demo ends or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for line in list(lines):
            if text in line:
                return line
        if process.poll() is not None:
            time.sleep(0.5)  # the reader's last lines
            found = [line for line in lines if text in line]
            assert found, f"the demo ended ({process.returncode}) before {text!r}:\n" + "".join(
                lines[-60:]
            )
            return found[0]
        time.sleep(0.2)
    pytest.fail(f"no {text!r} after {seconds} s:\n" + "".join(lines[-60:]))


@pytest.mark.slow
def test_the_installed_demo_plays_the_scenario_it_carries(
    venv: Path, demo: tuple[subprocess.Popen[str], list[str]]
) -> None:
    process, lines = demo
    header = wait_for(lines, "hotline demo: ", process, 120)
    played = Path(header.split("hotline demo: ", 1)[1].strip())
    assert played.is_relative_to(venv), header
    assert played.parts[-3:] == ("hotline", "scenarios", "baltic-2022.yaml")
    console = wait_for(lines, "US console: http://127.0.0.1:", process, 180)
    url = console.split("US console: ", 1)[1].split()[0]
    page = httpx.get(url, timeout=30, follow_redirects=True)
    assert page.status_code == 200 and "<html" in page.text.lower(), page.text[:300]
    # the scenario's first steps, played by both nodes: it loaded, and it runs
    wait_for(lines, "asks RU/MINDEF for a call", process, 300)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    wait_for(lines, "stopped: both nodes shut down", process, 10)


def dependency_names() -> set[str]:
    """hotline's own dependencies, as pyproject.toml names them, normalised (PEP 503)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    names = (re.match(r"[A-Za-z0-9._-]+", d) for d in project["dependencies"])
    return {normal(m.group(0)) for m in names if m}


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_sbom_lists_hotline_and_its_dependencies(tmp_path: Path) -> None:
    """`make sbom` on the venv as it is installed."""
    out = tmp_path / "sbom" / "hotline.cdx.json"
    made = subprocess.run(
        ["make", "--no-print-directory", *AS_INSTALLED, "sbom", f"SBOM={out}"],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    assert "cyclonedx-py environment" in made.stdout and f"SBOM: {out}" in made.stdout
    bom = json.loads(out.read_text("utf-8"))
    assert bom["bomFormat"] == "CycloneDX"
    root = bom["metadata"]["component"]
    assert (root["name"], root["type"]) == ("hotline", "application")
    assert root["licenses"][0]["license"]["id"] == "Apache-2.0"
    wanted = dependency_names()
    assert {"fastapi", "sqlalchemy", "pynacl", "uvicorn", "cryptography"} <= wanted
    listed = {normal(c["name"]): c for c in bom["components"]}
    assert wanted <= set(listed), wanted - set(listed)
    assert all(listed[name].get("version") and listed[name].get("purl") for name in wanted)
    (edges,) = (d["dependsOn"] for d in bom["dependencies"] if d["ref"] == root["bom-ref"])
    named = {normal(ref.split("==")[0]) for ref in edges}
    assert wanted <= named, wanted - named
