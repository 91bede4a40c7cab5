"""Paging the watch (the plan, the pages sent and who reacted, taking an item, a round by
hand) and roll calls (list, answer, monthly figures, signed statements)."""

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
    rollcall_app,
)
from hotline.domain import errors
from hotline.domain.identity import parse_principal_id

FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}


@plan_app.command("show")
def plan_show(
    as_json: JsonOption = False,
    reveal: Annotated[
        bool,
        typer.Option("--reveal", help="Show webhook secrets, routing keys and full URLs."),
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


# -- roll calls ------------------------------------------------------------------------


@rollcall_app.command("list")
def rollcall_list(
    line: Annotated[str | None, typer.Option("--line", help="Only this line.")] = None,
    waiting: Annotated[
        str | None,
        typer.Option("--waiting", metavar="DESK", help="Only those DESK's party has not answered."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The roll calls on this node's service lines, newest first, with their outcome."""
    with node_context() as node:
        now = node.writer.now()
        if waiting:
            calls = node.rollcalls.waiting(waiting)
        else:
            calls = node.rollcalls.calls([line.lower()] if line else None)
    calls = sorted(calls, key=lambda c: c.at, reverse=True)
    if as_json:
        print_json([c.to_json(now) for c in calls])
        return
    if not calls:
        out.print("no roll calls")
        return
    table = Table("id", "line", "at", "asked", "answered", "outcome")
    for c in calls:
        j = c.to_json(now)
        answered = (
            f"{j['answered_by']} {j['officer'] or ''} +{j['response_s']:.0f}s".strip()
            if j["answered"]
            else "-"
        )
        table.add_row(c.id[:12], c.line, j["at"], f"{c.asked_by} -> {c.to}", answered, j["outcome"])
    out.print(table)


@rollcall_app.command("answer")
def rollcall_answer(
    call_id: Annotated[str, typer.Argument(metavar="ID", help="The roll call (its id).")],
    desk: Annotated[str, typer.Option("--as", metavar="DESK", help="The desk answering.")],
    officer: Annotated[
        str | None, typer.Option("--officer", help="The officer answering (default: the roster's).")
    ] = None,
) -> None:
    """Answer a roll call, signed by the desk."""
    with node_context() as node:
        event = node.rollcalls.answer(call_id, desk, officer)
    out.print(f"answered roll call {call_id[:12]} as {event.author} ({event.line} #{event.seq})")


@rollcall_app.command("stats")
def rollcall_stats(
    line: Annotated[str, typer.Option("--line", help="The service line.")],
    party: Annotated[str, typer.Option("--party", help="The party asked.")],
    month: Annotated[
        str | None, typer.Option("--month", metavar="YYYY-MM", help="Default: this month.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """A month's roll calls asked of a party: answered, late, unanswered, median time."""
    with node_context() as node:
        chosen = month or node.writer.now().strftime("%Y-%m")
        counted = node.rollcalls.month(line.lower(), party.upper(), chosen)
    if as_json:
        print_json(counted.to_json())
        return
    out.print(counted.sentence())


@rollcall_app.command("statement")
def rollcall_statement(
    line: Annotated[str, typer.Option("--line", help="The service line.")],
    party: Annotated[str, typer.Option("--party", help="The party asked.")],
    month: Annotated[str, typer.Option("--month", metavar="YYYY-MM", help="The month.")],
    out_file: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="Write it here (default: stdout).")
    ] = None,
) -> None:
    """The month's figures as a statement signed by this node's key, to publish."""
    import json

    with node_context() as node:
        signed = node.rollcalls.statement(line.lower(), party.upper(), month)
    text = json.dumps(signed, indent=2, ensure_ascii=False) + "\n"
    if out_file is None:
        sys.stdout.write(text)
        return
    out_file.write_text(text, "utf-8")
    out.print(f"statement written to {out_file}")


@rollcall_app.command("verify")
def rollcall_verify(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A roll-call statement.")],
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            metavar="BASE64",
            help="The signing party's node key, as it published it (when not pinned here).",
        ),
    ] = None,
) -> None:
    """Check a roll-call statement: signed by its party's node key, pinned here (or given
    with --key). Exit 1 when it does not verify."""
    import json

    from hotline.domain.crypto import PublicKey, b64decode
    from hotline.domain.rollcall import check_statement

    try:
        data = json.loads(read_file(file).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.InvalidInput("statement", f"{file} is not JSON: {exc}") from None
    by = str((data.get("statement") or {}).get("by", "")) if isinstance(data, dict) else ""
    if key is not None:
        known = PublicKey(b64decode(key, field="key"))
        how = "the key given"
    else:
        with node_context() as node:
            parties = {p.id: p for p in node.store.parties()}
        pinned = parties[by].node_key if by in parties else None
        if pinned is None:
            raise errors.InvalidInput(
                "statement",
                f"{by or 'its party'}'s node key is not known here: the key the statement "
                "carries proves nothing of who made it",
                hint="pass --key with the node key that party published",
            )
        known, how = pinned, "the node key pinned here"
    body = check_statement(data, known)
    out.print(f"verified, signed by {body['by']} with {how}")
    out.print(
        f"{body['month']}: {body['total']} roll calls of {body['party']} on {body['line']}, "
        f"{body['answered']} answered, {body['late']} late, {body['unanswered']} unanswered"
    )


@rollcall_app.command("run")
def rollcall_run() -> None:
    """One roll-call round now (`hotline serve` runs one every 2 s)."""
    with node_context() as node:
        events = node.rollcalls.tick()
    out.print(f"{len(events)} roll-call events recorded" if events else "nothing due")
