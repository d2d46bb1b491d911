"""Dead letters: turns that failed every delivery get an `error` frame, and their thread is freed.

A record that is not a job (the dead-letter queue has no redrive of its own) is logged, counted and dropped.
"""

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from chat_runtime.aws.dead_letters import report_dead_letter
from chat_runtime.aws.dynamodb_sessions import DynamoDBSessionManager
from chat_runtime.aws.frame_log import DynamoDBFrameLog
from chat_runtime.aws.gateway import WORKER, client_config
from chat_runtime.aws.jobs import TurnJob
from chat_runtime.aws.settings import AwsSettings

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"chat_runtime", "support_agent"})
metrics = Metrics()


@cache
def stores() -> tuple[DynamoDBSessionManager, DynamoDBFrameLog]:
    import boto3

    settings = AwsSettings.from_environment()
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=settings.dynamodb_endpoint_url, config=client_config(WORKER)
    )
    return (
        DynamoDBSessionManager(settings.sessions_table, settings.session_ttl_seconds, client=dynamodb),
        DynamoDBFrameLog(settings.frames_table, client=dynamodb),
    )


def record_handler(record: SQSRecord) -> None:
    try:
        job = TurnJob.model_validate_json(record.body)
    except ValidationError as error:
        logger.error("dropped a dead letter that is not a job", extra={"error": str(error)[:500]})
        metrics.add_metric(name="DeadLettersDropped", unit=MetricUnit.Count, value=1)
        return
    report_dead_letter(job, *stores())


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event,
        record_handler=record_handler,
        processor=SqsFifoPartialProcessor(),  # per invocation: a processor holds one batch's results
        context=context,
    )
