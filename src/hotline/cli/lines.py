"""Lines: propose, accept, list, show."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from hotline.cli import render
from hotline.cli.base import (
    JsonOption,
    line_app,
    node_context,
    out,
    print_json,
)
from hotline.domain import errors
from hotline.domain.policy import parse_line_kind, parse_message_kind
from hotline.domain.precedence import parse_duration, parse_precedence

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
    contact_window: Annotated[
        str | None,
        typer.Option(
            "--contact-window",
            metavar="DURATION",
            help="Time to answer a contact request on this line (default 48h).",
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", metavar="PARTY", help="Proposing party (default: this node's)."),
    ] = None,
    witness: Annotated[
        list[str] | None,
        typer.Option(
            "--witness",
            metavar="NAME",
            help="A witness the line's checkpoints go to, by its name (repeat); each node "
            "needs it in its `witnesses` setting.",
        ),
    ] = None,
    post_quantum: Annotated[
        bool,
        typer.Option(
            "--post-quantum",
            help="Every checkpoint of the line carries an ML-DSA-65 signature too, and "
            "peers cosign none without it.",
        ),
    ] = False,
    roll_call: Annotated[
        list[str] | None,
        typer.Option(
            "--roll-call",
            metavar="HH:MM",
            help="A daily roll call at this time (UTC), on a service line (repeat): the "
            "parties' nodes take turns asking, a desk of the other party answers.",
        ),
    ] = None,
    observer: Annotated[
        list[str] | None,
        typer.Option(
            "--observer",
            metavar="PARTY",
            help="A party that receives and verifies everything on the line but writes "
            "nothing (repeat), e.g. OSCE; name a principal of it with --member too.",
        ),
    ] = None,
    mediator: Annotated[
        str | None,
        typer.Option(
            "--mediator",
            metavar="PARTY",
            help="The party whose node carries the line between the others, who do not "
            "reach each other directly (e.g. UN); it witnesses and writes nothing.",
        ),
    ] = None,
    mediator_reads: Annotated[
        bool,
        typer.Option(
            "--mediator-reads/--sealed-from-mediator",
            help="Whether the mediator may read what is said on the line. Sealed: the text "
            "of messages, replies and translations is encrypted for the other parties' "
            "nodes; the mediator carries, verifies and witnesses it without reading it.",
        ),
    ] = True,
) -> None:
    """Propose a line's terms; it carries messages once every party has accepted them."""
    from hotline.domain.policy import make_proof_terms

    deadlines = {}
    for item in deadline or []:
        prec, sep, value = item.partition("=")
        if not sep:
            raise errors.InvalidInput(
                "deadline", f"{item!r} is not PRECEDENCE=DURATION", hint="e.g. --deadline FLASH=5m"
            )
        deadlines[parse_precedence(prec)] = parse_duration(value, field="deadline")
    with node_context() as node:
        state = node.lines.propose(
            line_id=line_id,
            kind=parse_line_kind(kind),
            title=title,
            members=member,
            kinds=[parse_message_kind(k) for k in allow] if allow else None,
            deadlines=deadlines,
            contact_window=parse_duration(contact_window, field="contact window")
            if contact_window
            else None,
            by=by,
            proofs=make_proof_terms(witness or [], post_quantum)
            if witness or post_quantum
            else None,
            roll_calls=roll_call or (),
            observers=observer or (),
            mediator=mediator,
            mediator_reads=mediator_reads,
        )
        out.print(
            f"proposed line {state.line.id} ({state.line.kind.value}) "
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
    with node_context() as node:
        state = node.lines.accept(line_id, party)
        out.print(f"{party.upper()} accepted line {state.line.id}; status {state.status.value}")


@line_app.command("list")
def line_list(as_json: JsonOption = False) -> None:
    """List lines."""
    with node_context() as node:
        states = node.store.lines()
    if as_json:
        from hotline.services.views import line_record_json

        print_json([line_record_json(s) for s in states])
        return
    table = Table("ID", "KIND", "STATUS", "PARTIES", "MEMBERS")
    for s in states:
        table.add_row(
            s.line.id,
            s.line.kind.value,
            s.status.value,
            " ".join(
                p
                + (" (observer)" if p in s.line.observers else "")
                + (" (mediator)" if p == s.line.mediator else "")
                for p in s.line.parties
            ),
            " ".join(s.line.policy.principals),
        )
    out.print(table)


@line_app.command("show")
def line_show(
    line_id: Annotated[str, typer.Argument(metavar="LINE", help="Line id.")],
    as_json: JsonOption = False,
) -> None:
    """Show a line's terms and policy."""
    with node_context() as node:
        state = node.store.line(line_id.lower())
    if as_json:
        from hotline.services.views import line_record_json

        print_json(line_record_json(state))
        return
    line = state.line
    out.print(f"{line.id} - {line.title}")
    out.print(f"  kind       {line.kind.value}")
    out.print(
        f"  status     {state.status.value} (signed by {', '.join(sorted(state.accepted_by))})"
    )
    out.print(f"  members    {', '.join(line.policy.principals)}")
    if line.observers:
        out.print(f"  observers  {', '.join(line.observers)} (receive and verify, write nothing)")
    if line.mediator:
        reads = "reads it" if line.mediator_reads else "what is said is sealed from it"
        out.print(f"  mediator   {line.mediator} (carries the line between the others; {reads})")
    out.print(f"  kinds      {', '.join(sorted(k.value for k in line.policy.kinds))}")
    terms = line.policy.to_json()
    out.print("  deadlines  " + ", ".join(f"{p} {d}" for p, d in terms["deadlines"].items()))
    out.print(f"  terms      {line.terms_id()}")
