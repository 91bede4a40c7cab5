"""`hotline backup` and `hotline restore`."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated

import typer

from hotline.cli.base import app, err, node_context, out, state
from hotline.config import load_settings, write_config
from hotline.domain.errors import AlreadyExists, InvalidInput
from hotline.services.verification import verify_store
from hotline.storage.backup import backup, restore
from hotline.storage.engine import make_engine


@app.command("backup")
def backup_command(
    archive: Annotated[Path, typer.Argument(metavar="ARCHIVE", help="File to write (.tar.gz).")],
) -> None:
    """Back up this node: every table (one consistent snapshot; the node may be serving),
    its configuration and its private keys, in one archive readable by its owner only."""
    if archive.is_dir():
        raise InvalidInput("archive", f"{archive} is a folder", hint="give a file name")
    with node_context() as node:
        manifest = backup(
            node.store.engine,
            node.settings.home,
            node.settings.keys_dir,
            node.party,
            archive,
            lambda table, rows: err.print(f"  {table}: {rows} rows") if rows else None,
        )
    out.print(
        f"backed up {manifest.party}'s node: {manifest.rows} rows in "
        f"{len(manifest.tables)} tables, schema {manifest.schema}, to {archive}"
    )
    out.print("it holds the node's private keys: keep it as you keep the node's folder")


@app.command("restore")
def restore_command(
    archive: Annotated[Path, typer.Argument(metavar="ARCHIVE", help="A `hotline backup`.")],
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            metavar="URL",
            help="An empty database to restore into (default: SQLite in the new folder).",
        ),
    ] = None,
) -> None:
    """Restore a backup into a new node folder (--home) and an empty database, then
    verify the whole ledger. Nothing that exists is overwritten."""
    settings = load_settings(os.environ, state["home"])
    if settings.config_path.exists():
        raise AlreadyExists(
            f"a node already exists at {settings.home}",
            hint="restore into a new folder: hotline --home NEW restore ARCHIVE",
        )
    if not archive.is_file():
        raise InvalidInput("archive", f"no file {archive}")
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    url = database or settings.database_url
    engine = make_engine(url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        manifest, config = restore(archive, engine, settings.home, settings.keys_dir)
    finally:
        engine.dispose()
    values: dict[str, str] = {}
    if config is not None:
        try:
            values = {k: str(v) for k, v in tomllib.loads(config.decode()).items()}
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            values = {}
    values["party"] = manifest.party
    values.pop("database_url", None)
    if database:
        values["database_url"] = database
    write_config(settings.config_path, values)
    out.print(f"restored {manifest.party}'s node of {manifest.created}: {manifest.rows} rows")
    with node_context() as node:
        report = verify_store(node.store)
    if not report.ok:
        for problem in report.problems[:20]:
            err.print(f"FAIL {problem.describe()}", style="red", markup=False)
        raise typer.Exit(1)
    out.print(f"ok: {report.events} events in {len(report.chains)} chains verified")
