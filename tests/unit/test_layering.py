"""The core stays pure: domain/ imports no adapter, does no I/O and reads no clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "src" / "hotline" / "domain"
ADAPTERS = (
    "hotline.storage",
    "hotline.services",
    "hotline.app",
    "hotline.cli",
    "hotline.config",
    "hotline.api",
    "hotline.federation",
    "hotline.web",
    "hotline.ingest",
)
IO_MODULES = (
    "os",
    "sys",
    "io",
    "socket",
    "sqlite3",
    "sqlalchemy",
    "httpx",
    "subprocess",
    "pathlib",
    "time",
    "random",
    "secrets",
    "shutil",
    "tempfile",
)
CLOCK_CALLS = ("now", "utcnow", "today", "time", "urandom")


def _modules() -> list[Path]:
    return sorted(DOMAIN.glob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_domain_module_is_pure(path: Path) -> None:
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert not name.startswith(ADAPTERS), f"{path.name} imports {name}"
            assert name.split(".")[0] not in IO_MODULES, f"{path.name} imports {name}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in CLOCK_CALLS, (
                f"{path.name}:{node.lineno} calls .{node.func.attr}(): pass time in"
            )
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "open", f"{path.name}:{node.lineno} opens a file"
