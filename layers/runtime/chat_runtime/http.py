"""The HTTP side: `GET /api/health`, served by the local server and, through mangum, by a Lambda."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def health(_: Request) -> JSONResponse:
    """The service is up."""
    return JSONResponse({"status": "ok"})


HEALTH_ROUTE = Route("/api/health", health, methods=["GET"])


def create_health_app() -> Starlette:
    """A Starlette app with only the health route (the HTTP API's Lambda)."""
    return Starlette(routes=[HEALTH_ROUTE])
