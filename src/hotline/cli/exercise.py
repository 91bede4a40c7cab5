"""`hotline demo` and `hotline exercise run|check|report`."""

from __future__ import annotations

import signal
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from hotline.cli.base import app, node_context, out
from hotline.domain.errors import InvalidInput

exercise_app = typer.Typer(
    help="Exercises: scenarios played against running nodes, marked as exercise traffic, "
    "and their after-action reports.",
    no_args_is_help=True,
)
app.add_typer(exercise_app, name="exercise")

STYLES = {
    "say": "bold",
    "send": "cyan",
    "ack": "green",
    "request": "magenta",
    "answer": "magenta",
    "tracks": "yellow",
    "alert": "bold yellow",
    "outage": "bold red",
    "escalation": "bold red",
    "expire": "red",
    "link": "red",
    "arrival": "dim",
    "setup": "dim",
}


def timeline(at: datetime | None, party: str, text: str, style: str) -> None:
    """One line of the timeline: scenario time, party, what happened."""
    when = at.strftime("%d %b %H:%M") if at is not None else " " * 12
    who = f"{party:<3}" if party else "   "
    if style == "say":
        out.print()
    out.print(f"{when}  {who} {text}", style=STYLES.get(style, ""), soft_wrap=True)


@app.command("demo")
def demo(
    scenario: Annotated[
        str | None,
        typer.Option(
            help="Scenario file, or the name of one installed with hotline (default: baltic-2022)."
        ),
    ] = None,
    duration: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Seconds to keep the nodes serving after the scenario has played, then "
            "stop (for scripts). Default: until Ctrl-C.",
        ),
    ] = None,
    speed: Annotated[
        float | None,
        typer.Option(min=1, help="Scenario seconds per real second (default: the scenario's)."),
    ] = None,
    keep: Annotated[
        Path | None,
        typer.Option(help="Keep both nodes' folders here (default: a temporary folder)."),
    ] = None,
) -> None:
    """Run a US node and a RU node on 127.0.0.1 and play the 2022 scenario between them in
    accelerated time, printing the timeline; then the consoles, until Ctrl-C."""
    from hotline.runtime.demo import find_scenario, run_demo

    path = find_scenario(scenario)

    def announce(lines: list[str]) -> None:
        out.print()
        for line in lines:
            out.print(line, style="bold")

    out.print(f"hotline demo: {path}", style="bold")

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Ctrl-C, or SIGTERM from a supervisor: either stops both nodes before the demo ends.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        run_demo(path, timeline, duration=duration, keep=keep, speed=speed, announce=announce)
    except KeyboardInterrupt:
        out.print("stopped: both nodes shut down")
        return
    out.print("demo complete")


@exercise_app.command("check")
def exercise_check(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario file.")],
) -> None:
    """Check a scenario file and list its steps; errors name the step and field."""
    from hotline.runtime.demo import load_scenario

    found = load_scenario(scenario)
    out.print(f"{found.id}: {found.title}; {len(found.steps)} steps over {found.length}")
    for step in found.steps:
        what = step.action or "say"
        out.print(f"  +{step.at}  {what:<8} {step.name or ''}  {step.say[:70]}")


@exercise_app.command("run")
def exercise_run(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario file.")],
    nodes: Annotated[
        Path,
        typer.Option(
            help="YAML: PARTY: {url, ingest_token, tokens: {PRINCIPAL: API token}} "
            "(`hotline demo --keep DIR` writes DIR/nodes.yaml)."
        ),
    ],
    exercise: Annotated[
        str | None,
        typer.Option(help="Exercise id marked on everything sent (default: the scenario's)."),
    ] = None,
    clock_file: Annotated[
        Path | None,
        typer.Option(
            help="The scenario clock the nodes share (their clock_file setting): played "
            "accelerated. Default: real time."
        ),
    ] = None,
) -> None:
    """Play a scenario against running nodes through their APIs, as its principals.
    Every message, acknowledgement and request is marked as exercise traffic."""
    import httpx

    from hotline.domain.exercise import parse_exercise_id
    from hotline.exercise.player import Pacer, Player, ScenarioPacer, load_nodes
    from hotline.runtime.demo import load_scenario

    found = load_scenario(scenario)
    ident = parse_exercise_id(exercise or found.id)
    pacer = ScenarioPacer(found, clock_file) if clock_file else Pacer(found)
    if clock_file is None and found.length.total_seconds() > 6 * 3600:
        out.print(
            f"note: {found.id} lasts {found.length} in real time; "
            "give --clock-file to play it on the nodes' shared scenario clock",
            style="yellow",
        )
    with httpx.Client(timeout=30) as http:
        played = Player(found, load_nodes(nodes), ident, pacer, http, timeline).play()
    out.print(f"exercise {ident}: {played} steps played")


@exercise_app.command("report")
def exercise_report(
    exercise: Annotated[str, typer.Argument(metavar="EXERCISE", help="Exercise id.")],
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write the report (HTML).")
    ] = Path("after-action-report.html"),
) -> None:
    """Write the after-action report of an exercise from this node's ledger, in the node's
    language: time to acknowledge by precedence, escalations, refusals, alerts, link
    availability."""
    from hotline.app import node_record
    from hotline.domain.exercise import parse_exercise_id
    from hotline.exercise.findings import findings
    from hotline.exercise.report import write_report
    from hotline.exercise.words import Words

    ident = parse_exercise_id(exercise)
    if out_file.is_dir():
        raise InvalidInput("out", f"{out_file} is a folder", hint="give a file name")
    with node_context() as node:
        figures = write_report(node_record(node), ident, out_file)
        words = Words.of(node.language)
    for line in findings(figures, words):  # as in the report: in the node's language
        out.print(f"- {line}")
    out.print(f"report written to {out_file}")
