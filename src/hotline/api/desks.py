"""The routers of the desks' operations, mounted by :func:`hotline.api.app.create_api`:
notifications of intent, the watch roster, relayed messages, a line's record, exercise
reports and the translator's queue."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from starlette.routing import BaseRoute

from hotline.api.access import Access
from hotline.api.notices import notices_router
from hotline.api.record import record_router
from hotline.api.relays import relays_router
from hotline.api.reports import reports_router
from hotline.api.translation_queue import translation_queue_router
from hotline.api.watch import watch_router

if TYPE_CHECKING:
    from hotline.app import Node

__all__ = ["Access", "desk_routers", "desk_routes"]


def desk_routers(node: "Node", signed_in: Callable[..., Any], access: Access) -> list[APIRouter]:
    """One router per desk area, each under /api/v1."""
    return [
        notices_router(node, signed_in, access),
        watch_router(node, signed_in, access),
        relays_router(node, signed_in, access),
        record_router(node, signed_in, access),
        reports_router(node, signed_in, access),
        translation_queue_router(node, signed_in, access),
    ]


def desk_routes(routers: list[APIRouter]) -> list[BaseRoute]:
    """Their routes, for the OpenAPI document."""
    return [route for router in routers for route in router.routes]
