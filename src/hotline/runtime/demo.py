"""`hotline demo`: a US node and a RU node as two processes on 127.0.0.1, peered, with the
scenario's lines, playing the 2022 scenario on a shared, stepped scenario clock (time
moves on only once both nodes have done what was due); the timeline read from both
nodes' records as it grows, the story checked against the scenario, then the consoles.

Everything lives in a temporary folder (SQLite), removed at the end unless ``keep`` (or
the story slipped: then it is kept, to look into).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import httpx
import yaml

from hotline.app import Node, init_node, node_record, open_node
from hotline.config import write_config
from hotline.domain.errors import (
    IntegrityFailure,
    InvalidInput,
    PeerUnavailable,
    StorageUnavailable,
)
from hotline.domain.exercise import exercise_events
from hotline.domain.identity import party_of
from hotline.domain.policy import LineKind, LineStatus
from hotline.domain.scenario import Scenario, parse_scenario
from hotline.exercise.clock import set_clock
from hotline.exercise.player import NodeLink, Player, ScenarioPacer, write_nodes
from hotline.exercise.record import Record
from hotline.exercise.story import Check, check_story, out_of_order
from hotline.runtime.demo_evidence import Replay, evidence_files
from hotline.runtime.witnessing import WITNESS, Witnessing
from hotline.services.verification import verify_store

PASSWORD = "hotline-demo-2022"  # noqa: S105 - the demo's throwaway nodes; printed to the user
DEFAULT_SCENARIO = "baltic-2022.yaml"
#: Node settings for the demo: the shared clock, link tests every 5 scenario minutes,
#: quick retries, ingest on, and the territories the rules watch. On the stepped clock the
#: escalation, awareness and link-test loops run once per step of the clock whatever
#: their intervals; the intervals hold once the clock runs in real time at the end.
NODE_ENV = {
    "HOTLINE_LINKTEST_INTERVAL": "5m",
    "HOTLINE_RETRY_MAX": "2s",
    "HOTLINE_CATCHUP_INTERVAL": "2s",
    "HOTLINE_AWARENESS_INTERVAL": "1s",
    "HOTLINE_TERRITORIES": "US=PL,LT,LV,EE;RU=RU,BY",
    "HOTLINE_SQLITE_SYNCHRONOUS": "NORMAL",
    # the scenario runs from March to May 2022: the 13 March incident stays to replay
    "HOTLINE_HISTORY_KEEP": "400d",
}
#: Each node speaks its own side's language (setting ``language``): the RU node Russian,
#: any other English. Its consoles, catalogue texts and after-action report follow it.
LANGUAGES = {"RU": "ru"}
HOTLINE_CLI = [sys.executable, "-m", "hotline"]

Say = Callable[[datetime | None, str, str, str], None]
#: What the timeline takes from the player rather than the record: the narration, and
#: what it does that is on no ledger (tracks into a picture, a cut link).
NARRATION = ("say", "tracks", "outage")


def find_scenario(name: str | None) -> Traversable:
    """A scenario file: the path given, or one of the scenarios installed with the package
    (``hotline/scenarios/``), by file name with or without ``.yaml``.

    Raises InvalidInput when neither is found."""
    if name and Path(name).is_file():
        return Path(name)
    wanted = name or DEFAULT_SCENARIO
    shipped = resources.files("hotline") / "scenarios"
    for candidate in (shipped / wanted, shipped / f"{wanted}.yaml"):
        if candidate.is_file():
            return candidate
    found = shipped.iterdir() if shipped.is_dir() else ()
    names = sorted(f.name.removesuffix(".yaml") for f in found if f.name.endswith(".yaml"))
    raise InvalidInput(
        "scenario",
        f"no scenario {wanted!r}",
        hint=f"give a scenario file's path, or one of: {', '.join(names) or '(none installed)'}",
    )


def load_scenario(path: Traversable) -> Scenario:
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput("scenario", f"cannot read {path}: {exc}") from exc
    return parse_scenario(data)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Site:
    party: str
    name: str
    home: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    node: Node | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Demo:
    def __init__(self, scenario: Scenario, folder: Path, say: Say, speed: float | None) -> None:
        if speed is not None:
            scenario = scenario.at_speed(speed)
        self.scenario, self.folder, self.say = scenario, folder, say
        parties = scenario.setup.get("parties") or {}
        if len(parties) != 2:
            raise InvalidInput("setup.parties", "the demo runs two parties' nodes")
        self.clock_file = folder / "clock.json"
        set_clock(self.clock_file, scenario.start, 0, 0)  # stepped: stands at the start
        self.sites: list[Site] = []
        self.witness = Witnessing(folder / "osce", _free_port())
        self.checks: list[Check] = []
        self.printed: list[datetime] = []  # the times of the timeline as printed
        # the incident to replay: since, until (UTC) and west, south, east, north
        self.replay: Replay | None = None
        ingest = os.urandom(16).hex()
        for party, name in parties.items():
            env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
            port = _free_port()
            env.update(NODE_ENV)
            env.update(
                HOTLINE_CLOCK_FILE=str(self.clock_file),
                HOTLINE_LANGUAGE=LANGUAGES.get(str(party).upper(), "en"),
                HOTLINE_LISTEN=f"127.0.0.1:{port}",
                HOTLINE_INGEST_TOKEN=ingest,
                HOTLINE_WITNESSES=self.witness.entry(),
            )
            self.sites.append(
                Site(str(party).upper(), str(name), folder / party.lower(), port, env)
            )

    # -- set up --------------------------------------------------------------------------

    def build(self) -> None:
        """Both nodes, their principals, peered; then served, with the lines signed."""
        principals = self.scenario.setup.get("principals", [])
        for site in self.sites:
            node = init_node(site.env, site.home, site.party, site.name)
            _keep_settings(node, site.env, ("clock_file", "language", "history_keep"))
            for p in principals:
                if party_of(p["id"]) == site.party:
                    node.directory.add_principal(p["id"], p.get("name", ""), p.get("roles", []))
            site.node = node
        for site in self.sites:
            key = self._node(site).store.party(site.party).node_key
            if key is not None:
                self.witness.trust(site.party, key.text())
        self.witness.serve(self.folder / "osce.log")
        bundles = {s.party: self._node(s).peering.export([s.url]) for s in self.sites}
        for site in self.sites:
            for other, bundle in bundles.items():
                if other != site.party:
                    self._node(site).peering.pin(bundle)
        for site in self.sites:
            self._serve(site)
        self._lines()
        for site in self.sites:
            node = self._node(site)
            for p in principals:
                if party_of(p["id"]) == site.party:
                    node.accounts.set_password(p["id"], PASSWORD)
                    site.tokens[p["id"]] = node.accounts.create_token(p["id"])
        write_nodes(self.folder / "nodes.yaml", self.links())

    def _node(self, site: Site) -> Node:
        if site.node is None:
            site.node = open_node(site.env, site.home)
        return site.node

    def _serve(self, site: Site) -> None:
        log = (self.folder / f"{site.party.lower()}.log").open("wb")
        site.process = subprocess.Popen(
            [*HOTLINE_CLI, "--home", str(site.home), "serve"],
            env=site.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the demo, which stops the nodes in turn
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if site.process.poll() is not None:
                raise StorageUnavailable(
                    f"{site.party}'s node stopped at start",
                    hint=f"see {self.folder / (site.party.lower() + '.log')}",
                )
            try:
                if httpx.get(site.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise PeerUnavailable(f"{site.party}'s node did not start in 60 s")

    def _lines(self) -> None:
        first, second = self.sites
        proposer, other = self._node(first), self._node(second)
        wanted = self.scenario.setup.get("lines", [])
        for line in wanted:
            proposer.lines.propose(
                line_id=line["id"],
                kind=LineKind(line["kind"]),
                title=line.get("title", line["id"]),
                members=line["members"],
            )
        self._wait(
            f"{second.party}'s node to receive the proposed lines",
            lambda: {s.line.id for s in other.store.lines()} >= {x["id"] for x in wanted},
        )
        for line in wanted:
            other.lines.accept(line["id"], second.party)
        self._wait(
            f"the lines to be active on {first.party}'s node",
            lambda: all(
                s.status is LineStatus.ACTIVE
                for s in proposer.store.lines()
                if s.line.id in {x["id"] for x in wanted}
            ),
        )
        self.say(
            None,
            "",
            f"{len(wanted)} lines signed by both parties: " + ", ".join(x["id"] for x in wanted),
            "setup",
        )

    @staticmethod
    def _wait(what: str, done: Callable[[], bool], seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while not done():
            if time.monotonic() > deadline:
                raise PeerUnavailable(f"timed out waiting for {what}")
            time.sleep(0.2)

    def links(self) -> dict[str, NodeLink]:
        return {
            s.party: NodeLink(s.party, s.url, dict(s.tokens), s.env["HOTLINE_INGEST_TOKEN"])
            for s in self.sites
        }

    # -- play ----------------------------------------------------------------------------

    def play(self) -> int:
        """Play the scenario on the stepped clock, printing the record as it grows; then
        check the story (:attr:`checks`) and let the clock run in real time."""
        record = Record({s.party: node_record(self._node(s)) for s in self.sites})

        def settled(at: datetime) -> None:
            for entry in record.read():
                self._print(entry.at, entry.party, entry.text, entry.style)

        def narrate(at: datetime | None, party: str, text: str, style: str) -> None:
            if style in NARRATION:  # the rest is on the record, printed from there
                self._print(at, party, text, style)

        pacer = ScenarioPacer(self.scenario, self.clock_file, settled=settled)
        with httpx.Client(timeout=30) as http:
            player = Player(self.scenario, self.links(), self.scenario.id, pacer, http, narrate)
            played = player.play()
        pacer.settle()
        self.checks = check_story(self.scenario, player.step_events, record.events, record.alerts)
        set_clock(self.clock_file, pacer.now(), 1.0)  # from here on, real time
        self.settle()
        return played

    def _print(self, at: datetime | None, party: str, text: str, style: str) -> None:
        if at is not None:
            self.printed.append(at)
        self.say(at, party, text, style)

    def story(self) -> tuple[list[str], list[Check]]:
        """What the check of the story says (each expected event, and every slip), and
        what slipped."""
        slips = [c for c in self.checks if not c.ok]
        disorder = out_of_order(self.printed)
        if disorder:
            slips.append(Check(False, f"the timeline printed out of order {disorder} time(s)"))
        steps = sum(1 for c in self.checks if not c.expected)
        if slips:
            lines = [f"THE STORY SLIPPED: {len(slips)} of {len(self.checks)} checks failed:"]
            lines.extend(f"  SLIPPED  {c.text}" for c in slips)
        else:
            lines = [
                f"the story on the record: {steps} steps at their time, and what the "
                "nodes did by themselves:"
            ]
        lines.extend(f"  on time  {c.text}" for c in self.checks if c.ok and c.expected)
        return lines, slips

    def settle(self, seconds: float = 30) -> None:
        """Wait until both nodes hold every chain to the same head: the last deliveries
        and receipts are in, and the two records can be compared."""
        first, second = (self._node(s) for s in self.sites)
        self._wait(
            "both nodes to hold the same record",
            lambda: first.store.heads() == second.store.heads(),
            seconds,
        )

    # -- end -----------------------------------------------------------------------------

    def proofs(self, seconds: float = 30) -> list[str]:
        """Once each node's latest checkpoint of each chain is cosigned by its peer and by
        the witness: what that says, and a proof of the scenario's first FLASH message
        for a third party, written beside the nodes and checked as a reader would."""
        from hotline.domain.proofs import verify_bundle
        from hotline.services.disclosures import Disclosures

        nodes = [self._node(s) for s in self.sites]

        def covered() -> bool:
            return all(
                cp.cosigned_at is not None and cp.witnesses > 0
                for node in nodes
                for cp in node.checkpoints.latest_own()
            )

        try:
            self._wait(
                "the checkpoints to be cosigned by the peer and the witness", covered, seconds
            )
        except PeerUnavailable as exc:
            return [f"checkpoints: {exc.message}"]
        lines = []
        for node in nodes:
            latest = node.checkpoints.latest_own()
            lines.append(
                f"{node.party}: {len(latest)} chains checkpointed, each cosigned by the peer "
                f"and by the witness {WITNESS}"
            )
        first = nodes[0]
        flashes = [
            e
            for s in first.store.lines()
            for e in first.store.events(s.line.id, kinds=["message"])
            if e.party == first.party and e.content.get("precedence") == "FLASH"
        ]
        if flashes:
            message = flashes[0]
            bundle = Disclosures(first.checkpoints, first.party).export(
                message.id, with_ack=bool(first.store.acks_of([message.id])), with_receipt=True
            )
            path = self.folder / "proof.json"
            path.write_bytes(bundle.data)
            report = verify_bundle(bundle.data)
            lines.append(
                f"a proof of {first.party}'s FLASH {message.content.get('subject')!r} for a "
                f"third party: {path} ({len(bundle.data):,} bytes, {len(report.events)} "
                f"events; `hotline proof verify {path}` checks it offline)"
            )
        found, self.replay = evidence_files(first, self.folder)
        return lines + found

    def summary(self) -> list[str]:
        lines = []
        for site in self.sites:
            node = self._node(site)
            report = verify_store(node.store)
            events = [e for s in node.store.lines() for e in node.store.events(s.line.id)]
            marked = exercise_events(events, self.scenario.id)
            lines.append(
                f"{site.party}: {report.events} events in {len(report.chains)} chains, "
                f"{len(marked)} of them exercise traffic; verify: "
                + ("ok" if report.ok else f"{len(report.problems)} PROBLEMS")
            )
        return lines

    def stop(self) -> None:
        for site in self.sites:
            if site.node is not None:
                site.node.close()
                site.node = None
        self.witness.stop()
        for site in self.sites:
            if site.process is not None and site.process.poll() is None:
                site.process.send_signal(signal.SIGINT)
        for site in self.sites:
            if site.process is not None:
                try:
                    site.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    site.process.kill()


def _keep_settings(node: Node, env: dict[str, str], names: tuple[str, ...]) -> None:
    """Write these settings of the demo into the node's own ``hotline.toml``, so that a
    command run later on its folder (``hotline --home FOLDER inbox``) reads the scenario
    clock and speaks the language its server does."""
    path = node.settings.config_path
    values = {k: str(v) for k, v in tomllib.loads(path.read_text("utf-8")).items()}
    values.update({name: env[f"HOTLINE_{name.upper()}"] for name in names})
    write_config(path, values)


def run_demo(
    scenario_path: Traversable,
    say: Say,
    *,
    duration: float | None,
    keep: Path | None,
    speed: float | None,
    announce: Callable[[list[str]], None],
) -> list[str]:
    """Build, play, summarise; keep serving ``duration`` seconds (None: until Ctrl-C)."""
    scenario = load_scenario(scenario_path)
    folder = Path(tempfile.mkdtemp(prefix="hotline-demo-")) if keep is None else keep
    folder.mkdir(parents=True, exist_ok=True)
    demo = Demo(scenario, folder, say, speed)
    kept = keep is not None
    try:
        demo.build()
        announce(consoles(demo))
        demo.play()
        summary = demo.summary() + demo.proofs()
        story, slips = demo.story()
        announce(summary + story + consoles(demo))
        if slips:
            kept = True
            raise IntegrityFailure(
                f"the nodes did not act out the story: {len(slips)} check(s) failed (above)",
                hint=f"the nodes' folders and logs are kept in {folder}",
            )
        if duration is None:
            announce(["the nodes keep serving; Ctrl-C stops both"])
            while True:
                time.sleep(3600)
        time.sleep(max(0.0, duration))
        return summary
    finally:
        demo.stop()
        if not kept:
            shutil.rmtree(folder, ignore_errors=True)


def consoles(demo: Demo) -> list[str]:
    out = []
    for site in demo.sites:
        desks = ", ".join(sorted(site.tokens))
        language = site.env["HOTLINE_LANGUAGE"]
        out.append(f"{site.party} console: {site.url}/console/  ({language}; sign in as {desks})")
    if demo.replay is not None:
        since, until, box = demo.replay
        where = ",".join(f"{v:g}" for v in box)
        for site in demo.sites:
            replay = f"{site.url}/console/#/alerts/{since}/{until}/{where}"
            out.append(f"{site.party} replays the incident: {replay}")
    out.append(f"the witness {WITNESS}: {demo.witness.url}/checkpoints")
    out.append(f"password for every desk: {PASSWORD}")
    return out
