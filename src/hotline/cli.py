"""The ``hotline`` command line (Typer + Rich).

Errors from the domain are shown in one place, :func:`main`, as ``error:`` and ``hint:``
lines on standard error, with the exit code of :data:`EXIT_CODES`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from hotline import render
from hotline.app import Node, init_node, open_node
from hotline.domain import errors
from hotline.domain.events import EventKind
from hotline.domain.message import MessageDraft
from hotline.domain.policy import parse_line_kind, parse_message_kind
from hotline.domain.precedence import parse_duration, parse_precedence
from hotline.services.verification import verify_store
from hotline.storage.engine import upgrade

#: Exit codes: 0 success, 1 verification found a problem, then one per error family.
EXIT_CODES: dict[type[errors.HotlineError], int] = {
    errors.IntegrityFailure: 1,
    errors.InvalidInput: 2,
    errors.NotFound: 3,
    errors.AlreadyExists: 4,
    errors.Refused: 5,
    errors.KeyUnavailable: 6,
    errors.ChainConflict: 7,
    errors.StorageUnavailable: 8,
}

#: Exit code of an unexpected failure (a bug), as EX_SOFTWARE in sysexits.h.
INTERNAL_ERROR = 70

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

app = typer.Typer(
    help="hotline: signed, hash-chained lines between rival militaries.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
party_app = typer.Typer(
    help="Parties: the states and alliances on this node's lines.", no_args_is_help=True
)
principal_app = typer.Typer(
    help="Principals: the offices and desks of a party.", no_args_is_help=True
)
line_app = typer.Typer(
    help="Lines: agreed channels between parties, with their policy.", no_args_is_help=True
)
db_app = typer.Typer(help="The node's database.", no_args_is_help=True)
app.add_typer(party_app, name="party")
app.add_typer(principal_app, name="principal")
app.add_typer(line_app, name="line")
app.add_typer(db_app, name="db")

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        metavar="DIR",
        help="The node's data folder (default: $HOTLINE_HOME or ~/.hotline).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
_state: dict[str, Path | None] = {"home": None}


@app.callback()
def _root(home: HomeOption = None) -> None:
    _state["home"] = home


@contextmanager
def _node() -> Iterator[Node]:
    node = open_node(os.environ, _state["home"])
    try:
        yield node
    finally:
        node.close()


def _now() -> datetime:
    return datetime.now(UTC)


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


# -- node --------------------------------------------------------------------------------


@app.command()
def init(
    party: Annotated[
        str, typer.Option("--party", metavar="PARTY", help="The party this node serves, e.g. US.")
    ],
    name: Annotated[
        str, typer.Option("--name", metavar="TEXT", help="The party's full name.")
    ] = "",
    database: Annotated[
        str | None,
        typer.Option(
            "--database", metavar="URL", help="Database URL (default: SQLite in the data folder)."
        ),
    ] = None,
) -> None:
    """Create a node: data folder, node key, database and config."""
    node = init_node(os.environ, _state["home"], party, name, database_url=database)
    try:
        key = node.store.party(node.party).node_key
        out.print(f"created node of [bold]{node.party}[/] at {node.settings.home}")
        out.print(f"  database   {node.settings.database_url}")
        out.print(
            f"  node key   {key.key_id if key else '-'} "
            f"({node.writer.keystore.path(node.party)}, mode 600)"
        )
    finally:
        node.close()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to this version of hotline."""
    from hotline.config import load_settings
    from hotline.storage.engine import current_revision, make_engine

    settings = load_settings(os.environ, _state["home"])
    engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        before = current_revision(engine)
        upgrade(engine)
        out.print(f"schema {before or 'empty'} -> {current_revision(engine)}")
    finally:
        engine.dispose()


# -- parties and principals --------------------------------------------------------------


@party_app.command("add")
def party_add(
    party_id: Annotated[str, typer.Argument(metavar="PARTY", help="Party id, e.g. RU.")],
    name: Annotated[str, typer.Option("--name", metavar="TEXT", help="Full name.")] = "",
    hosted: Annotated[
        bool,
        typer.Option(
            "--hosted",
            help="This node also acts as that party's node and holds "
            "its keys: for drills and single-node trials.",
        ),
    ] = False,
    node_key: Annotated[
        str | None,
        typer.Option(
            "--node-key", metavar="BASE64URL", help="The party's node public key (base64url)."
        ),
    ] = None,
) -> None:
    """Register a party."""
    with _node() as node:
        party = node.directory.add_party(party_id, name, hosted=hosted, node_key=node_key)
        where = "hosted on this node" if party.hosted else "remote"
        out.print(f"added party [bold]{party.id}[/] ({party.name}), {where}")


@party_app.command("list")
def party_list(as_json: JsonOption = False) -> None:
    """List parties."""
    with _node() as node:
        parties = node.store.parties()
    if as_json:
        _print_json([render.party_json(p) for p in parties])
        return
    table = Table("ID", "NAME", "HOSTED", "NODE KEY")
    for p in parties:
        table.add_row(
            p.id, p.name, "yes" if p.hosted else "no", p.node_key.key_id if p.node_key else "-"
        )
    out.print(table)


@principal_app.command("add")
def principal_add(
    principal_id: Annotated[
        str, typer.Argument(metavar="PRINCIPAL", help="PARTY/DESK, e.g. US/EUCOM-JOC.")
    ],
    role: Annotated[
        list[str],
        typer.Option(
            "--role",
            metavar="ROLE",
            help="watch_officer, leader, relay, translator, auditor, admin (repeat for several).",
        ),
    ],
    name: Annotated[str, typer.Option("--name", metavar="TEXT", help="What the desk is.")] = "",
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            metavar="BASE64URL",
            help="Its public key, when the private key is held "
            "elsewhere (required for remote parties).",
        ),
    ] = None,
) -> None:
    """Register a principal (an office or desk) with roles and a key."""
    with _node() as node:
        principal, held = node.directory.add_principal(
            principal_id, name, role, public_key=public_key
        )
        where = (
            f"private key at {node.writer.keystore.path(principal.id)}"
            if held
            else "public key only"
        )
        out.print(
            f"added principal [bold]{principal.id}[/] "
            f"({', '.join(r.value for r in principal.roles)}), key {principal.key.key_id}, "
            f"{where}"
        )


@principal_app.command("list")
def principal_list(
    party: Annotated[
        str | None, typer.Option("--party", metavar="PARTY", help="Only this party's.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List principals."""
    with _node() as node:
        found = node.store.principals(party.upper() if party else None)
    if as_json:
        _print_json([render.principal_json(p) for p in found])
        return
    table = Table("ID", "NAME", "ROLES", "KEY")
    for p in found:
        table.add_row(p.id, p.name, ", ".join(r.value for r in p.roles), p.key.key_id)
    out.print(table)


@principal_app.command("show")
def principal_show(
    principal_id: Annotated[str, typer.Argument(metavar="PRINCIPAL", help="PARTY/DESK.")],
) -> None:
    """Show a principal, with its public key."""
    with _node() as node:
        _print_json(render.principal_json(node.store.principal(principal_id.upper())))


# -- lines --------------------------------------------------------------------------------


@line_app.command("create")
def line_create(
    line_id: Annotated[
        str, typer.Argument(metavar="LINE", help="Line id, e.g. us-ru-deconfliction.")
    ],
    kind: Annotated[
        str,
        typer.Option("--kind", metavar="KIND", help="deconfliction, leaders, relay or service."),
    ],
    member: Annotated[
        list[str],
        typer.Option(
            "--member", metavar="PRINCIPAL", help="A principal allowed on the line (repeat)."
        ),
    ],
    title: Annotated[
        str, typer.Option("--title", metavar="TEXT", help="What the line is for.")
    ] = "",
    allow: Annotated[
        list[str] | None,
        typer.Option(
            "--allow",
            metavar="KIND",
            help="A message kind the line takes (repeat); default by kind of line.",
        ),
    ] = None,
    deadline: Annotated[
        list[str] | None,
        typer.Option(
            "--deadline",
            metavar="PREC=DURATION",
            help="Ack deadline override, e.g. FLASH=5m (repeat).",
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", metavar="PARTY", help="Proposing party (default: this node's)."),
    ] = None,
) -> None:
    """Propose a line's terms; it carries messages once every party has accepted them."""
    deadlines = {}
    for item in deadline or []:
        prec, sep, value = item.partition("=")
        if not sep:
            raise errors.InvalidInput(
                "deadline", f"{item!r} is not PRECEDENCE=DURATION", hint="e.g. --deadline FLASH=5m"
            )
        deadlines[parse_precedence(prec)] = parse_duration(value, field="deadline")
    with _node() as node:
        state = node.lines.propose(
            line_id=line_id,
            kind=parse_line_kind(kind),
            title=title,
            members=member,
            kinds=[parse_message_kind(k) for k in allow] if allow else None,
            deadlines=deadlines,
            by=by,
        )
        out.print(
            f"proposed line [bold]{state.line.id}[/] ({state.line.kind.value}) "
            f"signed by {state.proposed_by}; status {state.status.value}"
        )
        if state.waiting_for:
            out.print(
                f"  waiting for {', '.join(state.waiting_for)} to accept its terms "
                f"{render.short(state.line.terms_id())}"
            )


@line_app.command("accept")
def line_accept(
    line_id: Annotated[str, typer.Argument(metavar="LINE", help="Line id.")],
    party: Annotated[
        str, typer.Option("--party", metavar="PARTY", help="The accepting party (hosted here).")
    ],
) -> None:
    """Accept a line's terms on behalf of a party hosted on this node."""
    with _node() as node:
        state = node.lines.accept(line_id, party)
        out.print(
            f"{party.upper()} accepted line [bold]{state.line.id}[/]; status {state.status.value}"
        )


@line_app.command("list")
def line_list(as_json: JsonOption = False) -> None:
    """List lines."""
    with _node() as node:
        states = node.store.lines()
    if as_json:
        _print_json([render.line_json(s) for s in states])
        return
    table = Table("ID", "KIND", "STATUS", "PARTIES", "MEMBERS")
    for s in states:
        table.add_row(
            s.line.id,
            s.line.kind.value,
            s.status.value,
            " ".join(s.line.parties),
            " ".join(s.line.policy.principals),
        )
    out.print(table)


@line_app.command("show")
def line_show(
    line_id: Annotated[str, typer.Argument(metavar="LINE", help="Line id.")],
    as_json: JsonOption = False,
) -> None:
    """Show a line's terms and policy."""
    with _node() as node:
        state = node.store.line(line_id.lower())
    if as_json:
        _print_json(render.line_json(state))
        return
    line = state.line
    out.print(f"[bold]{line.id}[/] - {line.title}")
    out.print(f"  kind       {line.kind.value}")
    out.print(
        f"  status     {state.status.value} (signed by {', '.join(sorted(state.accepted_by))})"
    )
    out.print(f"  members    {', '.join(line.policy.principals)}")
    out.print(f"  kinds      {', '.join(sorted(k.value for k in line.policy.kinds))}")
    terms = line.policy.to_json()
    out.print("  deadlines  " + ", ".join(f"{p} {d}" for p, d in terms["deadlines"].items()))
    out.print(f"  terms      {line.terms_id()}")


# -- messages -----------------------------------------------------------------------------


def _read_text_arg(value: str, field: str) -> str:
    """``@path`` reads a file, ``-`` reads standard input, anything else is the text."""
    if value == "-":
        return sys.stdin.read()
    if value.startswith("@"):
        try:
            return Path(value[1:]).read_text("utf-8")
        except OSError as exc:
            raise errors.InvalidInput(field, f"cannot read {value[1:]}: {exc.strerror}") from exc
    return value


@app.command()
def send(
    line: Annotated[str, typer.Option("--line", "-l", metavar="LINE", help="The line to send on.")],
    sender: Annotated[
        str,
        typer.Option("--as", metavar="PRINCIPAL", help="The sending principal, e.g. US/EUCOM-JOC."),
    ],
    subject: Annotated[str, typer.Option("--subject", "-s", metavar="TEXT", help="Subject line.")],
    body: Annotated[
        str, typer.Option("--body", "-b", metavar="TEXT", help="Text; @FILE reads a file, - stdin.")
    ],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            "-k",
            metavar="KIND",
            help="notification, query, response, "
            "incident, warning, protest, catalogue, test or free.",
        ),
    ] = "free",
    precedence: Annotated[
        str,
        typer.Option(
            "--precedence", "-p", metavar="PREC", help="FLASH, IMMEDIATE, PRIORITY or ROUTINE."
        ),
    ] = "ROUTINE",
    lang: Annotated[
        str, typer.Option("--lang", metavar="LANG", help="Language of the text.")
    ] = "en",
    to: Annotated[
        list[str] | None,
        typer.Option("--to", metavar="PRINCIPAL", help="Addressee principal (repeat)."),
    ] = None,
    ref: Annotated[
        list[str] | None,
        typer.Option("--ref", metavar="EVENT", help="Event this refers to (repeat)."),
    ] = None,
    area: Annotated[
        str | None,
        typer.Option(
            "--area",
            metavar="GEOJSON",
            help="GeoJSON Polygon, or "
            '{"center":[lon,lat],"radius":25,"unit":"km"}; @FILE reads a file.',
        ),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", metavar="TIME", help="Window start (UTC).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", metavar="TIME", help="Window end (UTC).")
    ] = None,
    activity: Annotated[
        str | None, typer.Option("--activity", metavar="TYPE", help="Activity type.")
    ] = None,
    unit: Annotated[
        list[str] | None, typer.Option("--unit", metavar="UNIT", help="Unit or asset (repeat).")
    ] = None,
) -> None:
    """Sign and send a message on a line (checked against the line's policy)."""
    area_value = None
    if area is not None:
        try:
            area_value = json.loads(_read_text_arg(area, "area"))
        except json.JSONDecodeError as exc:
            raise errors.InvalidInput(
                "area",
                f"not JSON: {exc.msg} at position {exc.pos}",
                hint="quote the JSON, or give @file.geojson",
            ) from exc
    if (start is None) != (end is None):
        raise errors.InvalidInput("window", "give both --start and --end, or neither")
    draft = MessageDraft(
        kind=parse_message_kind(kind),
        precedence=parse_precedence(precedence),
        subject=subject,
        body=_read_text_arg(body, "body"),
        lang=lang,
        refs=tuple(ref or ()),
        to=tuple(to or ()),
        area=area_value,
        window={"start": start, "end": end} if start and end else None,
        activity=activity,
        units=tuple(unit or ()),
    )
    with _node() as node:
        event = node.messages.send(line.lower(), sender, draft)
        state = node.store.line(event.line)
        due = event.ts + state.line.policy.deadline(draft.precedence)
        out.print(
            f"sent {draft.precedence.value} {draft.kind.value} [bold]"
            f"{render.short(event.id)}[/] on {event.line} (seq {event.seq}); "
            f"ack due {render.clock_time(due)}"
        )


@app.command()
def inbox(
    principal: Annotated[
        str | None,
        typer.Option("--as", metavar="PRINCIPAL", help="Only lines this principal is on."),
    ] = None,
    party: Annotated[
        str | None,
        typer.Option("--party", metavar="PARTY", help="Whose inbox (default: this node's party)."),
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Include acknowledged messages.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Messages from the other side, most urgent first, with time left to acknowledge."""
    with _node() as node:
        who = (party or (principal.split("/")[0] if principal else node.party)).upper()
        if principal:
            node.store.principal(principal.upper())
        items = node.messages.inbox(
            who, principal=principal.upper() if principal else None, include_acked=show_all
        )
    now = _now()
    if as_json:
        _print_json([render.inbox_json(i, now) for i in items])
        return
    if not items:
        out.print(f"inbox of {who}: nothing waiting")
        return
    table = Table(
        "ID", "PREC", "LINE", "FROM", "KIND", "SUBJECT", "DUE", "LEFT", title=f"inbox of {who}"
    )
    for i in items:
        left = f"acked by {i.ack.author}" if i.ack else render.time_left(i.time_left(now))
        style = "bold red" if i.precedence.value == "FLASH" and not i.ack else None
        table.add_row(
            render.short(i.message.id),
            i.precedence.value,
            i.line.line.id,
            i.message.author,
            i.message.content["kind"],
            i.message.content["subject"],
            render.clock_time(i.deadline),
            left,
            style=style,
        )
    out.print(table)


@app.command()
def ack(
    event: Annotated[
        str, typer.Argument(metavar="EVENT", help="The message id (or 6+ leading characters).")
    ],
    principal: Annotated[
        str, typer.Option("--as", metavar="PRINCIPAL", help="The acknowledging principal.")
    ],
    reply: Annotated[
        str | None, typer.Option("--reply", metavar="TEXT", help="A short reply with the ack.")
    ] = None,
    lang: Annotated[
        str, typer.Option("--lang", metavar="LANG", help="Language of the reply.")
    ] = "en",
) -> None:
    """Acknowledge a message from the other side."""
    with _node() as node:
        done = node.messages.ack(event, principal, reply=reply, lang=lang)
        out.print(
            f"acknowledged {render.short(done.content['ref'])} as {done.author} "
            f"(event {render.short(done.id)}, seq {done.seq})"
        )


@app.command()
def log(
    line: Annotated[str, typer.Argument(metavar="LINE", help="Line id.")],
    as_json: JsonOption = False,
) -> None:
    """A line's history: every event of every party, in the order stored."""
    with _node() as node:
        state, events = node.messages.log(line.lower())
    if as_json:
        _print_json([render.event_json(e) for e in events])
        return
    table = Table("TIME", "CHAIN", "KIND", "AUTHOR", "WHAT", "ID", title=f"line {state.line.id}")
    for e in events:
        table.add_row(
            e.body["ts"],
            f"{e.party}#{e.seq}",
            e.kind,
            e.author,
            render.summary(e),
            render.short(e.id),
            style="dim" if e.kind == EventKind.RECEIPT else None,
        )
    out.print(table)


@app.command()
def show(
    event: Annotated[
        str, typer.Argument(metavar="EVENT", help="Event id or 6+ leading characters.")
    ],
) -> None:
    """Print one event as stored: id, signed body and signature."""
    with _node() as node:
        _print_json(render.event_json(node.store.event(event)))


@app.command()
def verify(as_json: JsonOption = False) -> None:
    """Re-derive every id and check every signature, chain link and reference.

    Exits 1 and names the first broken event of each chain when anything is wrong.
    """
    with _node() as node:
        total = node.store.count_events()
        with Progress(
            TextColumn("verifying"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} events"),
            console=err,
            transient=True,
            disable=as_json or total < 20000,
        ) as progress:
            task = progress.add_task("verify", total=total)
            report = verify_store(node.store, lambda n: progress.update(task, completed=n))
    if as_json:
        _print_json(
            {
                "ok": report.ok,
                "events": report.events,
                "chains": [
                    {"line": k[0], "party": k[1], "seq": h.seq, "head": h.id}
                    for k, h in sorted(report.chains.items())
                ],
                "problems": [
                    {
                        "reason": p.reason.value,
                        "event": p.event_id,
                        "line": p.line,
                        "party": p.party,
                        "seq": p.seq,
                        "detail": p.detail,
                    }
                    for p in report.problems
                ],
            }
        )
    elif report.ok:
        out.print(
            f"[green]ok[/]: {report.events} events in {len(report.chains)} chains verified "
            "(ids, signatures, links, references)"
        )
    else:
        for problem in report.problems:
            err.print(f"[red]FAIL[/] {problem.describe()}")
        err.print(f"{len(report.problems)} problem(s) in {report.events} events")
    if not report.ok:
        raise typer.Exit(1)


def _fail(exc: errors.HotlineError) -> NoReturn:
    err.print("error: " + exc.message, style="red", markup=False)
    if exc.hint:
        err.print(f"hint: {exc.hint}")
    code = next((c for t, c in EXIT_CODES.items() if isinstance(exc, t)), 1)
    raise SystemExit(code)


def main() -> None:
    """Entry point: run the CLI, turning hotline errors into messages and exit codes."""
    try:
        app(standalone_mode=True)
    except errors.HotlineError as exc:
        _fail(exc)
    except Exception:
        err.print_exception()
        err.print(
            "internal error: this is a bug in hotline; nothing above was stored "
            "unless the output said so",
            style="red",
            markup=False,
        )
        raise SystemExit(INTERNAL_ERROR) from None
