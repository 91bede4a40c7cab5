"""Backup and restore of a node: every table (read in one snapshot, so a serving node can
be backed up), its configuration and its private keys, in one gzipped tar archive; and
the way back, into a new folder and an empty database of either kind. A restored node
signs nothing on a chain it shares with a peer until it has compared that chain with the
peer (see :mod:`hotline.domain.rollback`): the backup may be old.

The archive holds ``manifest.json`` (format, party, schema revision, time, and per table
the row count and the SHA-256 of its file), ``tables/NAME.jsonl`` (one row per line;
bytes as ``{"$b64": ...}``), ``config.toml`` and ``keys/*``. It holds private keys: keep
it as you keep the node's folder (it is written readable by its owner only).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hotline.config import CONFIG_FILE
from hotline.domain.clock import format_time
from hotline.domain.errors import AlreadyExists, InvalidInput
from hotline.domain.rollback import Cause, Halt, halt_key
from hotline.storage.engine import SCHEMA_HEAD, check_schema, upgrade
from hotline.storage.schema import DERIVED, metadata
from hotline.storage.versioned import VERSIONS

FORMAT = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Manifest:
    party: str
    schema: str
    created: str
    tables: dict[str, dict[str, Any]]

    @property
    def rows(self) -> int:
        return sum(int(t["rows"]) for t in self.tables.values())


def _encode(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime):
        return {"$time": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "$b64" in value:
        return base64.b64decode(value["$b64"])
    if isinstance(value, dict) and "$time" in value:
        return datetime.fromisoformat(value["$time"])
    return value


@contextmanager
def _snapshot(engine: Engine) -> Iterator[sa.Connection]:
    """One read transaction that sees a single moment of the database."""
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as c, c.begin():
        yield c


def _add(archive: tarfile.TarFile, name: str, data: bytes, mode: int = 0o600) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


def backup(
    engine: Engine,
    home: Path,
    keys_dir: Path,
    party: str,
    out: Path,
    progress: Callable[[str, int], None] = lambda table, rows: None,
) -> Manifest:
    """Write the node's archive to ``out`` (atomically, mode 0600)."""
    check_schema(engine)
    tables: dict[str, dict[str, Any]] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=out.name + ".", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            with _snapshot(engine) as c:
                for table in metadata.sorted_tables:
                    if table.name in DERIVED:
                        continue  # made again from the events
                    order = [col for col in table.primary_key.columns]
                    lines = []
                    for row in c.execute(sa.select(table).order_by(*order)):
                        if not _kept(table.name, row._mapping):
                            continue
                        record = {k: _encode(v) for k, v in row._mapping.items()}
                        lines.append(json.dumps(record, sort_keys=True, separators=(",", ":")))
                    data = ("\n".join(lines) + ("\n" if lines else "")).encode()
                    _add(archive, f"tables/{table.name}.jsonl", data)
                    tables[table.name] = {
                        "rows": len(lines),
                        "sha256": hashlib.sha256(data).hexdigest(),
                    }
                    progress(table.name, len(lines))
            config = home / CONFIG_FILE
            if config.exists():
                _add(archive, "config.toml", config.read_bytes())
            if keys_dir.is_dir():
                for key in sorted(keys_dir.rglob("*")):
                    if key.is_file() and not key.is_symlink():
                        _add(
                            archive,
                            f"keys/{key.relative_to(keys_dir).as_posix()}",
                            key.read_bytes(),
                        )
            manifest = Manifest(party, SCHEMA_HEAD, format_time(datetime.now(UTC)), tables)
            _add(
                archive,
                MANIFEST,
                json.dumps(
                    {
                        "format": FORMAT,
                        "party": manifest.party,
                        "schema": manifest.schema,
                        "created": manifest.created,
                        "tables": manifest.tables,
                    },
                    indent=1,
                    sort_keys=True,
                ).encode(),
            )
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return manifest


def read_manifest(archive: tarfile.TarFile, where: Path) -> Manifest:
    try:
        member = archive.extractfile(MANIFEST)
        data = json.loads(member.read()) if member is not None else None
    except (KeyError, ValueError) as exc:
        raise InvalidInput("archive", f"{where} is not a hotline backup ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidInput("archive", f"{where}: unknown backup format")
    if data.get("schema") != SCHEMA_HEAD:
        raise InvalidInput(
            "archive",
            f"{where} was made at schema {data.get('schema')}; this hotline is at {SCHEMA_HEAD}",
            hint="restore it with the hotline version that made it, then `hotline db upgrade`",
        )
    return Manifest(str(data["party"]), str(data["schema"]), str(data["created"]), data["tables"])


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, mode="r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise InvalidInput("archive", f"cannot read {path}: {exc}") from exc


def restore(
    archive_path: Path,
    engine: Engine,
    home: Path,
    keys_dir: Path,
    progress: Callable[[str, int], None] = lambda table, rows: None,
) -> tuple[Manifest, bytes | None]:
    """Load an archive into an empty database and write its keys into ``keys_dir``.
    Returns the manifest and the archived config file (the caller writes it). Nothing is
    written unless every table file matches its checksum."""
    with _open(archive_path) as archive:
        manifest = read_manifest(archive, archive_path)
        files: dict[str, bytes] = {}
        for name, about in manifest.tables.items():
            member = archive.extractfile(f"tables/{name}.jsonl")
            data = member.read() if member is not None else b""
            if hashlib.sha256(data).hexdigest() != about["sha256"]:
                raise InvalidInput(
                    "archive", f"{archive_path}: table {name} does not match its checksum"
                )
            files[name] = data
        keys: dict[str, bytes] = {}
        for m in archive.getmembers():
            if m.isfile() and m.name.startswith("keys/"):
                parts = m.name[5:].split("/")
                if not all(p and p not in (".", "..") for p in parts):
                    raise InvalidInput("archive", f"{archive_path}: unsafe key path {m.name!r}")
                keys["/".join(parts)] = (archive.extractfile(m) or io.BytesIO()).read()
        try:
            member = archive.extractfile("config.toml")
            config = member.read() if member is not None else None
        except KeyError:
            config = None
    upgrade(engine)
    with engine.begin() as c:
        if c.execute(sa.select(sa.func.count()).select_from(metadata.tables["events"])).scalar():
            raise AlreadyExists(
                "the target database already holds a ledger", hint="restore into an empty one"
            )
        for table in metadata.sorted_tables:
            rows = [
                {k: _decode(v) for k, v in json.loads(line).items()}
                for line in files.get(table.name, b"").decode().splitlines()
                if line
            ]
            rows = [row for row in rows if _kept(table.name, row)]
            if rows:
                for start in range(0, len(rows), 1000):
                    c.execute(sa.insert(table), rows[start : start + 1000])
            progress(table.name, len(rows))
        _halt_shared_chains(c, format_time(datetime.now(UTC)))
        if engine.dialect.name == "postgresql":
            for table in metadata.sorted_tables:
                for col in table.primary_key.columns:
                    if col.autoincrement is True:
                        # the next id after the restored ones (names from our own schema)
                        top = c.execute(sa.select(sa.func.max(col))).scalar() or 0
                        c.execute(
                            sa.select(
                                sa.func.setval(
                                    sa.func.pg_get_serial_sequence(table.name, col.name),
                                    top + 1,
                                    False,
                                )
                            )
                        )
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name, data in keys.items():
        target = keys_dir.joinpath(*name.split("/"))
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    return manifest, config


def _halt_shared_chains(c: sa.Connection, at: str) -> list[Halt]:
    """Halt every chain of the restored node's own parties on a line shared with another
    party's node: a backup may be older than what that peer holds of the chain, and an
    event signed on it would then fork it. Each halt is lifted once the chain has been
    compared with the peer (catch-up, ``hotline verify --peer``, ``hotline recover``)."""
    parties = metadata.tables["parties"]
    line_parties = metadata.tables["line_parties"]
    events = metadata.tables["events"]
    hosted = {r.id: bool(r.hosted) for r in c.execute(sa.select(parties.c.id, parties.c.hosted))}
    members: dict[str, list[str]] = {}
    for r in c.execute(sa.select(line_parties.c.line, line_parties.c.party)):
        members.setdefault(r.line, []).append(r.party)
    halts = []
    for line, among in sorted(members.items()):
        peers = sorted(p for p in among if not hosted.get(p, False))
        if not peers:
            continue  # a line between parties this node hosts: nobody else holds it
        for party in sorted(p for p in among if hosted.get(p, False)):
            seq = c.execute(
                sa.select(sa.func.max(events.c.seq)).where(
                    events.c.line == line, events.c.party == party
                )
            ).scalar()
            halt = Halt(line, party, Cause.RESTORED, ",".join(peers), int(seq or 0), None, at)
            key = halt_key(line, party)
            node_info = metadata.tables["node_info"]
            c.execute(sa.delete(node_info).where(node_info.c.key == key))
            c.execute(sa.insert(node_info).values(key=key, value=halt.to_text()))
            halts.append(halt)
    return halts


def _kept(table: str, row: Mapping[Any, Any]) -> bool:
    """Whether a row belongs in a backup: not a table's version, which the database
    writes itself whenever the table is written (restoring it writes a new one)."""
    return not (table == "node_info" and row.get("key") in VERSIONS)
