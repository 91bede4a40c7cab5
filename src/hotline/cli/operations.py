"""`hotline backup`, `hotline restore`, and a node's other sites (`hotline site`)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated

import typer

from hotline.cli.base import PROBLEM_FOUND, app, err, node_context, out, site_app, state
from hotline.domain.errors import AlreadyExists, InvalidInput


@app.command("backup")
def backup_command(
    archive: Annotated[Path, typer.Argument(metavar="ARCHIVE", help="File to write (.tar.gz).")],
) -> None:
    """Back up this node: every table (one consistent snapshot; the node may be serving),
    its configuration and its private keys, in one archive readable by its owner only."""
    from hotline.storage.backup import backup

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
    from hotline.app import database_engine
    from hotline.config import load_settings, write_config
    from hotline.services.halts import ChainHalts
    from hotline.services.verification import verify_store
    from hotline.storage.backup import restore
    from hotline.storage.engine import close_writer

    settings = load_settings(os.environ, state["home"])
    if settings.config_path.exists():
        raise AlreadyExists(
            f"a node already exists at {settings.home}",
            hint="restore into a new folder: hotline --home NEW restore ARCHIVE",
        )
    if not archive.is_file():
        raise InvalidInput("archive", f"no file {archive}")
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = database_engine(settings, database)
    try:
        manifest, config = restore(archive, engine, settings.home, settings.keys_dir)
    finally:
        close_writer(engine)
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
        halted = ChainHalts(node.store, node.peers).all()
    if not report.ok:
        for problem in report.problems[:20]:
            err.print(f"FAIL {problem.describe()}", style="red", markup=False)
        raise typer.Exit(PROBLEM_FOUND)
    out.print(f"ok: {report.events} events in {len(report.chains)} chains verified")
    if halted:
        peers = sorted({p for h in halted for p in h.peer.split(",") if p})
        out.print(
            f"signing is held on {len(halted)} chain(s) shared with {', '.join(peers)} until "
            "each is compared with the peer (the backup may be older than what the peer "
            "holds): that happens at the first catch-up once the node serves, or run "
            f"`hotline recover --peer {peers[0] if peers else 'PARTY'}`"
        )


def _copy_keys(source: Path, target: Path) -> list[str]:
    """Copy every key file ``target`` lacks or holds differently (folders 0700, files
    0600, each written whole and renamed); the names copied."""
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    copied = []
    for key in sorted(p for p in source.rglob("*") if p.is_file()):
        name = key.relative_to(source)
        there = target / name
        data = key.read_bytes()
        if there.exists() and there.read_bytes() == data:
            continue
        there.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = there.with_name(there.name + ".copy")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, there)
        copied.append(str(name))
    return copied


@site_app.command("add")
def site_add(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="The new site's data folder.")],
    listen: Annotated[
        str,
        typer.Option("--listen", metavar="HOST:PORT", help="Where the new site listens."),
    ],
) -> None:
    """Make DIR another site of this node: the same party, database and keys, its own
    listen address. Serve it with `hotline --home DIR serve`; list its URL in the peer
    bundle as a backup (`peer export --url PRIMARY --url BACKUP`)."""
    from hotline.config import load_settings, write_config
    from hotline.runtime.sockets import parse_listen

    parse_listen(listen)
    target = load_settings({}, folder)
    if target.config_path.exists():
        raise AlreadyExists(f"a node already exists at {folder}", hint="choose a new folder")
    with node_context() as node:
        settings = node.settings
        if not node.store.shared_by_sites:
            raise InvalidInput(
                "database_url",
                "sites of one node share one PostgreSQL database; this node is on SQLite",
                hint="move it with `hotline backup` and `hotline restore --database URL`",
            )
        values = {k: str(v) for k, v in tomllib.loads(settings.config_path.read_text()).items()}
    values["listen"] = listen
    target.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    copied = _copy_keys(settings.keys_dir, target.keys_dir)
    write_config(target.config_path, values)
    out.print(f"site at {target.home} of {settings.party}'s node, listening on {listen}")
    out.print(f"  {len(copied)} keys copied; after adding principals or rotating keys here, run")
    out.print(f"  `hotline site sync {target.home}` (or share the keys folder between sites)")


@site_app.command("sync")
def site_sync(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="The other site's folder.")],
) -> None:
    """Copy to another site of this node every key it lacks or holds differently."""
    from hotline.config import load_settings

    target = load_settings({}, folder)
    with node_context() as node:
        if target.party != node.party or target.database_url != node.settings.database_url:
            raise InvalidInput(
                "site", f"{folder} is not a site of this node (party and database differ)"
            )
        copied = _copy_keys(node.settings.keys_dir, target.keys_dir)
    out.print(f"{len(copied)} keys copied to {target.keys_dir}: {', '.join(copied) or 'none'}")
