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


# -- every layer, and no cycle ------------------------------------------------------------

SRC = DOMAIN.parent

#: What each part of hotline may import, lowest layer first. Adapters sit side by side
#: above the services; ``app`` (the composition root) wires them; ``runtime`` runs what
#: ``app`` wires; ``cli`` is the entry point over everything. An arrow up is a fault.
#: The package itself (``hotline``: its version, nothing else) may be read from anywhere.
LAYERS: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "config": frozenset({"domain"}),
    "storage": frozenset({"domain", "config"}),
    "services": frozenset({"domain", "config", "storage"}),
    "http": frozenset({"domain", "config"}),
    "outbound": frozenset({"domain"}),  # e-mail and webhooks to people, not to peers
    "witness": frozenset({"domain", "config", "http"}),
    "federation": frozenset({"domain", "config", "storage", "services", "http", "witness"}),
    "ingest": frozenset({"domain", "config", "storage", "services", "http"}),
    "exercise": frozenset({"domain", "config", "storage", "services"}),
    "api": frozenset(
        {"domain", "config", "storage", "services", "http", "exercise", "ingest", "federation"}
    ),
    "web": frozenset(),
    "data": frozenset(),  # the standalone verifier: nothing of hotline
    "app": frozenset(
        {"domain", "config", "storage", "services", "http", "federation", "ingest"}
        | {"exercise", "api", "outbound"}
    ),
    "runtime": frozenset(
        {"domain", "config", "storage", "services", "http", "federation", "ingest"}
        | {"exercise", "api", "app", "witness", "outbound"}
    ),
    "cli": frozenset(
        {"domain", "config", "storage", "services", "http", "federation", "ingest"}
        | {"exercise", "api", "app", "runtime", "witness", "outbound"}
    ),
    "__main__": frozenset({"cli"}),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _graph() -> dict[str, set[str]]:
    """Every import between hotline's modules, wherever it is written (at the top, inside
    a function, under TYPE_CHECKING): a lazy import is still an arrow."""
    paths = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            found: list[str] = []
            if isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                found = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in paths else base for a in node.names
                ]
            targets.update(t for t in found if t in paths and t != name)
        graph[name] = targets
    return graph


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "hotline"


def test_every_part_imports_only_the_layers_below_it() -> None:
    wrong = []
    for module, targets in sorted(_graph().items()):
        part = _part(module)
        if part == "hotline":
            continue
        assert part in LAYERS, f"{module}: a new part of hotline; give it a place in LAYERS"
        wrong += [
            f"{module} -> {t}"
            for t in sorted(targets)
            if _part(t) not in (part, "hotline") and _part(t) not in LAYERS[part]
        ]
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of ``graph``: its strongly connected components of more than one
    module (Tarjan's algorithm, iteratively, so no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(start: str) -> None:
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        while work:
            module, rest = work[-1]
            step = next(rest, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    work.append((step, iter(sorted(graph[step]))))
                elif step in stack:
                    low[module] = min(low[module], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def test_the_import_graph_has_no_cycle() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_finder_sees_a_cycle_through_several_modules() -> None:
    graph = {"a": {"b"}, "b": {"c", "d"}, "c": {"a"}, "d": set(), "e": {"e"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_only_storage_knows_the_database_dialect() -> None:
    """What SQLite or PostgreSQL means for a reader is the store's to say (its
    ``late_positions``, ``shared_by_sites``, ``listen_url``); no other part asks which
    database it is."""
    asking = []
    for path in sorted(SRC.rglob("*.py")):
        if _module_name(path).startswith("hotline.storage"):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "dialect":
                asking.append(f"{_module_name(path)}:{node.lineno}")
    assert not asking, "outside storage/, asks for the dialect: " + ", ".join(asking)


#: Who may open a write transaction of their own: the group commit (every write while the
#: node serves goes through it), a halt (it holds the chain while no append may race it)
#: and creating a node (nothing serves yet).
OWN_TRANSACTIONS = {"hotline.services.commits", "hotline.services.halts", "hotline.app.node"}


def test_writes_go_through_the_group_commit() -> None:
    opening = []
    for path in sorted(SRC.rglob("*.py")):
        module = _module_name(path)
        if module.startswith("hotline.storage") or module in OWN_TRANSACTIONS:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "write"
                and not node.args
                and not node.keywords
            ):
                opening.append(f"{module}:{node.lineno}")
    assert not opening, "opens a write transaction of its own: " + ", ".join(opening)
