"""Contact requests: request, accept, decline, cancel, held, list, show, stats."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from hotline.cli import render
from hotline.cli.base import JsonOption, contact_app, node_context, node_now, out, print_json
from hotline.domain.clock import format_time, parse_time
from hotline.domain.contact import ContactRequest, ContactStatus
from hotline.domain.errors import InvalidInput
from hotline.domain.precedence import parse_duration

AsOption = Annotated[
    str, typer.Option("--as", metavar="PRINCIPAL", help="The principal signing this.")
]
RequestArg = Annotated[
    str, typer.Argument(metavar="REQUEST", help="The request's event id (or 6+ characters).")
]


def request_json(r: ContactRequest) -> dict[str, Any]:
    return r.to_json()


@contact_app.command("request")
def contact_request(
    requester: Annotated[
        str, typer.Option("--from", metavar="PRINCIPAL", help="Who asks, e.g. US/SECDEF.")
    ],
    addressee: Annotated[
        str, typer.Option("--to", metavar="PRINCIPAL", help="Who is asked, e.g. RU/MINDEF.")
    ],
    topic: Annotated[str, typer.Option("--topic", metavar="TEXT", help="What the call is about.")],
    line: Annotated[
        str | None,
        typer.Option(
            "--line", metavar="LINE", help="Leaders line (default: the one joining them)."
        ),
    ] = None,
    window: Annotated[
        str | None,
        typer.Option(
            "--window", metavar="DURATION", help="Answer due within (default: the line's, 48h)."
        ),
    ] = None,
    lang: Annotated[
        str, typer.Option("--lang", metavar="LANG", help="Language of the topic.")
    ] = "en",
) -> None:
    """Ask for a call between two principals; the answer is due within the window."""
    span = parse_duration(window, field="window") if window else None
    with node_context() as node:
        event = node.contacts.request(
            requester, addressee, topic, line=line, window=span, lang=lang
        )
    out.print(
        f"requested a call {event.author} -> {event.content['to']} "
        f"(request {render.short(event.id)} on {event.line}); "
        f"answer due {event.content['respond_by']}"
    )


@contact_app.command("accept")
def contact_accept(
    request: RequestArg,
    principal: AsOption,
    time: Annotated[
        str, typer.Option("--time", metavar="TIME", help="Proposed time of the call (UTC).")
    ],
    note: Annotated[str, typer.Option("--note", metavar="TEXT", help="A note.")] = "",
) -> None:
    """Accept a request for a call, proposing a time."""
    with node_context() as node:
        event = node.contacts.accept(request, principal, parse_time(time, field="time"), note)
    out.print(
        f"accepted {render.short(event.content['ref'])} as {event.author}; "
        f"call proposed for {event.content['time']}"
    )


@contact_app.command("decline")
def contact_decline(
    request: RequestArg,
    principal: AsOption,
    reason: Annotated[str, typer.Option("--reason", metavar="TEXT", help="Why (optional).")] = "",
) -> None:
    """Decline a request for a call (the refusal is recorded and counted)."""
    with node_context() as node:
        event = node.contacts.decline(request, principal, reason)
    out.print(f"declined {render.short(event.content['ref'])} as {event.author}")


@contact_app.command("cancel")
def contact_cancel(
    request: RequestArg,
    principal: AsOption,
    reason: Annotated[str, typer.Option("--reason", metavar="TEXT", help="Why (optional).")] = "",
) -> None:
    """Withdraw a request (the requester), or call off an accepted call (either side)."""
    with node_context() as node:
        event = node.contacts.cancel(request, principal, reason)
    out.print(f"cancelled {render.short(event.content['ref'])} as {event.author}")


@contact_app.command("held")
def contact_held(
    request: RequestArg,
    principal: AsOption,
    summary: Annotated[
        str, typer.Option("--summary", metavar="TEXT", help="A short record of the call.")
    ],
    at: Annotated[
        str | None, typer.Option("--at", metavar="TIME", help="When it began (default: now).")
    ] = None,
    minutes: Annotated[
        int | None, typer.Option("--minutes", metavar="N", help="How long it lasted.")
    ] = None,
) -> None:
    """Record that an accepted call took place, with a short record of it."""
    with node_context() as node:
        began = parse_time(at, field="at") if at else node_now(node)
        event = node.contacts.held(request, principal, began, summary, minutes)
    out.print(
        f"recorded call {render.short(event.content['ref'])} as held at {event.content['at']}"
    )


@contact_app.command("list")
def contact_list(
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            metavar="STATE",
            help="pending, accepted, declined, cancelled, expired or held.",
        ),
    ] = None,
    principal: Annotated[
        str | None, typer.Option("--as", metavar="PRINCIPAL", help="Only its requests.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Contact requests, newest first, with where each stands."""
    from hotline.services.contacts import select

    try:
        status = ContactStatus(state.lower()) if state else None
    except ValueError:
        raise InvalidInput(
            "state", f"unknown state {state!r}", hint=", ".join(s.value for s in ContactStatus)
        ) from None
    with node_context() as node:
        items = select(node.contacts.requests(), status, principal.upper() if principal else None)
        moment = node_now(node)
    if as_json:
        print_json([request_json(r) for r in items])
        return
    if not items:
        out.print("no contact requests")
        return
    table = Table(render.id_column(), "FROM", "TO", "TOPIC", "ASKED", "STATUS", "DETAIL")
    for r in items:
        detail = {
            ContactStatus.PENDING: "answer due in "
            + render.time_left((r.respond_by - moment).total_seconds()),
            ContactStatus.ACCEPTED: f"call {format_time(r.proposed_time)}"
            if r.proposed_time
            else "",
            ContactStatus.DECLINED: r.reason or "",
            ContactStatus.CANCELLED: f"by {r.closed_by}" + (f": {r.reason}" if r.reason else ""),
            ContactStatus.EXPIRED: f"no answer by {format_time(r.respond_by)}",
            ContactStatus.HELD: r.summary or "",
        }[r.status]
        table.add_row(
            render.short(r.id),
            r.requester,
            r.addressee,
            r.topic,
            render.clock_time(r.requested_at),
            r.status.value,
            detail,
        )
    out.print(table)


@contact_app.command("show")
def contact_show(request: RequestArg, as_json: JsonOption = False) -> None:
    """One request, where it stands, and every event about it."""
    with node_context() as node:
        found = node.contacts.get(request)
    data = request_json(found)
    if as_json:
        print_json(data)
        return
    out.print(f"request {found.id} on {found.line}")
    out.print(f"  {found.requester} -> {found.addressee}: {found.topic}")
    for label, key in (
        ("status", "status"),
        ("asked", "requested_at"),
        ("answer by", "respond_by"),
        ("answered", "answered_at"),
        ("answered by", "answered_by"),
        ("call at", "proposed_time"),
        ("reason", "reason"),
        ("held at", "held_at"),
        ("summary", "summary"),
        ("closed by", "closed_by"),
    ):
        if data[key] is not None:
            out.print(f"  {label:<12}{data[key]}")
    out.print("  events      " + " ".join(render.short(e) for e in found.events))


@contact_app.command("stats")
def contact_stats(
    days: Annotated[
        int, typer.Option("--days", metavar="N", help="Requests of the last N days.")
    ] = 30,
    as_json: JsonOption = False,
) -> None:
    """Per pair of principals: requested, accepted, declined, unanswered, median time to
    answer."""
    with node_context() as node:
        moment = node_now(node)
        rows = node.contacts.stats(moment, days)
    if as_json:
        print_json(
            {"days": days, "until": format_time(moment), "pairs": [r.to_json() for r in rows]}
        )
        return
    if not rows:
        out.print(f"no contact requests in the last {days} days")
        return
    table = Table(
        "FROM",
        "TO",
        "REQUESTED",
        "ACCEPTED",
        "HELD",
        "DECLINED",
        "UNANSWERED",
        "CANCELLED",
        "PENDING",
        "MEDIAN ANSWER",
        title=f"contact requests, last {days} days",
    )
    for r in rows:
        table.add_row(
            r.requester,
            r.addressee,
            str(r.requested),
            str(r.accepted),
            str(r.held),
            str(r.declined),
            str(r.unanswered),
            str(r.cancelled),
            str(r.pending),
            render.time_left(r.median_answer_s) if r.median_answer_s is not None else "-",
        )
    out.print(table)
    for r in rows:
        out.print(
            f"{r.requester} -> {r.addressee}: {r.requested} requests in {days} days: "
            f"{r.accepted} accepted, {r.declined} declined, {r.unanswered} unanswered"
        )
