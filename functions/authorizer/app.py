"""`$connect` authorizer: a JWT in `?token=` (HS256 secret from SSM, or RS256 from a JWKS URL)."""

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from chat_runtime.auth import TokenVerifier
from chat_runtime.aws.authorizer import authorize

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"chat_runtime"})


@cache
def verifier() -> TokenVerifier | None:
    return TokenVerifier.from_environment()


@logger.inject_lambda_context(correlation_id_path="requestContext.connectionId")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return authorize(event, verifier())
