"""`GET /api/health` on the HTTP API: the same Starlette route as the local server, through mangum.

The HTTP API has a named stage, so payload 2.0 events carry `rawPath` `/{stage}/api/health`: mangum strips
`API_BASE_PATH` (`/{stage}`, set by the template) before routing.
"""

import os

from mangum import Mangum

from chat_runtime.http import create_health_app

handler = Mangum(
    create_health_app(), lifespan="off", api_gateway_base_path=os.environ.get("API_BASE_PATH", "/")
)
