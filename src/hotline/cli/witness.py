"""A witness: a third party's small node that holds only checkpoints (docs/witness.md).

It lives in a folder of its own (``--home``): ``witness.db`` (SQLite) and
``keys/witness.key`` (its Ed25519 key, mode 600)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from hotline.cli.base import JsonOption, app, err, out, print_json, state
from hotline.domain import errors

if TYPE_CHECKING:
    from hotline.witness.core import Witness

witness_app = typer.Typer(
    help="A witness (a third party's node: OSCE, UN): holds only checkpoints, cosigns "
    "each one consistent with what it saw, keeps split views as evidence.",
    no_args_is_help=True,
)
app.add_typer(witness_app, name="witness")

DATABASE = "witness.db"
KEY_OWNER = "witness"


def _home() -> Path:
    from hotline.config import DEFAULT_HOME

    chosen = state["home"] or os.environ.get("HOTLINE_HOME") or DEFAULT_HOME
    return Path(chosen).expanduser().absolute()


def _now() -> datetime:
    """The witness's own time: it is a third party, on no party's (or exercise's) clock."""
    from hotline.witness.core import system_now

    return system_now()


def _open() -> Witness:
    """The witness of ``--home``. Raises NotFound when there is none."""
    from hotline.storage.keystore import KeyStore
    from hotline.witness.core import Witness
    from hotline.witness.store import WitnessStore

    home = _home()
    store = WitnessStore(home / DATABASE)
    if not store.exists():
        raise errors.NotFound(
            "witness",
            str(home),
            hint="create one with `hotline --home DIR witness init --name NAME`",
        )
    key = KeyStore(home / "keys").load(KEY_OWNER)
    return Witness(store, store.name(), key, _now)


@witness_app.command("init")
def witness_init(
    name: Annotated[
        str,
        typer.Option(
            "--name",
            metavar="NAME",
            help="The witness's name in its cosignatures: a schema-less URL, e.g. "
            "witness.osce.example (no spaces, no '+').",
        ),
    ],
) -> None:
    """Create a witness in --home: its key and its database. Prints its public key, which
    the nodes that submit to it name in their `witnesses` setting."""
    from hotline.domain.clock import format_time
    from hotline.domain.policy import make_proof_terms
    from hotline.storage.keystore import KeyStore
    from hotline.witness.store import WitnessStore

    make_proof_terms([name], False)  # the same rule as a line's terms apply to the name
    home = _home()
    home.mkdir(parents=True, exist_ok=True)
    store = WitnessStore(home / DATABASE)
    if store.exists():
        raise errors.AlreadyExists(f"a witness already lives in {home}")
    key = KeyStore(home / "keys").create(KEY_OWNER, os.urandom(32))
    store.create(name, format_time(_now()))
    out.print(f"witness {name} in {home}")
    out.print(f"public key: {key.public.text()}")
    out.print(
        f"nodes name it as {name}=http://HOST:PORT={key.public.text()} in their `witnesses` setting"
    )


@witness_app.command("trust")
def witness_trust(
    party: Annotated[str, typer.Argument(help="The party, e.g. US.")],
    key: Annotated[
        str, typer.Argument(help="Its node's public key, as `hotline party list` shows it.")
    ],
    pq_key: Annotated[
        str | None,
        typer.Option(
            "--pq-key",
            metavar="BASE64",
            help="Its ML-DSA-65 checkpoint key (standard base64), to check that signature too.",
        ),
    ] = None,
    require_pq: Annotated[
        bool, typer.Option("--require-pq", help="Cosign none of its checkpoints without it.")
    ] = False,
) -> None:
    """Trust PARTY's node key for its chains (`hotline/<line>/PARTY`). Run again with a
    new key after the party rotates it: the old one stays trusted for old checkpoints."""
    import base64
    import binascii

    from hotline.domain.clock import format_time
    from hotline.domain.crypto import PublicKey
    from hotline.domain.identity import parse_party_id
    from hotline.domain.notes import PqPublicKey

    witness = _open()
    who = parse_party_id(party)
    public = PublicKey.from_text(key)
    if require_pq and pq_key is None:
        raise errors.InvalidInput("--require-pq", "needs --pq-key")
    if pq_key is not None:  # checked before anything is stored
        try:
            PqPublicKey(base64.b64decode(pq_key, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise errors.InvalidInput("--pq-key", "not standard base64") from exc
    witness.store.trust(who, public.text(), format_time(_now()))
    if pq_key is not None:
        witness.store.set_pq(who, pq_key, require_pq)
    out.print(f"{witness.name} trusts {who}'s node key {public.key_id}")


@witness_app.command("serve")
def witness_serve(
    listen: Annotated[
        str, typer.Option("--listen", metavar="HOST:PORT", help="Where to listen.")
    ] = "127.0.0.1:9100",
) -> None:
    """Serve the witness (C2SP tlog-witness `POST /add-checkpoint`; `GET /checkpoints`,
    `GET /evidence`, `GET /health`) until Ctrl-C."""
    import uvicorn

    from hotline.runtime.logs import configure_logging
    from hotline.runtime.sockets import parse_listen
    from hotline.witness.server import create_app

    witness = _open()
    host, port = parse_listen(listen)
    configure_logging("text")
    err.print(f"witness {witness.name} serving on http://{host}:{port}; Ctrl-C stops it")
    uvicorn.run(create_app(witness), host=host, port=port, log_level="warning", log_config=None)


@witness_app.command("show")
def witness_show(as_json: JsonOption = False) -> None:
    """The witness's name and key, the parties it trusts, the latest checkpoint it
    cosigned of each log, and how many split views it holds as evidence."""
    witness = _open()
    held, keys, evidence = witness.store.held(), witness.store.keys(), witness.store.evidence()
    if as_json:
        print_json(
            {
                "name": witness.name,
                "public_key": witness.key.public.text(),
                "trusts": keys,
                "logs": [
                    {"origin": h.origin, "size": h.size, "cosigned_at": h.cosigned_at} for h in held
                ],
                "evidence": len(evidence),
            }
        )
        return
    out.print(f"witness {witness.name}, public key {witness.key.public.text()}")
    out.print("trusts: " + (", ".join(f"{p} ({len(k)} key(s))" for p, k in keys.items()) or "none"))
    table = Table("log", "size", "cosigned")
    for h in held:
        table.add_row(h.origin, str(h.size), h.cosigned_at)
    out.print(table)
    out.print(f"split views kept as evidence: {len(evidence)} (`hotline witness evidence`)")


@witness_app.command("evidence")
def witness_evidence(as_json: JsonOption = False) -> None:
    """Every split view the witness was shown: the checkpoint it held and the one offered,
    both signed by the same party, that are not one history."""
    found = _open().store.evidence()
    if as_json:
        print_json(
            [
                {
                    "origin": e.origin,
                    "reason": e.reason,
                    "seen_at": e.seen_at,
                    "held": e.held,
                    "offered": e.offered,
                }
                for e in found
            ]
        )
        return
    if not found:
        out.print("no split view")
        return
    for e in found:
        out.print(f"{e.seen_at} {e.origin}: {e.reason}")
        out.print("  held:\n    " + e.held.rstrip("\n").replace("\n", "\n    "))
        out.print("  offered:\n    " + e.offered.rstrip("\n").replace("\n", "\n    "))
