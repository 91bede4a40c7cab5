"""Parties and principals."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from hotline.cli.base import (
    JsonOption,
    node_context,
    out,
    party_app,
    principal_app,
    print_json,
)

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
    with node_context() as node:
        party = node.directory.add_party(party_id, name, hosted=hosted, node_key=node_key)
        where = "hosted on this node" if party.hosted else "remote"
        out.print(f"added party {party.id} ({party.name}), {where}")


@party_app.command("list")
def party_list(as_json: JsonOption = False) -> None:
    """List parties."""
    with node_context() as node:
        parties = node.store.parties()
    if as_json:
        from hotline.services.views import party_json

        print_json([party_json(p) for p in parties])
        return
    table = Table("ID", "NAME", "HOSTED", "NODE KEY")
    for p in parties:
        table.add_row(
            p.id, p.name, "yes" if p.hosted else "no", p.node_key.key_id if p.node_key else "-"
        )
    out.print(table)


@party_app.command("rotate-key")
def party_rotate_key(
    party_id: Annotated[
        str | None,
        typer.Argument(metavar="[PARTY]", help="This node's party (the default), or a hosted one."),
    ] = None,
) -> None:
    """Give the node a new node key. The old key signs the change (a node.rotate event on
    each of the party's lines, and a statement sent with every request to peers, which
    follow it and pin the new key); it is retired but kept, so what it signed still
    verifies. With several sites, run `hotline site sync` afterwards."""
    from hotline.domain.peering import fingerprint

    with node_context() as node:
        chosen = (party_id or node.party).upper()
        key, retired, lines = node.directory.rotate_node_key(chosen)
        out.print(
            f"{chosen}: new node key {key.key_id} (retired {retired}); recorded on "
            f"{', '.join(lines) or 'no line'}"
        )
        out.print(f"fingerprint of the new key: {fingerprint(key)}")
        out.print(
            "peers pin it at the next request from this node (a running `hotline serve` "
            "uses it at its next signature)"
        )


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
    with node_context() as node:
        principal, held = node.directory.add_principal(
            principal_id, name, role, public_key=public_key
        )
        where = (
            f"private key at {node.writer.keystore.path(principal.id)}"
            if held
            else "public key only"
        )
        out.print(
            f"added principal {principal.id} "
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
    with node_context() as node:
        found = node.store.principals(party.upper() if party else None)
    if as_json:
        from hotline.services.views import principal_json

        print_json([principal_json(p) for p in found])
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
    with node_context() as node:
        from hotline.services.views import principal_json

        print_json(principal_json(node.store.principal(principal_id.upper())))


@principal_app.command("rotate-key")
def principal_rotate_key(
    principal_id: Annotated[str, typer.Argument(metavar="PRINCIPAL", help="PARTY/DESK.")],
) -> None:
    """Give a principal a new key; the old one is retired but kept, so what it signed
    still verifies, and the new key is announced to peers on the principal's lines."""
    with node_context() as node:
        principal, retired, lines = node.directory.rotate_key(principal_id)
        out.print(
            f"{principal.id}: new key {principal.key.key_id}"
            f" (retired {retired or '-'}); announced on {', '.join(lines) or 'no line'}"
        )


@principal_app.command("set-password")
def principal_set_password(
    principal: Annotated[str, typer.Argument(metavar="PRINCIPAL", help="e.g. US/EUCOM-JOC.")],
    password: Annotated[
        str,
        typer.Option(
            "--password",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="HOTLINE_PASSWORD",
            help="The console password (asked for if not given; at least 12 characters).",
        ),
    ],
) -> None:
    """Set the password a principal signs in to the console and API with."""
    with node_context() as node:
        node.accounts.set_password(principal, password)
    out.print(f"password set for {principal.upper()}; its open sessions are ended")


@principal_app.command("token")
def principal_token(
    principal: Annotated[str, typer.Argument(metavar="PRINCIPAL", help="e.g. US/EUCOM-JOC.")],
) -> None:
    """Create an API token for scripts acting as a principal (printed once)."""
    with node_context() as node:
        token = node.accounts.create_token(principal)
    out.print(token)
