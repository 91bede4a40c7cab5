"""Catalogues (import, list, show, adopt, status, send), translations and the roster."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hotline.cli import render
from hotline.cli.base import (
    JsonOption,
    catalogue_app,
    node_context,
    node_now,
    out,
    print_json,
    read_file,
    translation_app,
    watch_app,
)
from hotline.cli.messages import read_text_arg
from hotline.domain import errors
from hotline.domain.clock import format_time, parse_time
from hotline.domain.precedence import parse_precedence

# -- catalogues ---------------------------------------------------------------------------


@catalogue_app.command("import")
def catalogue_import(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="A catalogue file (YAML), or a starter: 'starter' (en, ru), "
            "'starter-en-zh', 'starter-ko-en'.",
        ),
    ],
) -> None:
    """Check a catalogue file and keep it on this node."""
    from hotline.services.catalogues import STARTERS, starter_text

    text = starter_text(file) if file in STARTERS else read_file(file).decode("utf-8")
    with node_context() as node:
        catalogue, added = node.catalogues.import_text(text)
    state = "imported" if added else "already held"
    out.print(
        f"{state}: catalogue {catalogue.label}, {len(catalogue.entries)} entries, "
        f"languages {', '.join(catalogue.languages)}; id {catalogue.id}"
    )


@catalogue_app.command("list")
def catalogue_list(as_json: JsonOption = False) -> None:
    """Catalogues held on this node."""
    with node_context() as node:
        held = node.library.catalogues()
    rows = [
        {"id": c.id, "name": c.name, "version": c.version, "entries": len(c.entries)} for c in held
    ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print("no catalogues held: hotline catalogue import starter")
    for r in rows:
        out.print(f"{r['name']} v{r['version']}  {r['entries']} entries  {r['id']}")


@catalogue_app.command("show")
def catalogue_show(
    catalogue: Annotated[
        str, typer.Argument(metavar="CATALOGUE", help="Id, name, name@version, or 'starter'.")
    ] = "starter",
    lang: Annotated[str | None, typer.Option("--lang", metavar="LANG", help="Language.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The entries of a catalogue: code, number, slots and text."""
    with node_context() as node:
        found = node.catalogues.get(catalogue)
        reader = lang or node.language
    if as_json:
        print_json({"id": found.id, **found.data})
        return
    out.print(f"catalogue {found.label} ({render.short(found.id)})")
    table = Table("CODE", "TITLE", "SLOTS", "TEXT", show_lines=True)
    for entry in found.entries.values():
        table.add_row(
            entry.key,
            entry.title_in(reader),
            ", ".join(f"{s.name}:{s.type}" for s in entry.slots),
            entry.text_in(reader),
        )
    out.print(table)


@catalogue_app.command("adopt")
def catalogue_adopt(
    line: Annotated[str, typer.Argument(metavar="LINE", help="The line.")],
    catalogue: Annotated[
        str,
        typer.Argument(
            metavar="CATALOGUE",
            help="Id, name, name@version, or 'starter' (the starter in the languages of "
            "the line's parties).",
        ),
    ],
    party: Annotated[
        str | None,
        typer.Option("--party", metavar="PARTY", help="Adopting party (default: this node's)."),
    ] = None,
) -> None:
    """Sign the catalogue version in force on a line for a party; it is in force once
    every party of the line has adopted the same version."""
    with node_context() as node:
        event = node.catalogues.adopt(line.lower(), catalogue, party)
        latest = node.catalogues.adoptions(event.line)
    c = event.content
    out.print(f"{event.party} adopted catalogue {c['name']} v{c['version']} on {event.line}")
    for who, ident in sorted(latest.items()):
        out.print(f"  {who}: {render.short(ident)}")


@catalogue_app.command("status")
def catalogue_status(
    line: Annotated[str, typer.Argument(metavar="LINE", help="The line.")],
) -> None:
    """Which catalogue each party has adopted on a line, and whether one is in force."""
    with node_context() as node:
        latest = node.catalogues.adoptions(line.lower())
        try:
            found = node.catalogues.in_force(line.lower())
            verdict = f"in force: {found.label} ({render.short(found.id)})"
        except errors.Refused as exc:
            verdict = exc.message
    for who, ident in sorted(latest.items()):
        out.print(f"{who} adopted {render.short(ident)}")
    out.print(verdict)


def _slots(items: list[str] | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise errors.InvalidInput("slot", f"{item!r} is not NAME=VALUE", hint="--slot time=...")
        values[name.strip()] = read_text_arg(value, "slot")
    return values


@catalogue_app.command("send")
def catalogue_send(
    line: Annotated[str, typer.Option("--line", "-l", metavar="LINE", help="The line.")],
    sender: Annotated[str, typer.Option("--as", metavar="PRINCIPAL", help="The sender.")],
    code: Annotated[str, typer.Argument(metavar="CODE", help="Code word, e.g. ARROW.")],
    number: Annotated[int, typer.Argument(metavar="NUMBER", help="Entry number, e.g. 1.")],
    slot: Annotated[
        list[str] | None,
        typer.Option("--slot", metavar="NAME=VALUE", help="A slot value (repeat); @FILE reads."),
    ] = None,
    precedence: Annotated[
        str, typer.Option("--precedence", "-p", metavar="PREC", help="Default IMMEDIATE.")
    ] = "IMMEDIATE",
    lang: Annotated[str, typer.Option("--lang", metavar="LANG", help="Sender's language.")] = "en",
) -> None:
    """Send a pre-agreed message: only the code, number and slot values travel."""
    with node_context() as node:
        event = node.catalogues.send(
            line,
            sender,
            code,
            number,
            _slots(slot),
            precedence=parse_precedence(precedence),
            lang=lang,
        )
    out.print(
        f"sent {event.content['subject']} ({render.short(event.id)}) on {event.line}\n"
        f"  {event.content['body']}"
    )


# -- translations -------------------------------------------------------------------------


@translation_app.command("add")
def translation_add(
    message: Annotated[str, typer.Argument(metavar="EVENT", help="The message translated.")],
    translator: Annotated[str, typer.Option("--as", metavar="PRINCIPAL", help="Translator.")],
    lang: Annotated[str, typer.Option("--lang", metavar="LANG", help="Language translated to.")],
    body: Annotated[str, typer.Option("--body", metavar="TEXT", help="Text; @FILE reads one.")],
    subject: Annotated[str, typer.Option("--subject", metavar="TEXT", help="Subject.")] = "",
) -> None:
    """Record a translation of a message from the other side (the original stays)."""
    with node_context() as node:
        event = node.translations.add(
            message, translator, lang, read_text_arg(body, "body"), subject
        )
    out.print(
        f"translation {render.short(event.id)} of {render.short(event.content['ref'])} "
        f"into {event.content['lang']} by {event.author}; awaiting certification"
    )


@translation_app.command("machine")
def translation_machine(
    message: Annotated[str, typer.Argument(metavar="EVENT", help="The message translated.")],
    translator: Annotated[str, typer.Option("--as", metavar="PRINCIPAL", help="Translator.")],
    lang: Annotated[str, typer.Option("--lang", metavar="LANG", help="Language translated to.")],
) -> None:
    """Machine-translate a message with the configured plug-in (labelled machine-made)."""
    with node_context() as node:
        event = node.translations.machine_translate(message, translator, lang)
    engine = event.content["machine"]["engine"]
    out.print(f"machine translation ({engine}) {render.short(event.id)} recorded by {event.author}")


@translation_app.command("certify")
def translation_certify(
    translation: Annotated[str, typer.Argument(metavar="TRANSLATION", help="The translation.")],
    certifier: Annotated[
        str, typer.Option("--as", metavar="PRINCIPAL", help="A second translator.")
    ],
    correct: Annotated[
        str | None,
        typer.Option("--correct", metavar="TEXT", help="Corrected text; @FILE reads one."),
    ] = None,
) -> None:
    """Certify a translation as it stands, or with a corrected text."""
    with node_context() as node:
        body = read_text_arg(correct, "correct") if correct is not None else None
        event = node.translations.certify(translation, certifier, body=body)
    out.print(
        f"{event.content['verdict']} translation {render.short(event.content['ref'])} "
        f"as {event.author}"
    )


@translation_app.command("show")
def translation_show(
    message: Annotated[str, typer.Argument(metavar="EVENT", help="The message.")],
    as_json: JsonOption = False,
) -> None:
    """A message's translations: translator, certification, text."""
    with node_context() as node:
        original, items = node.translations.of(message)
    rows = [
        {
            "id": t.event.id,
            "lang": t.lang,
            "translator": t.translator,
            "machine": t.machine,
            "state": t.state,
            "certified_by": t.certified_by,
            "subject": t.subject,
            "body": t.body,
        }
        for t in items
    ]
    if as_json:
        print_json(
            {
                "message": original.id,
                "original_lang": original.content["lang"],
                "translations": rows,
            }
        )
        return
    if not rows:
        out.print(f"no translations of {render.short(original.id)}")
    for r in rows:
        out.print(
            f"{render.short(str(r['id']))} [{r['lang']}] by {r['translator']}: {r['state']}"
            + (f" by {r['certified_by']}" if r["certified_by"] else "")
        )


# -- the watch roster ---------------------------------------------------------------------


@watch_app.callback()
def watch_now(
    ctx: typer.Context,
    at: Annotated[
        str | None, typer.Option("--at", metavar="TIME", help="Another moment (UTC).")
    ] = None,
    party: Annotated[
        str | None, typer.Option("--party", metavar="PARTY", help="Default: this node's.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Who is on watch now at each desk of the own party (and who comes next)."""
    from hotline.services.views import watch_json

    if ctx.invoked_subcommand is not None:
        return
    with node_context() as node:
        moment = parse_time(at, field="at") if at else node_now(node)
        board = watch_json(moment, node.watch.board((party or node.party).upper(), moment))
    rows = board["desks"]
    if as_json:
        print_json(board)
        return
    table = Table(
        "DESK", "ON WATCH", "UNTIL", "NEXT", "FROM", title=f"watch at {format_time(moment)}"
    )
    for r in rows:
        table.add_row(
            r["desk"],
            r["on_watch"] or "nobody on the roster",
            r["until"] or "",
            r["next"] or "",
            r["next_from"] or "",
        )
    out.print(table)


@watch_app.command("import")
def watch_import(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Shifts, .csv or .yaml.")],
    tz: Annotated[
        str | None, typer.Option("--tz", metavar="ZONE", help="Zone of times without offset.")
    ] = None,
) -> None:
    """Import shifts from CSV (desk,officer,start,end[,tz]) or YAML; all or none."""
    fmt = {".csv": "csv", ".yaml": "yaml", ".yml": "yaml"}.get(file.suffix.lower())
    if fmt is None:
        raise errors.InvalidInput("file", f"{file.name} is not .csv or .yaml")
    text = read_file(file).decode("utf-8")
    with node_context() as node:
        count = node.watch.load(text, fmt, tz)
    out.print(f"imported {count} shifts")


@watch_app.command("add")
def watch_add(
    desk: Annotated[str, typer.Argument(metavar="DESK", help="A desk, e.g. US/EUCOM-JOC.")],
    officer: Annotated[str, typer.Option("--officer", metavar="NAME", help="Who stands it.")],
    start: Annotated[str, typer.Option("--from", metavar="TIME", help="Shift start.")],
    end: Annotated[str, typer.Option("--to", metavar="TIME", help="Shift end.")],
    tz: Annotated[
        str | None, typer.Option("--tz", metavar="ZONE", help="Zone of times without offset.")
    ] = None,
) -> None:
    """Add one shift at a desk."""
    with node_context() as node:
        shift = node.watch.add(desk, officer, start, end, tz)
    out.print(
        f"{shift.officer} on watch at {shift.desk} "
        f"{format_time(shift.start)} - {format_time(shift.end)}"
    )


@watch_app.command("handover")
def watch_handover(
    desk: Annotated[str, typer.Argument(metavar="DESK", help="The desk handed over.")],
    to: Annotated[str, typer.Option("--to", metavar="NAME", help="The officer taking over.")],
    note: Annotated[str, typer.Option("--note", metavar="TEXT", help="Handover note; @FILE.")],
    line: Annotated[
        str | None, typer.Option("--line", metavar="LINE", help="Line to record it on.")
    ] = None,
) -> None:
    """Record a shift handover note, signed by the desk, on one of its lines."""
    with node_context() as node:
        event = node.watch.handover(desk, to, read_text_arg(note, "note"), line)
    c = event.content
    out.print(
        f"handover at {c['desk']}: {c['from'] or '(no roster)'} -> {c['to']} "
        f"(event {render.short(event.id)} on {event.line})"
    )
