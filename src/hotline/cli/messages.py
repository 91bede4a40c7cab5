"""Messages: send, inbox, ack, acks (who acknowledged), log, show."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hotline.cli import render
from hotline.cli.base import (
    JsonOption,
    app,
    node_context,
    node_now,
    out,
    print_json,
    read_file,
)
from hotline.domain import errors
from hotline.domain.events import EventKind
from hotline.domain.policy import parse_message_kind
from hotline.domain.precedence import parse_precedence

# -- messages -----------------------------------------------------------------------------


def read_text_arg(value: str, field: str) -> str:
    """``@path`` reads a file, ``-`` reads standard input, anything else is the text."""
    if value == "-":
        return sys.stdin.read()
    if value.startswith("@"):
        return read_file(value[1:], field).decode("utf-8")
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
    info: Annotated[
        list[str] | None,
        typer.Option(
            "--info",
            metavar="PRINCIPAL",
            help="A desk informed (repeat): it receives the message and owes no "
            "acknowledgement. Without --to, every other party that writes on the line "
            "but those informed is addressed.",
        ),
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
    attach: Annotated[
        list[Path] | None,
        typer.Option(
            "--attach",
            metavar="GEOJSON",
            help="Map attachment (repeat): a GeoJSON file; each feature, a Polygon (area), "
            "LineString (track) or MultiPoint (positions), signed with the message.",
        ),
    ] = None,
) -> None:
    """Sign and send a message on a line (checked against the line's policy)."""
    from hotline.domain.addressing import awaited
    from hotline.domain.attachments import from_geojson
    from hotline.domain.message import MessageDraft

    area_value = None
    if area is not None:
        try:
            area_value = json.loads(read_text_arg(area, "area"))
        except json.JSONDecodeError as exc:
            raise errors.InvalidInput(
                "area",
                f"not JSON: {exc.msg} at position {exc.pos}",
                hint="quote the JSON, or give @file.geojson",
            ) from exc
    if (start is None) != (end is None):
        raise errors.InvalidInput("window", "give both --start and --end, or neither")
    attachments: list[dict[str, Any]] = []
    for path in attach or ():
        try:
            document = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise errors.InvalidInput("attach", f"cannot read {path}: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise errors.InvalidInput(
                "attach", f"{path} is not JSON: {exc.msg} at position {exc.pos}"
            ) from exc
        attachments.extend(from_geojson(document, path.stem))
    draft = MessageDraft(
        kind=parse_message_kind(kind),
        precedence=parse_precedence(precedence),
        subject=subject,
        body=read_text_arg(body, "body"),
        lang=lang,
        refs=tuple(ref or ()),
        to=tuple(to or ()),
        info=tuple(info or ()),
        area=area_value,
        window={"start": start, "end": end} if start and end else None,
        activity=activity,
        units=tuple(unit or ()),
        attachments=tuple(attachments),
    )
    with node_context() as node:
        event = node.messages.send(line.lower(), sender, draft)
        state = node.store.line(event.line)
        due = event.ts + state.line.policy.deadline(draft.precedence)
        owed = ", ".join(sorted(awaited(event, state.line))) or "nobody"
        number = f" {event.content['number']}" if event.content.get("number") else ""
        out.print(
            f"sent {draft.precedence.value} {draft.kind.value} "
            f"{render.short(event.id)} on {event.line} as {event.party}{number} "
            f"(seq {event.seq}); ack due {render.clock_time(due)} from {owed}"
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
    show_all: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Include acknowledged messages, and those sent for information (which "
            "owe no acknowledgement).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Messages from the other side, most urgent first, with time left to acknowledge."""
    from hotline.services.views import inbox_json

    with node_context() as node:
        who = (party or (principal.split("/")[0] if principal else node.party)).upper()
        if principal:
            node.store.principal(principal.upper())
        if party:
            node.store.party(who)  # an unknown party is an error, not an empty inbox
        items = node.messages.inbox(
            who, principal=principal.upper() if principal else None, include_acked=show_all
        )
        # pre-agreed messages read in the operator's language
        titles = {
            i.message.id: rendered[0]
            for i in items
            if (rendered := node.catalogues.render(i.message, node.language)) is not None
        }
        moment = node_now(node)
    if as_json:
        print_json([inbox_json(i, moment) for i in items])
        return
    if not items:
        out.print(f"inbox of {who}: nothing waiting")
        return
    table = Table(
        render.id_column(),
        "PREC",
        "LINE",
        "FROM",
        "KIND",
        "SUBJECT",
        "DUE",
        "LEFT",
        title=f"inbox of {who}",
    )
    for i in items:
        left = (
            f"acked by {i.ack.author}"
            if i.ack
            else render.time_left(i.time_left(moment))
            if i.owed
            else "for information"
        )
        if i.escalations and not i.ack and i.owed:
            left += " (" + ", ".join(sorted(set(i.escalations))) + ")"
        style = "bold red" if i.precedence.value == "FLASH" and not i.ack and i.owed else None
        table.add_row(
            render.short(i.message.id),
            i.precedence.value,
            i.line.line.id,
            i.message.author,
            i.message.content["kind"],
            ("EXERCISE " if i.message.content.get("exercise") else "")
            + titles.get(i.message.id, i.message.content["subject"]),
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
    officer: Annotated[
        str | None,
        typer.Option("--officer", metavar="NAME", help="Officer acking (default: roster)."),
    ] = None,
) -> None:
    """Acknowledge a message from the other side (with the officer on watch)."""
    with node_context() as node:
        done = node.messages.ack(event, principal, reply=reply, lang=lang, officer=officer)
        by = f" ({done.content['officer']} on watch)" if done.content.get("officer") else ""
        out.print(
            f"acknowledged {render.short(done.content['ref'])} as {done.author}{by} "
            f"(event {render.short(done.id)}, seq {done.seq})"
        )


@app.command()
def acks(
    event: Annotated[
        str, typer.Argument(metavar="EVENT", help="The message id (or 6+ leading characters).")
    ],
    as_json: JsonOption = False,
) -> None:
    """Who of the line acknowledged a message: each other party, what it owes (to,
    info, observer, mediator), when its node signed that it holds it, who acknowledged
    it and when, and what this node did about those missing."""
    with node_context() as node:
        matrix = node.messages.matrix(event)
    if as_json:
        print_json(matrix.to_json())
        return
    data = matrix.to_json()
    out.print(
        f"{data['precedence']} {data['from']} {data['number'] or '-'}: {data['subject']}  "
        f"({data['acknowledged']} of {data['owed']} acknowledged; deadline "
        f"{render.clock_time(matrix.deadline)})"
    )
    table = Table("PARTY", "ROLE", "STANDING", "RECEIVED", "ACKNOWLEDGED", "ESCALATED")
    for row in matrix.rows:
        table.add_row(
            row.party,
            row.role.value,
            row.standing.value,
            render.clock_time(row.received_at) if row.received_at else "-",
            f"{row.acked_by} {render.clock_time(row.acked_at)}" if row.acked_at else "-",
            ", ".join(row.escalations) or "-",
            style="red" if row.standing.value == "overdue" else None,
        )
    out.print(table)


@app.command()
def log(
    line: Annotated[str, typer.Argument(metavar="LINE", help="Line id.")],
    as_json: JsonOption = False,
) -> None:
    """A line's history: every event of every party, in the order stored."""
    with node_context() as node:
        state, events = node.messages.log(line.lower())
    if as_json:
        from hotline.services.views import signed_event_json

        print_json([signed_event_json(e) for e in events])
        return
    table = Table(
        "TIME", "CHAIN", "KIND", "AUTHOR", "WHAT", render.id_column(), title=f"line {state.line.id}"
    )
    for e in events:
        table.add_row(
            render.arrival(e),
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
    with node_context() as node:
        from hotline.services.views import signed_event_json

        print_json(signed_event_json(node.store.event(event)))
