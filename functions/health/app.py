"""`GET /api/health` on the HTTP API: the same Starlette route as the local server, through mangum."""

from mangum import Mangum

from chat_runtime.http import create_health_app

handler = Mangum(create_health_app(), lifespan="off")
