"""The operator REST API under ``/api/v1`` and the console's static files.

The API is one router per resource (auth, lines, messages, catalogue, translation,
notices, contacts, relays, watch, accountability, health, awareness, exercise, the live
stream), all sharing the checks of :mod:`hotline.api.access`; each is given only what it
uses of the node (:class:`~hotline.api.context.ApiContext`). Errors become RFC 9457
problems in one place, :mod:`hotline.api.problems`; the OpenAPI document,
``/api/v1/openapi.json``, is the contract (:mod:`hotline.api.contract`).
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from hotline.api import problems
from hotline.api.access import COOKIE, Access, signed_in, token_of
from hotline.api.accountability import accountability_router
from hotline.api.agreements import agreements_router
from hotline.api.auth import auth_router
from hotline.api.awareness import awareness_router
from hotline.api.catalogue import catalogue_router
from hotline.api.contacts import contacts_router
from hotline.api.context import ApiContext
from hotline.api.contract import document
from hotline.api.exercise import exercise_router
from hotline.api.health import health_router
from hotline.api.incidents import incidents_router
from hotline.api.lines import lines_router
from hotline.api.messages import messages_router
from hotline.api.notices import notices_router
from hotline.api.paging import paging_router
from hotline.api.proofs import proofs_router
from hotline.api.record import record_router
from hotline.api.relays import relays_router
from hotline.api.reports import reports_router
from hotline.api.rollcalls import rollcalls_router
from hotline.api.stream import stream_router
from hotline.api.translation import translation_router
from hotline.api.watch import watch_router
from hotline.exercise.record import NodeRecord
from hotline.services.incidents import Incidents
from hotline.services.verification import CachedVerification

__all__ = ["COOKIE", "create_api", "operator_routers", "signed_in", "token_of"]


def operator_routers(ctx: ApiContext) -> list[APIRouter]:
    """Every router of the operator API, in the order of the document, each given only
    what it uses of ``ctx``."""
    store, peers, party, language, now = ctx.store, ctx.peers, ctx.party, ctx.language, ctx.now
    access = Access(store, party)
    verification = CachedVerification(store)
    picture = ctx.awareness.picture
    record = NodeRecord(party, language, store, peers, picture, ctx.clock)
    return [
        auth_router(access, ctx.accounts, store, party, language),
        health_router(access, verification, ctx.clock, store, peers, party),
        lines_router(access, store),
        record_router(access, verification, store, ctx.directory, peers),
        messages_router(
            access, store, ctx.messages, ctx.translations, ctx.catalogues, language, now
        ),
        catalogue_router(access, ctx.catalogues, language),
        translation_router(access, store, ctx.translations, now),
        notices_router(access, store, ctx.notices, language),
        contacts_router(access, ctx.contacts, now),
        relays_router(access, store, ctx.relays),
        watch_router(access, ctx.watch, now),
        paging_router(access, ctx.pager),
        rollcalls_router(access, ctx.rollcalls, now),
        agreements_router(access, ctx.agreements, now, language),
        accountability_router(access, store, ctx.contacts, now),
        awareness_router(access, ctx.awareness, ctx.notices, now, ctx.history),
        exercise_router(party, peers, ctx.outages, now),
        reports_router(access, record),
        proofs_router(access, ctx.checkpoints, ctx.disclosures, ctx.evidence),
        incidents_router(
            access,
            Incidents(store, picture, ctx.history, ctx.notices, ctx.disclosures),
            now,
        ),
        stream_router(store, picture, ctx.accounts, party, signed_in, access.lines_of),
    ]


class OperatorGZip:
    """Compressed answers for the console and the operator API only: the federation API's
    answers are signed over the bytes sent, and the event stream is never compressed
    (GZipMiddleware skips it)."""

    PATHS = ("/api/", "/console")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(self.PATHS):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def create_api(app: FastAPI, ctx: ApiContext) -> None:
    """Mount the operator API and the console on the node's app."""
    app.state.accounts = ctx.accounts
    routers = operator_routers(ctx)
    for router in routers:
        app.include_router(router)
    routes = [route for router in routers for route in router.routes]

    def contract() -> dict[str, Any]:
        return document(routes)

    @app.get("/api/v1/openapi.json", include_in_schema=False)
    async def openapi() -> dict[str, Any]:
        """The API's contract: every /api/v1 route, its bodies and answers."""
        return contract()

    app.state.contract = contract
    problems.install(app)
    app.add_middleware(OperatorGZip)

    static = files("hotline").joinpath("web/static")
    app.mount("/console", StaticFiles(directory=str(static), html=True), name="console")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/console/")
