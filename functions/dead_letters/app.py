"""Dead letters: turns that failed every delivery get an `error` frame, and their thread is freed."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chat_runtime.aws.dead_letters import report_dead_letter
from chat_runtime.aws.jobs import TurnJob

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"chat_runtime", "support_agent"})


def record_handler(record: SQSRecord) -> None:
    report_dead_letter(TurnJob.model_validate_json(record.body))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event,
        record_handler=record_handler,
        processor=SqsFifoPartialProcessor(),  # per invocation: a processor holds one batch's results
        context=context,
    )
