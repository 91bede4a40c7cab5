"""TLS from the command line: the party CA and the node certificate (init, issue, show)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hotline.cli.base import PROBLEM_FOUND, JsonOption, app, node_context, out, print_json
from hotline.domain import errors

#: How long a node certificate lasts by default, as hotline.federation.certificates
#: says (written here so that --help does not load the certificate code; a test keeps
#: the two equal).
NODE_DAYS = 365

tls_app = typer.Typer(
    help="TLS: the party CA, the node certificate; mutual TLS between nodes.",
    no_args_is_help=True,
)
app.add_typer(tls_app, name="tls")

HostsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--host",
        metavar="HOST",
        help="A DNS name or IP address peers use in this node's URLs (repeat for each).",
    ),
]
DaysOption = Annotated[
    int,
    typer.Option("--days", metavar="N", help="How long the node certificate lasts, in days."),
]


def _days(days: int) -> timedelta:
    from hotline.federation import tls

    if not 1 <= days <= tls.CA_DAYS:
        raise errors.InvalidInput("days", f"{days}: give 1 to {tls.CA_DAYS}", hint="e.g. 365")
    return timedelta(days=days)


def _relative(path: Path, home: Path) -> str:
    return str(path.relative_to(home)) if path.is_relative_to(home) else str(path)


@tls_app.command("init")
def tls_init(hosts: HostsOption = None, days: DaysOption = NODE_DAYS) -> None:
    """Create the party CA and the node certificate in the keys folder; set tls_cert,
    tls_key and tls_ca."""
    from hotline.config import update_config
    from hotline.federation import tls

    life = _days(days)
    with node_context() as node:
        settings = node.settings
        party = node.party
    if tls.tls_files(settings) is not None:
        raise errors.AlreadyExists(
            "this node has TLS already (tls_cert, tls_key and tls_ca are set)",
            hint="renew the node certificate with `hotline tls issue`",
        )
    folder = settings.keys_dir
    files = tls.TlsFiles(folder / tls.NODE_CERT, folder / tls.NODE_KEY, folder / tls.CA_CERT)
    for path in (files.cert, files.key, files.ca, files.ca_key):
        if path.exists():
            raise errors.AlreadyExists(
                f"{path} exists: not overwritten",
                hint="move it away, or point tls_cert, tls_key and tls_ca at the files",
            )
    start = tls.utc_now() - tls.BACKDATE
    ca = tls.make_ca(party, not_before=start, not_after=start + timedelta(days=tls.CA_DAYS))
    node_cert = tls.issue_node(ca, party, hosts or [], not_before=start, not_after=start + life)
    tls.write_new(files.ca_key, ca.key, 0o600)
    tls.write_new(files.ca, ca.cert, 0o644)
    tls.write_new(files.key, node_cert.key, 0o600)
    tls.write_new(files.cert, node_cert.cert, 0o644)
    update_config(
        settings.config_path,
        {
            "tls_cert": _relative(files.cert, settings.home),
            "tls_key": _relative(files.key, settings.home),
            "tls_ca": _relative(files.ca, settings.home),
        },
    )
    out.print(f"party CA          {files.ca} (key {files.ca_key})")
    out.print(f"node certificate  {files.cert} (key {files.key})")
    out.print(f"hosts             {', '.join(hosts or [])}")
    out.print(f"settings          tls_cert, tls_key, tls_ca in {settings.config_path}")
    out.print(
        "next: restart `hotline serve` (its listen port now asks for client certificates), "
        "export a bundle with https URLs (`hotline peer export --url https://HOST:PORT`) "
        "and have each peer import it"
    )


@tls_app.command("issue")
def tls_issue(hosts: HostsOption = None, days: DaysOption = NODE_DAYS) -> None:
    """Re-issue the node certificate from the party CA, with a new key (renewal)."""
    from hotline.federation import tls

    life = _days(days)
    with node_context() as node:
        settings = node.settings
        party = node.party
    files = tls.tls_files(settings)
    if files is None:
        raise errors.NotFound(
            "TLS configuration", str(settings.config_path), hint="run `hotline tls init` first"
        )
    ca = tls.Issued(files.read(files.ca_key, "tls_ca"), files.read(files.ca, "tls_ca"))
    names = hosts or tls.hosts_of(tls.load_cert(files.read(files.cert, "tls_cert"), "tls_cert"))
    start = tls.utc_now() - tls.BACKDATE
    issued = tls.issue_node(ca, party, names, not_before=start, not_after=start + life)
    tls.replace_file(files.key, issued.key, 0o600)
    tls.replace_file(files.cert, issued.cert, 0o644)
    out.print(f"node certificate  {files.cert} (new key {files.key})")
    out.print(f"hosts             {', '.join(names)}")
    out.print(f"valid until       {start + life:%Y-%m-%d %H:%M} UTC")
    out.print("restart `hotline serve` to use it; peers need nothing new (the CA is the same)")


@tls_app.command("show")
def tls_show(as_json: JsonOption = False) -> None:
    """The party CA and the node certificate: subjects, hosts, validity, fingerprints."""
    from hotline.federation import tls

    with node_context() as node:
        settings = node.settings
        pinned = node.peers.pinned_cas()
    files = tls.tls_files(settings)
    if files is None:
        raise errors.NotFound(
            "TLS configuration",
            str(settings.config_path),
            hint="this node serves plain http; `hotline tls init --host HOST` sets up TLS",
        )
    ca = tls.load_cert(files.read(files.ca, "tls_ca"), "tls_ca")
    cert = tls.load_cert(files.read(files.cert, "tls_cert"), "tls_cert")
    key = files.read(files.key, "tls_key")
    report: dict[str, Any] = {
        "ca": {"path": str(files.ca), **tls.describe(ca)},
        "node": {"path": str(files.cert), "key": str(files.key), **tls.describe(cert)},
        # the machine's clock, not the node's: TLS libraries check validity against it
        "problems": tls.problems(ca, cert, key, tls.utc_now()),
        "pinned": {party: tls.ca_line(pem) for party, pem in sorted(pinned.items())},
    }
    if as_json:
        print_json(report)
        if report["problems"]:
            raise typer.Exit(PROBLEM_FOUND)
        return
    table = Table("", "PARTY CA", "NODE CERTIFICATE")
    for field in ("path", "subject", "issuer", "hosts", "not_before", "not_after", "sha256"):
        values = [report[k].get(field, "") for k in ("ca", "node")]
        table.add_row(field, *(", ".join(v) if isinstance(v, list) else str(v) for v in values))
    out.print(table)
    for party, line in report["pinned"].items():
        out.print(f"pinned CA of {party}: {line}")
    for problem in report["problems"]:
        out.print(f"PROBLEM: {problem}", style="red")
    if report["problems"]:
        raise typer.Exit(PROBLEM_FOUND)
    out.print("the node certificate is valid, issued by the party CA, and matches its key")
