"""Signing in and out, who is signed in, the language the console speaks to them, and
whose node this is (before anyone signs in)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hotline.api.access import COOKIE, Access, Me, token_of
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.people import Me as MeAnswer
from hotline.api.schemas.people import NodeInfo, Session, SignedOut
from hotline.domain.identity import Principal
from hotline.services.accounts import LANGUAGES, Accounts
from hotline.storage.store import Store


class Login(BaseModel):
    principal: str
    password: str


class LanguageChoice(BaseModel):
    language: str = Field(max_length=8, description=f"one of {', '.join(LANGUAGES)}")


def auth_router(
    access: Access, accounts: Accounts, store: Store, party: str, language: str
) -> APIRouter:
    """``party`` and ``language``: the node's own."""
    router = APIRouter(prefix="/api/v1", tags=["auth"], route_class=JsonRoute)

    def me(who: Principal) -> dict[str, Any]:
        return {
            "principal": who.id,
            "name": who.name,
            "party": who.party,
            "node": party,
            "roles": [r.value for r in who.roles],
            "lines": [s.line.id for s in access.lines_of(who)],
            "language": accounts.language_of(who.id) or language,
            "node_language": language,
            "languages": list(LANGUAGES),
        }

    @router.post(
        "/auth/login",
        operation_id="signIn",
        response_model=Session,
        responses=errors_of(400, 401, 413, 429),
    )
    async def login(body: Login, request: Request) -> JSONResponse:
        """Sign in with a principal's password: a session token, also set as the
        ``hotline_session`` cookie."""
        remote = request.client.host if request.client else None
        session = await run_in_threadpool(accounts.login, body.principal, body.password, remote)
        answer = JSONResponse(
            {
                "token": session.token,
                "principal": session.principal,
                "expires_at": accounts.expiry(session),
            }
        )
        answer.set_cookie(
            COOKIE,
            session.token,
            httponly=True,
            samesite="strict",
            max_age=int(accounts.session_ttl.total_seconds()),
        )
        return answer

    @router.post(
        "/auth/logout", operation_id="signOut", response_model=SignedOut, responses=errors_of(401)
    )
    async def logout(request: Request, who: Me) -> JSONResponse:
        """End the session (or revoke the token): its streams close at once."""
        token = token_of(request)
        if token:
            await run_in_threadpool(accounts.logout, token)
        answer = JSONResponse({"signed_out": who.id})
        answer.delete_cookie(COOKIE)
        return answer

    @router.get("/me", operation_id="whoAmI", response_model=MeAnswer, responses=errors_of(401))
    async def whoami(who: Me) -> dict[str, Any]:
        """The signed-in principal, its lines, and the language it reads in (its own
        choice, else the node's)."""
        found: dict[str, Any] = await run_in_threadpool(me, who)
        return found

    @router.put(
        "/me/language",
        operation_id="setMyLanguage",
        response_model=MeAnswer,
        responses=errors_of(400, 401),
    )
    async def set_my_language(body: LanguageChoice, who: Me) -> dict[str, Any]:
        """Choose the language the console speaks to this principal; the answer is
        ``GET /me`` with it."""
        await run_in_threadpool(accounts.set_language, who.id, body.language)
        found: dict[str, Any] = await run_in_threadpool(me, who)
        return found

    @router.get("/node", operation_id="nodeInfo", response_model=NodeInfo, responses=errors_of())
    async def node_info() -> dict[str, Any]:
        """Whose node this is and its language, for the sign-in screen (no session)."""
        found = await run_in_threadpool(store.party, party)
        return {
            "party": party,
            "name": found.name,
            "language": language,
            "languages": list(LANGUAGES),
        }

    return router
