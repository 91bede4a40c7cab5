"""Sessions, principals, the node, its clock and health."""

from __future__ import annotations

from typing import Any

from hotline.api.schemas.base import Answer, Field


class Session(Answer):
    token: str
    principal: str
    expires_at: str | None


class SignedOut(Answer):
    signed_out: str


class Me(Answer):
    principal: str
    name: str
    party: str
    node: str
    roles: list[str]
    lines: list[str]
    language: str = Field(description="the principal's choice, else the node's")
    node_language: str
    languages: list[str]


class NodeInfo(Answer):
    party: str
    name: str = Field(description="the party's name")
    language: str
    languages: list[str]


class NodeTime(Answer):
    now: str
    speed: float = Field(description="seconds on the node's clock per real second; 0: stepped")
    exercise: bool = Field(description="whether an exercise clock runs")


class LinkAlert(Answer):
    kind: str
    subject: str
    detail: str
    since: str


class LinkState(Answer):
    peers: dict[str, dict[str, Any]] = Field(description="peer -> state, round, tested_at")
    queue: int = Field(description="events waiting for delivery")
    clocks: dict[str, dict[str, Any]]
    alerts: list[LinkAlert]
    paths: dict[str, dict[str, Any]] = Field(
        description="peer -> carrier (the path that carries the line: https, mail, or null "
        "when none works) and paths (each path's last use either way and last failure)"
    )


class Verification(Answer):
    ok: bool
    events: int
    problems: list[str] = Field(description="the first problems found (at most 20)")
    position: int = Field(description="the ledger position the verification covers")


class LinkOutage(Answer):
    until: str
    exercise: str


class LinkCut(Answer):
    peer: str
    until: str | None = None
    exercise: str | None = None
