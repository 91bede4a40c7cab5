"""Playing a scenario against running nodes, through their REST APIs, as the principals
it names. Everything it sends is marked with the exercise id (domain/exercise.py).

The nodes are described by a small YAML file (``hotline demo`` writes one)::

    US:
      url: http://127.0.0.1:8100
      ingest_token: ...            # for `tracks` steps sent to this node
      tokens: {US/EUCOM-JOC: hlt_..., US/OPS: hlt_...}   # `hotline principal token`
    RU: {...}

Time: against live nodes a step waits for its moment in real time, counted from when the
exercise began. Against nodes that share a scenario clock (``clock_file``: the demo), the
player steps that clock from one instant something is due to the next, each time once
both nodes have done everything due (:class:`ScenarioPacer`); the nodes' deadlines,
escalations and expiries fall exactly at their instants, however loaded the machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from hotline.domain.clock import format_time
from hotline.domain.errors import InvalidInput, NotFound, PeerUnavailable
from hotline.domain.identity import party_of
from hotline.domain.scenario import Scenario, Step, parse_offset
from hotline.exercise.stepping import Stepper

#: How long (real seconds) a step waits for what it refers to to reach the other node.
ARRIVAL_WAIT = 20.0


@dataclass(frozen=True)
class NodeLink:
    party: str
    url: str
    tokens: dict[str, str] = field(default_factory=dict)
    ingest_token: str | None = None


def load_nodes(path: Path) -> dict[str, NodeLink]:
    """The nodes file. Raises InvalidInput naming what is wrong."""
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput("nodes", f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or not data:
        raise InvalidInput("nodes", f"{path}: expected PARTY: {{url, tokens, ingest_token}}")
    nodes = {}
    for party, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise InvalidInput("nodes", f"{path}: {party} needs a url")
        tokens = entry.get("tokens") or {}
        if not isinstance(tokens, dict):
            raise InvalidInput("nodes", f"{path}: {party}.tokens maps principals to tokens")
        nodes[str(party).upper()] = NodeLink(
            str(party).upper(),
            entry["url"].rstrip("/"),
            {str(k).upper(): str(v) for k, v in tokens.items()},
            entry.get("ingest_token"),
        )
    return nodes


def write_nodes(path: Path, nodes: dict[str, NodeLink]) -> None:
    data = {
        n.party: {"url": n.url, "ingest_token": n.ingest_token, "tokens": n.tokens}
        for n in nodes.values()
    }
    path.write_text(yaml.safe_dump(data, sort_keys=True), "utf-8")


class Pacer:
    """Scenario time against live nodes: real time since the exercise began."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.began = time.time()

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time(), UTC)

    def at(self, offset: timedelta) -> datetime:
        return datetime.fromtimestamp(self.began + offset.total_seconds(), UTC)

    def reach(self, step: Step) -> None:
        time.sleep(max(0.0, self.began + step.at.total_seconds() - time.time()))

    def advance(self, to: datetime) -> None:
        """Wait until ``to`` (within a step: a track's next position)."""
        time.sleep(max(0.0, (to - self.now()).total_seconds()))

    def settle(self) -> None:
        """After a step's action: live nodes go on by themselves."""

    def offset(self) -> timedelta:
        return timedelta(seconds=time.time() - self.began)


class ScenarioPacer(Pacer):
    """The shared scenario clock of the demo, stepped: the player stands it at one
    instant after another (the steps, the positions of a track, and whatever the nodes
    have due in between: escalation steps, expiries, link-test rounds) and moves on only
    once both nodes have done everything due there (:mod:`hotline.exercise.stepping`).

    Stretches no longer than the scenario's ``jump`` are walked through every link-test
    round, at most ``speed`` (or a step's ``pace``) scenario seconds per real second, so
    that a person can follow; longer ones are skipped, stopping only where something
    falls due. ``settled(at)`` is called at each instant once the nodes are done there."""

    def __init__(
        self,
        scenario: Scenario,
        path: Path,
        *,
        stepper: Stepper | None = None,
        settled: Callable[[datetime], None] | None = None,
    ) -> None:
        super().__init__(scenario)
        self.path = path
        self.speed = scenario.speed
        self.stepper = stepper or Stepper(path, scenario.parties(), scenario.start)
        self.settled = settled
        self._mark = (time.monotonic(), scenario.start)

    def now(self) -> datetime:
        return self.stepper.now

    def at(self, offset: timedelta) -> datetime:
        return self.scenario.start + offset

    def offset(self) -> timedelta:
        return self.now() - self.scenario.start

    def reach(self, step: Step) -> None:
        target = self.scenario.start + step.at
        walked = target - self.now() <= self.scenario.jump
        self._walk(target, walked)
        if step.pace is not None:
            self.speed = step.pace
        self._mark = (time.monotonic(), self.now())

    def advance(self, to: datetime) -> None:
        self._walk(to, True)

    def settle(self) -> None:
        self.stepper.settle()
        if self.settled is not None:
            self.settled(self.now())

    def _walk(self, target: datetime, walked: bool) -> None:
        self.stepper.walk(
            target, rounds=walked, pace=self._pace if walked else None, settled=self.settled
        )

    def _pace(self, at: datetime) -> None:
        """Hold a walked stretch to the speed: no faster than ``speed`` times real time."""
        real, moment = self._mark
        wait = real + (at - moment).total_seconds() / self.speed - time.monotonic()
        if wait > 0:
            time.sleep(wait)


Echo = Callable[[datetime, str, str, str], None]  # (scenario time, party, text, style)


class Player:
    def __init__(
        self,
        scenario: Scenario,
        nodes: dict[str, NodeLink],
        exercise: str,
        pacer: Pacer,
        http: httpx.Client,
        echo: Echo,
    ) -> None:
        self.scenario, self.nodes, self.exercise = scenario, nodes, exercise
        self.pacer, self.http, self.echo = pacer, http, echo
        self.named: dict[str, str] = {}  # step name -> event id
        self.step_events: dict[int, str] = {}  # step index -> the event it recorded
        self.done = 0
        missing = sorted(p for p in scenario.principals() if p not in self._all_tokens())
        if missing:
            raise InvalidInput(
                "nodes",
                "no API token for " + ", ".join(missing),
                hint="create them with `hotline principal token PRINCIPAL` on its node",
            )

    def _all_tokens(self) -> set[str]:
        return {p for n in self.nodes.values() for p in n.tokens}

    def play(self) -> int:
        """Play every step in order; the number played. Raises on the first that fails."""
        for step in self.scenario.steps:
            self.pacer.reach(step)
            if step.say:
                self.echo(self.pacer.now(), "", step.say, "say")
            if step.action is not None:
                try:
                    getattr(self, "_" + step.action)(step, step.args)
                except (httpx.HTTPError, PeerUnavailable) as exc:
                    raise PeerUnavailable(f"{step.where}: {exc}") from exc
                self.pacer.settle()
            self.done += 1
        self._checkpoint()
        return self.done

    def _checkpoint(self) -> None:
        """Every node signs a checkpoint of what the exercise added to its chains, so
        that the record of the exercise can be proven to a third party."""
        for node in self.nodes.values():
            refused: list[str] = []
            for principal in sorted(node.tokens):  # an auditor's token may not sign
                try:
                    self._call("POST", principal, "/checkpoints")
                    break
                except InvalidInput as exc:
                    refused.append(str(exc))
            else:
                if refused:
                    text = f"no checkpoint signed: {refused[-1]}"
                    self.echo(self.pacer.now(), node.party, text, "say")

    # -- HTTP ----------------------------------------------------------------------------

    def _node(self, principal: str) -> NodeLink:
        party = party_of(principal)
        if party not in self.nodes:
            raise InvalidInput("nodes", f"no node given for party {party}")
        return self.nodes[party]

    def _call(
        self, method: str, principal: str, path: str, body: Any = None, *, wait: bool = False
    ) -> Any:
        node = self._node(principal)
        headers = {"Authorization": f"Bearer {node.tokens[principal]}"}
        deadline = time.monotonic() + (ARRIVAL_WAIT if wait else 0)
        while True:
            answer = self.http.request(
                method, node.url + "/api/v1" + path, json=body, headers=headers
            )
            if answer.status_code < 400:
                return answer.json()
            if wait and answer.status_code == 404 and time.monotonic() < deadline:
                time.sleep(0.2)  # not delivered to this node yet
                continue
            try:
                error = answer.json()
            except ValueError:
                error = {"detail": answer.text}
            raise InvalidInput(
                f"{principal} {method} {path}",
                f"{node.party}'s node answered {answer.status_code}: {error.get('detail')}",
                hint=error.get("hint"),
            )

    def _ref(self, name: str) -> str:
        if name not in self.named:
            raise NotFound("step", name, hint="the step it names did not record an event")
        return self.named[name]

    # -- steps ---------------------------------------------------------------------------

    def _send(self, step: Step, a: dict[str, Any]) -> None:
        body: dict[str, Any] = {
            k: a[k]
            for k in ("line", "kind", "precedence", "subject", "body", "lang", "activity")
            if k in a
        }
        body.update(to=a.get("to", []), units=a.get("units", []), exercise=self.exercise)
        if "area" in a:
            body["area"] = a["area"]
        now = self.pacer.now()
        for key in ("start", "end"):
            if key in a:
                body[key] = format_time(now + parse_offset(a[key], key, relative=True))
        self._post_message(step, a["as"], body, "")

    def _post_message(self, step: Step, sender: str, body: dict[str, Any], how: str) -> None:
        sent = self._call("POST", sender, "/messages", body)
        self._record(step, sent["id"])
        self.echo(
            self.pacer.now(),
            party_of(sender),
            f"{sender} sends {how}{body.get('precedence', 'ROUTINE')} {body.get('kind', 'free')} "
            f"on {body['line']}: {body['subject']}",
            "send",
        )

    def _ack(self, step: Step, a: dict[str, Any]) -> None:
        ident = self._ref(a["message"])
        body = {"reply": a.get("reply"), "lang": a.get("lang", "en"), "exercise": self.exercise}
        acked = self._call("POST", a["as"], f"/messages/{ident}/ack", body, wait=True)
        self._record(step, acked["id"])
        reply = f': "{a["reply"]}"' if a.get("reply") else ""
        self.echo(self.pacer.now(), party_of(a["as"]), f"{a['as']} acknowledges{reply}", "ack")

    def _request(self, step: Step, a: dict[str, Any]) -> None:
        body: dict[str, Any] = {"to": a["to"], "topic": a["topic"], "exercise": self.exercise}
        if "window" in a:
            body["window_hours"] = parse_offset(a["window"], "window").total_seconds() / 3600
        made = self._call("POST", a["from"], "/contacts", body)
        self._record(step, made["id"])
        self.echo(
            self.pacer.now(),
            party_of(a["from"]),
            f"{a['from']} asks {a['to']} for a call: {a['topic']}",
            "request",
        )

    def _answer(self, step: Step, a: dict[str, Any]) -> None:
        ident = self._ref(a["request"])
        decision = {"hold": "held"}.get(a["decision"], a["decision"])
        body: dict[str, Any] = {"reason": a.get("reason", ""), "summary": a.get("reason", "")}
        if decision == "accept":
            body["time"] = format_time(
                self.pacer.now() + parse_offset(a.get("time", "+1d"), "time", relative=True)
            )
        self._call("POST", a["as"], f"/contacts/{ident}/{decision}", body, wait=True)
        said = {"accept": "accepts", "decline": "declines", "held": "records the call held"}
        reason = f': "{a["reason"]}"' if a.get("reason") else ""
        self.echo(
            self.pacer.now(), party_of(a["as"]), f"{a['as']} {said[decision]}{reason}", "answer"
        )

    def _tracks(self, step: Step, a: dict[str, Any]) -> None:
        """Each position to each node named (``to``: a party, or several: each side's
        own picture of the same thing), at its time on the exercise clock."""
        nodes = []
        for party in a["to"]:
            node = self.nodes.get(party)
            if node is None or not node.ingest_token:
                raise InvalidInput(f"{step.where}.tracks.to", f"no ingest token for {party}'s node")
            nodes.append(node)
        base = self.pacer.now()
        points = sorted(
            a["items"], key=lambda p: parse_offset(p.get("at", "0"), "at", relative=True)
        )
        for point in points:
            when = base + parse_offset(point.get("at", "0"), "at", relative=True)
            self.pacer.advance(when)  # on a stepped clock: once the last one is taken in
            item = {k: v for k, v in point.items() if k != "at"}
            item["time"] = format_time(self.pacer.now())
            for node in nodes:
                answer = self.http.post(
                    node.url + "/ingest/v1/tracks",
                    json={"tracks": [item]},
                    headers={"Authorization": f"Bearer {node.ingest_token}"},
                )
                if answer.status_code != 200 or answer.json().get("refused"):
                    raise InvalidInput(
                        f"{step.where}.tracks", f"ingest refused: {answer.text[:200]}"
                    )
        first = points[0]
        for party in a["to"]:
            self.echo(
                self.pacer.now(),
                party,
                f"{len(points)} positions of {first.get('callsign') or first['uid']} "
                f"({first.get('party', '?')} {first['kind']}) reach {party}'s picture",
                "tracks",
            )

    def _draft(self, step: Step, a: dict[str, Any]) -> None:
        wait = parse_offset(a.get("wait", "30s"), "wait").total_seconds()
        deadline = time.monotonic() + max(wait, ARRIVAL_WAIT)
        while True:
            alerts = self._call("GET", a["as"], "/alerts")
            found = [
                x
                for x in alerts
                if (a.get("rule") is None or x.get("rule") == a["rule"])
                and (a.get("party") is None or x.get("party") == a["party"])
            ]
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        if not found:
            raise NotFound("alert", f"{a.get('rule') or 'any'} rule", hint="no alert was raised")
        alert = max(found, key=lambda x: (str(x.get("opened_at")), int(x["id"])))
        self.echo(
            self.pacer.now(),
            party_of(a["as"]),
            f"alert {alert['id']} ({alert.get('rule')}, {alert.get('severity')}): "
            f"{alert.get('summary')}",
            "alert",
        )
        draft = self._call("GET", a["as"], f"/alerts/{alert['id']}/draft")
        c = draft["content"]
        body: dict[str, Any] = {
            k: c[k]
            for k in ("kind", "precedence", "subject", "body", "lang", "area", "activity")
            if k in c
        }
        body.update(
            line=draft["line"],
            units=c.get("units", []),
            exercise=self.exercise,
            alert=str(alert["id"]),
        )
        if isinstance(c.get("window"), dict):
            body.update(start=c["window"]["start"], end=c["window"]["end"])
        self._post_message(step, a["as"], body, "the drafted ")

    def _outage(self, step: Step, a: dict[str, Any]) -> None:
        body = {"minutes": a["minutes"], "exercise": self.exercise}
        self._call("POST", a["as"], f"/links/{a['peer']}/outage", body)
        self.echo(
            self.pacer.now(),
            party_of(a["as"]),
            f"the link between {party_of(a['as'])} and {a['peer']} is cut for {a['minutes']:g} min",
            "outage",
        )

    def _record(self, step: Step, ident: str) -> None:
        self.step_events[step.index] = ident
        if step.name:
            self.named[step.name] = ident
