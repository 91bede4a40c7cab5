"""The signed-in principal's own choices: ``PUT /api/v1/me/language``."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hotline.domain.identity import Principal
from hotline.services.accounts import LANGUAGES, Accounts


class LanguageChoice(BaseModel):
    language: str = Field(max_length=8, description=f"one of {', '.join(LANGUAGES)}")


def preferences_router(
    signed_in: Callable[..., Any],
    me: Callable[[Principal], Awaitable[dict[str, Any]]],
) -> APIRouter:
    """The router of the principal's preferences; ``me`` answers as ``GET /me`` does."""
    router = APIRouter(prefix="/api/v1")

    @router.put("/me/language", tags=["auth"], operation_id="setMyLanguage")
    async def set_my_language(
        body: LanguageChoice,
        request: Request,
        who: Annotated[Principal, Depends(signed_in)],
    ) -> dict[str, Any]:
        """Choose the language the console speaks to this principal (en or ru); the
        answer is ``GET /me`` with it."""
        accounts: Accounts = request.app.state.accounts
        await run_in_threadpool(accounts.set_language, who.id, body.language)
        return await me(who)

    return router
