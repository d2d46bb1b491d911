"""`$connect`: record the connection and its customer."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from chat_runtime.aws.routes import default_route_deps, on_connect

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"chat_runtime", "support_agent"})


@logger.inject_lambda_context(correlation_id_path="requestContext.connectionId")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return on_connect(event, default_route_deps())
