"""Notifications of intent (send, amend, cancel, list) and `hotline read`."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from hotline.cli import render
from hotline.cli.base import JsonOption, app, node_context, notice_app, out, print_json
from hotline.cli.messages import read_text_arg
from hotline.domain import errors
from hotline.domain.catalogue import describe_area
from hotline.domain.clock import parse_time
from hotline.domain.intent import Activity, parse_activity, render_intent
from hotline.domain.precedence import parse_precedence

LineOption = Annotated[str, typer.Option("--line", "-l", metavar="LINE", help="The line.")]
AsOption = Annotated[str, typer.Option("--as", metavar="PRINCIPAL", help="The sending principal.")]
ActivityOption = Annotated[
    str,
    typer.Option("--activity", metavar="TYPE", help=", ".join(a.value for a in Activity) + "."),
]
StartOption = Annotated[str, typer.Option("--start", metavar="TIME", help="Window start (UTC).")]
EndOption = Annotated[str, typer.Option("--end", metavar="TIME", help="Window end (UTC).")]
AreaOption = Annotated[
    str,
    typer.Option(
        "--area",
        metavar="GEOJSON",
        help='GeoJSON Polygon or {"center":[lon,lat],"radius":25,"unit":"km"}; @FILE reads one.',
    ),
]
UnitOption = Annotated[
    list[str], typer.Option("--unit", metavar="UNIT", help="Unit or asset (repeat).")
]
RemarkOption = Annotated[
    str, typer.Option("--remark", metavar="TEXT", help="A free remark; @FILE reads a file.")
]
PrecedenceOption = Annotated[
    str, typer.Option("--precedence", "-p", metavar="PREC", help="Default PRIORITY.")
]
ConfirmOption = Annotated[
    bool,
    typer.Option(
        "--confirm-short-notice",
        help="Send although it gives less notice than the activity's rule (recorded).",
    ),
]


def _fields(
    activity: str,
    start: str,
    end: str,
    area: str,
    unit: list[str],
    remark: str,
    precedence: str,
    confirm: bool,
    to: list[str] | None,
) -> dict[str, Any]:
    try:
        shape = json.loads(read_text_arg(area, "area"))
    except json.JSONDecodeError as exc:
        raise errors.InvalidInput(
            "area", f"not JSON: {exc.msg} at position {exc.pos}", hint="or give @file.geojson"
        ) from exc
    return {
        "activity": parse_activity(activity),
        "start": parse_time(start, field="start"),
        "end": parse_time(end, field="end"),
        "area": shape,
        "units": tuple(unit),
        "remark": read_text_arg(remark, "remark"),
        "precedence": parse_precedence(precedence),
        "to": tuple(to or ()),
        "confirm_short_notice": confirm,
    }


def _sent(event: Any) -> None:
    intent = event.content["intent"]
    out.print(
        f"sent notification {render.short(event.id)} ({intent['op']}) on {event.line}: "
        f"{event.content.get('activity', '')} {event.content.get('window', {}).get('start', '')}"
    )
    if "short_notice" in intent:
        short = intent["short_notice"]
        out.print(
            f"  short notice recorded: {short['given']} given, {short['required']} required, "
            f"confirmed by {short['confirmed_by']}"
        )


@notice_app.command("send")
def notice_send(
    line: LineOption,
    sender: AsOption,
    activity: ActivityOption,
    start: StartOption,
    end: EndOption,
    area: AreaOption,
    unit: UnitOption,
    remark: RemarkOption = "",
    precedence: PrecedenceOption = "PRIORITY",
    to: Annotated[
        list[str] | None, typer.Option("--to", metavar="PRINCIPAL", help="Addressee (repeat).")
    ] = None,
    confirm: ConfirmOption = False,
) -> None:
    """Notify the other side of an activity: type, window, area, units, remark."""
    fields = _fields(activity, start, end, area, unit, remark, precedence, confirm, to)
    with node_context() as node:
        _sent(node.notices.send(line.lower(), sender, **fields))


@notice_app.command("amend")
def notice_amend(
    notification: Annotated[str, typer.Argument(metavar="EVENT", help="The notification.")],
    sender: AsOption,
    activity: ActivityOption,
    start: StartOption,
    end: EndOption,
    area: AreaOption,
    unit: UnitOption,
    remark: RemarkOption = "",
    precedence: PrecedenceOption = "PRIORITY",
    confirm: ConfirmOption = False,
) -> None:
    """Amend a notification: give all its fields again, as they now stand."""
    fields = _fields(activity, start, end, area, unit, remark, precedence, confirm, None)
    with node_context() as node:
        _sent(node.notices.amend(notification, sender, **fields))


@notice_app.command("cancel")
def notice_cancel(
    notification: Annotated[str, typer.Argument(metavar="EVENT", help="The notification.")],
    sender: AsOption,
    reason: Annotated[str, typer.Option("--reason", metavar="TEXT", help="Why.")] = "",
    precedence: PrecedenceOption = "IMMEDIATE",
) -> None:
    """Withdraw a notification: the activity will not take place."""
    with node_context() as node:
        _sent(node.notices.cancel(notification, sender, reason, parse_precedence(precedence)))


@notice_app.command("list")
def notice_list(as_json: JsonOption = False) -> None:
    """Notifications of intent on this node's lines, newest first, with their state."""
    from hotline.services.views import notice_json

    with node_context() as node:
        views = node.notices.notices(node.party)
    rows = [notice_json(v) for v in views]
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print("no notifications of intent")
        return
    table = Table(
        render.id_column(), "LINE", "FROM", "ACTIVITY", "FROM (UTC)", "TO (UTC)", "STATE", "NOTICE"
    )
    for r in rows:
        window = r["window"] or {}
        table.add_row(
            render.short(r["id"]),
            r["line"],
            r["from"],
            r["activity"] or "",
            window.get("start", ""),
            window.get("end", ""),
            r["state"],
            f"short ({r['short_notice']['given']})" if r["short_notice"] else "",
        )
    out.print(table)


@app.command()
def read(
    event: Annotated[str, typer.Argument(metavar="EVENT", help="The message (6+ characters).")],
    lang: Annotated[
        str | None,
        typer.Option("--lang", metavar="LANG", help="Read it in (default: the node's language)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """One message as an operator reads it: the original, its pre-agreed text or its
    notification in the reader's language, and its translations with who certified them."""
    from hotline.services.views import translation_json

    with node_context() as node:
        reader = lang or node.language
        message, translations = node.translations.of(event)
        coded = node.catalogues.render(message, reader)
    c = message.content
    area = describe_area(c["area"], reader) if isinstance(c.get("area"), dict) else None
    intent = render_intent(c, reader, area) if isinstance(c.get("intent"), dict) else None
    data = {
        "id": message.id,
        "line": message.line,
        "from": message.author,
        "sent": message.body["ts"],
        "precedence": c["precedence"],
        "original": {"lang": c["lang"], "subject": c["subject"], "body": c["body"]},
        "reader_lang": reader,
        "catalogue": {"title": coded[0], "text": coded[1]} if coded else None,
        "notification": intent,
        "translations": [translation_json(t) for t in translations],
    }
    if as_json:
        print_json(data)
        return
    out.print(f"{c['precedence']} {c['kind']} {render.short(message.id)} on {message.line}")
    out.print(f"from {message.author} at {message.body['ts']}")
    if coded:
        out.print(f"\n[{reader}] {coded[0]}\n{coded[1]}")
    if intent:
        out.print(f"\n[{reader}] {intent}")
    if not translations:
        out.print(f"\noriginal [{c['lang']}]: {c['subject']}\n{c['body']}")
        return
    for t in translations:
        label = f"{t.lang}, by {t.translator}" + (f", machine ({t.machine})" if t.machine else "")
        table = Table(f"original [{c['lang']}]", f"translation [{label}]", show_lines=True)
        table.add_row(c["subject"], t.subject)
        table.add_row(c["body"], t.body)
        out.print(table)
        out.print(
            f"  {t.state}"
            + (f" by {t.certified_by}" if t.certified_by else "")
            + f" (translation {render.short(t.event.id)})"
        )
