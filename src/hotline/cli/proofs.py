"""Proof for third parties: checkpoints, disclosure bundles and checking them offline."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from hotline.cli.base import JsonOption, app, err, node_context, out, print_json, read_file
from hotline.domain import errors

if TYPE_CHECKING:
    from hotline.domain.crypto import PublicKey
    from hotline.domain.proofs import Report

proof_app = typer.Typer(
    help="Proof a neutral party can check: disclosure bundles of messages and positions.",
    no_args_is_help=True,
)
checkpoint_app = typer.Typer(
    help="Signed checkpoints of this node's chains, cosigned by peers and witnesses.",
    no_args_is_help=True,
)
app.add_typer(proof_app, name="proof")
app.add_typer(checkpoint_app, name="checkpoint")

TrustOption = Annotated[
    list[str] | None,
    typer.Option(
        "--trust",
        metavar="PARTY=KEY",
        help="A node key you already hold for a party (as `hotline party list` shows it); "
        "the bundle then counts only that party's keys you trust. Repeatable.",
    ),
]


@proof_app.command("export")
def proof_export(
    event: Annotated[
        str | None,
        typer.Argument(help="The event id (or a unique prefix of it); or give --track."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to write the bundle (default: standard output)."
        ),
    ] = None,
    with_ack: Annotated[
        bool, typer.Option("--with-ack", help="Add the first acknowledgement of the message.")
    ] = False,
    with_receipt: Annotated[
        bool,
        typer.Option("--with-receipt", help="Add the first receipt of it by each other party."),
    ] = False,
    since: Annotated[
        int | None,
        typer.Option(
            "--since",
            metavar="SIZE",
            help="Add the checkpoint of the event's chain at SIZE and the proof that nothing "
            "was removed or inserted between it and the one covering the event.",
        ),
    ] = None,
    keep_sealed: Annotated[
        bool,
        typer.Option(
            "--keep-sealed",
            help="On a line sealed from its mediator: leave the text sealed; the bundle "
            "proves the events and their times, not their words (by default it holds the "
            "key that opens them).",
        ),
    ] = False,
    track: Annotated[
        str | None,
        typer.Option(
            "--track",
            metavar="UID",
            help="Instead of an event: the positions of track UID held as evidence, each "
            "proven against the root its minute's evidence event committed.",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--start", metavar="TIME", help="With --track: positions from TIME (UTC)."),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--end", metavar="TIME", help="With --track: positions until TIME (UTC)."),
    ] = None,
) -> None:
    """Write one file that proves EVENT to anyone: the disclosed events in full, the
    cosigned checkpoints covering them, the inclusion proofs and the keys to check the
    signatures; nothing else of the record. With --track, the positions of a track held
    as evidence instead, each proven against the root committed in its minute.
    `hotline proof verify` (or the standalone verifiers) check it offline."""
    from hotline.domain.clock import parse_time
    from hotline.services.disclosures import Disclosures

    if (event is None) == (track is None):
        raise errors.InvalidInput("event", "give an event id, or --track UID (not both)")
    if track is None and (start or end):
        raise errors.InvalidInput("--start", "--start and --end go with --track")
    with node_context() as node:
        disclosures = Disclosures(node.checkpoints, node.party, node.settings.witnesses)
        if track is not None:
            found = node.evidence.disclose(
                track,
                parse_time(start, field="--start") if start else None,
                parse_time(end, field="--end") if end else None,
            )
            bundle = disclosures.export_positions(found)
        else:
            full = node.store.event(str(event)).id
            bundle = disclosures.export(
                full,
                with_ack=with_ack,
                with_receipt=with_receipt,
                since=since,
                keep_sealed=keep_sealed,
            )
    if output is None:
        sys.stdout.buffer.write(bundle.data)
        return
    output.write_bytes(bundle.data)
    err.print(
        f"wrote {output}: {bundle.events} event(s), {bundle.checkpoints} checkpoint(s), "
        f"{len(bundle.data):,} bytes"
    )


def _trusted(entries: list[str] | None) -> dict[str, list[PublicKey]]:
    from hotline.domain.crypto import PublicKey
    from hotline.domain.identity import parse_party_id

    trusted: dict[str, list[PublicKey]] = {}
    for entry in entries or []:
        party, sep, key = entry.partition("=")
        if not sep:
            raise errors.InvalidInput("--trust", f"{entry!r} is not PARTY=KEY")
        trusted.setdefault(parse_party_id(party), []).append(PublicKey.from_text(key))
    return trusted


@proof_app.command("verify")
def proof_verify(
    bundle: Annotated[Path, typer.Argument(help="A bundle written by `hotline proof export`.")],
    trust: TrustOption = None,
    require_pq: Annotated[
        bool,
        typer.Option(
            "--require-pq", help="Refuse a checkpoint without its post-quantum signature."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Check a disclosure bundle offline, with nothing but the file: every signature,
    every inclusion and consistency proof. Says what it proves (who sent what, when the
    peer held it, who acknowledged it) or exits 1 naming the first thing that fails."""
    from hotline.domain.proofs import BundleRefused, verify_bundle

    data = read_file(bundle, "bundle")
    try:
        report = verify_bundle(data, trusted=_trusted(trust), require_pq=require_pq)
    except BundleRefused as exc:
        if as_json:
            print_json({"ok": False, "refused": exc.message})
        else:
            err.print(f"REFUSED {exc.message}", style="red", markup=False)
        raise typer.Exit(1) from None
    if as_json:
        print_json(_report_json(report))
        return
    _print_report(report, trusted=bool(trust))


def _when(seconds: int | None) -> str:
    if seconds is None:
        return "?"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _answers(report: Report) -> list[str]:
    """The plain answers a reader wants, one line each."""
    lines = []
    for checked in report.events:
        e, cp = checked.event, checked.checkpoint
        content = e.content
        if checked.role == "message":
            subject = content.get("subject") or content.get("coded", {}).get("code", "")
            if "sealed" in content:  # (its content key was not disclosed with it)
                subject = "(sealed: its text was not disclosed)"
            lines.append(
                f"{e.author} sent {content.get('precedence', '')} "
                f"{content.get('kind', 'message')} {subject!r} on line {e.line}, "
                f"signed {e.body['ts']} (event {e.id[:16]}, {e.party} seq {e.seq})"
            )
            for signer in cp.cosigned_by:
                lines.append(
                    f"  {signer.name} held it by {_when(signer.time)}: its cosignature of "
                    f"{cp.party}'s checkpoint at size {cp.size}"
                )
            for signer in cp.witnessed_by:
                lines.append(f"  witness {signer.name} saw that checkpoint by {_when(signer.time)}")
            for old, new in report.consistent:
                if old is cp:
                    lines += [
                        f"  witness {w.name} saw {new.party}'s checkpoint at size {new.size}, "
                        f"consistent with it, by {_when(w.time)}"
                        for w in new.witnessed_by
                    ]
        elif checked.role == "ack":
            reply = (
                content.get("reply", {}).get("body")
                if isinstance(content.get("reply"), dict)
                else None
            )
            lines.append(
                f"{e.author} acknowledged {str(content.get('ref'))[:16]}, signed {e.body['ts']}"
                + (f", replying {reply!r}" if reply else "")
            )
            for signer in cp.cosigned_by:
                lines.append(f"  {signer.name} held the acknowledgement by {_when(signer.time)}")
        elif checked.role == "receipt":
            lines.append(
                f"{e.party}'s node receipted {content.get('of')}'s chain up to seq "
                f"{content.get('upto_seq')}, signed {e.body['ts']}"
            )
        elif checked.role == "key":
            lines.append(f"key history: {e.kind} by {e.author}, {e.body['ts']}")
        elif checked.role == "evidence":
            lines.append(
                f"{e.party}'s node committed {content.get('positions')} positions of "
                f"{content.get('subject')}'s tracks captured in the minute from "
                f"{content.get('minute')}, signed {e.body['ts']} (event {e.id[:16]})"
            )
            for signer in cp.cosigned_by:
                lines.append(f"  {signer.name} held the commitment by {_when(signer.time)}")
    for position in report.positions:
        r, committed = position.record, position.evidence.event
        lines.append(
            f"position of {r.get('uid')} ({r.get('party')} {r.get('kind')}) at "
            f"{r.get('lat')}, {r.get('lon')}, reported {r.get('time')}, captured "
            f"{r.get('captured')}: held then, in the commitment {committed.id[:16]}"
        )
    for old, new in report.consistent:
        lines.append(
            f"{old.party}'s chain on {old.line}: nothing removed or inserted between sizes "
            f"{old.size} and {new.size}"
        )
    return lines


def _print_report(report: Report, *, trusted: bool) -> None:
    out.print(
        f"verified: {len(report.events)} event(s) under {len(report.checkpoints)} checkpoint(s)"
    )
    for line in _answers(report):
        out.print(line)
    table = Table("party", "node keys (compare with the keys the party published)")
    for party, keys in sorted(report.node_keys.items()):
        table.add_row(party, ", ".join(keys))
    out.print(table)
    if not trusted:
        err.print(
            "note: the node keys were taken from the bundle; pass --trust PARTY=KEY with keys "
            "you hold to pin them",
            markup=False,
        )
    for warning in report.warnings:
        err.print(f"warning: {warning}", markup=False)


def _report_json(report: Report) -> dict[str, object]:
    return {
        "ok": True,
        "answers": _answers(report),
        "events": [
            {
                "role": c.role,
                "id": c.event.id,
                "line": c.event.line,
                "party": c.event.party,
                "seq": c.event.seq,
                "kind": c.event.kind,
                "author": c.event.author,
                "signed": c.event.body["ts"],
                "content": c.event.content,
                "checkpoint": report.checkpoints.index(c.checkpoint),
                "key_on_record": c.key_on_record,
            }
            for c in report.events
        ],
        "checkpoints": [
            {
                "line": c.line,
                "party": c.party,
                "size": c.size,
                "post_quantum": c.post_quantum,
                "signed_by": c.signed_by.key,
                "cosigned_by": [
                    {"party": s.name, "key": s.key, "time": _when(s.time)} for s in c.cosigned_by
                ],
                "witnessed_by": [
                    {"witness": s.name, "key": s.key, "time": _when(s.time)} for s in c.witnessed_by
                ],
            }
            for c in report.checkpoints
        ],
        "consistent": [
            {"line": o.line, "party": o.party, "from": o.size, "to": n.size}
            for o, n in report.consistent
        ],
        "node_keys": {p: list(k) for p, k in report.node_keys.items()},
        "warnings": list(report.warnings),
        "positions": [
            {"record": dict(p.record), "evidence": p.evidence.event.id} for p in report.positions
        ],
    }


@checkpoint_app.command("list")
def checkpoint_list(
    line: Annotated[str | None, typer.Option("--line", help="Only this line's chains.")] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every checkpoint, not only each chain's latest.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The latest checkpoint of each chain on record (with --all, every one): size, when
    signed, when the peer cosigned it and how many witnesses did."""
    with node_context() as node:
        if every:
            found = node.checkpoints.trees.checkpoints(line)
        else:
            parties = [p.id for p in node.store.parties()]
            found = [
                c
                for c in node.checkpoints.trees.latest_of(parties)
                if line is None or c.line == line
            ]
    if as_json:
        print_json(
            [
                {
                    "line": c.line,
                    "party": c.party,
                    "size": c.size,
                    "made_at": c.made_at,
                    "cosigned_at": c.cosigned_at,
                    "witnesses": c.witnesses,
                    "note": c.note,
                }
                for c in found
            ]
        )
        return
    if not found:
        out.print("no checkpoints yet: `hotline serve` signs them (setting checkpoint_interval)")
        return
    table = Table("line", "chain", "size", "signed", "cosigned by the peer", "witnesses")
    for c in found:
        table.add_row(
            c.line, c.party, str(c.size), c.made_at, c.cosigned_at or "not yet", str(c.witnesses)
        )
    out.print(table)


@checkpoint_app.command("sign")
def checkpoint_sign() -> None:
    """Sign a checkpoint of every chain of this node that has grown since its last one,
    now (as at the end of an exercise). `hotline serve` offers it to the peer to cosign
    on its next round."""
    with node_context() as node:
        made = node.checkpoints.sign_due(force=True)
    for c in made:
        out.print(f"signed {c.line}/{c.party} at size {c.size}")
    if not made:
        out.print("nothing to sign: every chain's latest checkpoint covers its head")
