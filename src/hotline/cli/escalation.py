"""Escalation policies, the scheduler run by hand, overdue items, relayed messages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hotline.cli import render
from hotline.cli.base import (
    JsonOption,
    app,
    escalation_app,
    node_context,
    node_now,
    out,
    print_json,
    read_file,
    relay_app,
)
from hotline.domain import errors
from hotline.domain.escalation import describe_plan
from hotline.domain.precedence import Precedence

FORMATS = {".toml": "toml", ".yaml": "yaml", ".yml": "yaml"}


@escalation_app.command("show")
def escalation_show(
    line_id: Annotated[str, typer.Argument(metavar="LINE", help="Line id.")],
    as_json: JsonOption = False,
) -> None:
    """The line's escalation policy, and when each step comes for each precedence."""
    with node_context() as node:
        view = node.escalations.policy(line_id.lower())
        state = node.store.line(view.line)
        plans = {p: node.escalations.plan(state.line, p) for p in Precedence}
    if as_json:
        print_json(
            {
                "line": view.line,
                "default": view.default,
                "format": view.format,
                "updated_at": view.updated_at,
                "policy": view.policy.to_json(),
                "source": view.source,
                "plan": {
                    p.value: [
                        {
                            "after_sending_s": int(s.offset.total_seconds()),
                            "step": s.step.number,
                            "cycle": s.cycle,
                            "action": s.step.action.value,
                        }
                        for s in plan
                    ]
                    for p, plan in plans.items()
                },
            }
        )
        return
    origin = "the default policy" if view.default else f"set {view.updated_at} ({view.format})"
    out.print(f"escalation policy of line {view.line}: {origin}")
    for step in view.policy.steps:
        out.print(f"  {step.describe()}")
    out.print("counted from sending:")
    for p, plan in plans.items():
        deadline = render.duration(state.line.policy.deadline(p))
        out.print(f"  {p.value:<9} ack due +{deadline}: " + ", ".join(describe_plan(plan)))


@escalation_app.command("set")
def escalation_set(
    line_id: Annotated[str, typer.Argument(metavar="LINE", help="Line id.")],
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The policy, .toml or .yaml; - reads stdin.")
    ],
    fmt: Annotated[
        str | None,
        typer.Option("--format", metavar="FORMAT", help="toml or yaml (default: by extension)."),
    ] = None,
) -> None:
    """Set a line's escalation policy from a TOML or YAML file (checked first)."""
    if str(file) == "-":
        import sys

        text, kind = sys.stdin.read(), fmt or "toml"
    else:
        kind = fmt or FORMATS.get(file.suffix.lower(), "")
        if not kind:
            raise errors.InvalidInput(
                "format", f"cannot tell the format of {file.name}", hint="use --format toml|yaml"
            )
        text = read_file(file).decode("utf-8")
    with node_context() as node:
        view = node.escalations.set_policy(line_id.lower(), text, kind.lower())
    out.print(f"escalation policy of line {view.line} set ({len(view.policy.steps)} steps)")
    for step in view.policy.steps:
        out.print(f"  {step.describe()}")


@escalation_app.command("reset")
def escalation_reset(
    line_id: Annotated[str, typer.Argument(metavar="LINE", help="Line id.")],
) -> None:
    """Go back to the default escalation policy for a line."""
    with node_context() as node:
        had = node.escalations.reset_policy(line_id.lower())
    out.print(
        f"line {line_id.lower()} uses the default escalation policy"
        + ("" if had else " (it already did)")
    )


@escalation_app.command("run")
def escalation_run(as_json: JsonOption = False) -> None:
    """Run the escalation scheduler once: record every step now due (`hotline serve`
    does this continuously)."""
    with node_context() as node:
        events = node.escalations.tick()
    if as_json:
        from hotline.services.views import signed_event_json

        print_json([signed_event_json(e) for e in events])
        return
    if not events:
        out.print("nothing due")
    for e in events:
        out.print(f"{e.line} {e.party}#{e.seq} {render.summary(e)}")


def _steps(item: Any) -> str:
    if not item["steps"]:
        return "-"
    return "; ".join(
        f"{s['at'][11:19]} {s['action']}"
        + (f" step {s['step']}" if s.get("step") else "")
        + (f" ({s['outcome']})" if s.get("outcome") not in (None, "done") else "")
        for s in item["steps"]
    )


@app.command()
def overdue(
    party: Annotated[
        str | None,
        typer.Option("--party", metavar="PARTY", help="Whose lines (default: this node's)."),
    ] = None,
    days: Annotated[
        int, typer.Option("--days", metavar="N", help="Only items sent in the last N days.")
    ] = 30,
    as_json: JsonOption = False,
) -> None:
    """Every message and contact request past its deadline, either way, with what the
    escalation engine has done so far."""
    from hotline.services.overdue import overdue as overdue_items

    if days < 1:
        raise errors.InvalidInput("days", "give at least 1")
    with node_context() as node:
        moment = node_now(node)
        who = (party or node.party).upper()
        node.store.party(who)
        items = [
            i.to_json(moment) for i in overdue_items(node.store, node.contacts, who, moment, days)
        ]
    if as_json:
        print_json(items)
        return
    if not items:
        out.print(f"nothing overdue on the lines of {who}")
        return
    table = Table(
        render.id_column(),
        "KIND",
        "LINE",
        "FROM",
        "OWED BY",
        "WHAT",
        "OVERDUE",
        "STATUS",
        "DONE SO FAR",
    )
    for i in items:
        table.add_row(
            render.short(i["id"]),
            i["kind"],
            i["line"],
            i["from"],
            ", ".join(i["owed_by"]),
            i["what"],
            render.time_left(-i["overdue_seconds"]).removeprefix("OVERDUE "),
            i["status"],
            _steps(i),
        )
    out.print(table)


@relay_app.command("list")
def relay_list(
    principal: Annotated[
        str | None, typer.Option("--as", metavar="PRINCIPAL", help="Only lines it is on.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Messages relayed to this side, and whether they were passed on."""
    from hotline.services.views import relayed_json

    with node_context() as node:
        who = principal.upper() if principal else None
        if who:
            node.store.principal(who)
        items = node.relays.relayed(who.split("/")[0] if who else None, who)
        keys = node.store.key_directory()
        rows = [relayed_json(r, keys) for r in items]
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print("no relayed messages")
        return
    table = Table(
        render.id_column("RELAY"),
        "VIA",
        render.id_column("MESSAGE"),
        "FROM",
        "PREC",
        "SUBJECT",
        "FORWARDED",
    )
    for row in rows:
        done = ", ".join(f"{f['by']} -> {' '.join(f['to'])}" for f in row["forwarded"])
        table.add_row(
            render.short(row["relay"]),
            row["line"],
            render.short(row["message"]),
            row["from"],
            row["precedence"],
            row["subject"],
            done or "not yet",
        )
    out.print(table)


@relay_app.command("forward")
def relay_forward(
    relay: Annotated[str, typer.Argument(metavar="RELAY", help="The relay event id (or prefix).")],
    principal: Annotated[
        str, typer.Option("--as", metavar="PRINCIPAL", help="The relay principal forwarding it.")
    ],
    to: Annotated[
        list[str] | None,
        typer.Option("--to", metavar="DESK", help="Desk to forward to (default: addressees)."),
    ] = None,
) -> None:
    """Pass a relayed message on to the desk it is for (recorded on the relay line)."""
    with node_context() as node:
        event = node.relays.forward(relay, principal, to)
    out.print(
        f"forwarded {render.short(event.content['message'])} to {', '.join(event.content['to'])} "
        f"(event {render.short(event.id)})"
    )
