"""Paging the watch: the plan, the pages sent and who reacted, taking an item, a round
by hand."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hotline.cli.base import (
    JsonOption,
    node_context,
    out,
    page_app,
    plan_app,
    print_json,
    read_file,
)
from hotline.domain import errors
from hotline.domain.identity import parse_principal_id

FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}


@plan_app.command("show")
def plan_show(
    as_json: JsonOption = False,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Show webhook secrets and routing keys.")
    ] = False,
) -> None:
    """The paging plan in force: how often pages repeat, each desk's chain, the people
    and webhooks (secrets hidden unless --reveal)."""
    with node_context() as node:
        record = node.pager.paging.plan()
        plan = node.pager.plan()
    data = plan.to_json(reveal=reveal)
    if as_json:
        print_json(
            {
                **data,
                "set_by": record.set_by if record else None,
                "set_at": record.set_at if record else None,
            }
        )
        return
    out.print(
        f"paging plan set {record.set_at} by {record.set_by}"
        if record
        else "no paging plan set: whoever is on watch at a desk is paged (console only)"
    )
    for key in ("repeat", "next_after"):
        out.print(f"{key}: " + ", ".join(f"{p} {d}" for p, d in data[key].items()))
    for desk, entry in data["desks"].items():
        hooks = f"; webhooks {', '.join(entry['webhooks'])}" if entry["webhooks"] else ""
        out.print(f"{desk}: {' -> '.join(entry['chain'])}{hooks}")
    for name, person in data["people"].items():
        out.print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in person.items()))
    for name, hook in data["webhooks"].items():
        out.print(f"  webhook {name}: {hook['url']} ({hook['format']}, signed {hook['sign']})")


@plan_app.command("set")
def plan_set(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The plan, .yaml or .json; - reads stdin.")
    ],
    fmt: Annotated[
        str | None,
        typer.Option("--format", metavar="FORMAT", help="yaml or json (default: by extension)."),
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Who sets it (kept with the plan).")] = "cli",
) -> None:
    """Set the paging plan from a YAML or JSON file (checked first; the earlier plan is
    kept on the node's record)."""
    if str(file) == "-":
        text, kind = sys.stdin.read(), fmt or "yaml"
    else:
        kind = fmt or FORMATS.get(file.suffix.lower(), "")
        if not kind:
            raise errors.InvalidInput(
                "format", f"cannot tell the format of {file.name}", hint="use --format yaml|json"
            )
        text = read_file(file).decode("utf-8")
    with node_context() as node:
        plan = node.pager.set_plan(text, kind.lower(), by)
    out.print(
        f"paging plan set: {len(plan.desks)} desks, {len(plan.people)} people, "
        f"{len(plan.webhooks)} webhooks"
    )


@page_app.command("list")
def page_list(
    desk: Annotated[
        str | None, typer.Option("--desk", help="Only this desk (default: every desk).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Most items.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Items paged, open ones first: each page (to whom, how, how it went) and who
    reacted when."""
    with node_context() as node:
        desks = (
            [parse_principal_id(desk)]
            if desk
            else [p.id for p in node.store.principals(node.party)]
        )
        items = node.pager.board(desks, limit=limit)
    if as_json:
        print_json([i.to_json() for i in items])
        return
    if not items:
        out.print("nothing paged")
        return
    table = Table("item", "desk", "what", "pages", "reaction")
    for i in items:
        j = i.to_json()
        pages = "\n".join(
            f"{p['at'][11:19]} #{p['ring']} {p['person'] or '-'} {p['channel']} "
            f"{p['target']} {p['state']}" + (f" ({p['detail']})" if p["detail"] else "")
            for p in reversed(j["pages"])
        )
        reaction = (
            f"{j['reaction']['how']} by {j['reaction']['by'] or '-'} "
            f"{j['reaction']['officer']} {j['reaction']['at']}".strip()
            if j["reaction"]
            else "open"
        )
        table.add_row(
            j["item"][:40], j["desk"], f"{j['precedence']} {j['subject']}", pages, reaction
        )
    out.print(table)


@page_app.command("take")
def page_take(
    item: Annotated[str, typer.Argument(metavar="ITEM", help="The item (`hotline page list`).")],
    desk: Annotated[str, typer.Option("--desk", help="The desk taking it.")],
) -> None:
    """Take an item paged at a desk ("I have it"): paging it stops; its acknowledgement
    is still due."""
    with node_context() as node:
        reaction = node.pager.take(item, desk)
    out.print(f"{reaction.item} taken by {reaction.by} {reaction.officer} at {reaction.at}")


@page_app.command("round")
def page_round() -> None:
    """Run one paging round now (`hotline serve` does this every `paging_interval`)."""
    with node_context() as node:
        count = node.pager.tick()
    out.print(f"{count} pages sent" if count else "nothing to page")
