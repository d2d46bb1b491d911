"""`GET /api/health` on the HTTP API: the same Starlette route as the local server, through mangum."""

from chat_runtime.http import create_health_app
from mangum import Mangum

handler = Mangum(create_health_app(), lifespan="off")
