"""The agent worker: runs turns queued on the SQS FIFO queue, one thread's turns in order."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from chat_runtime.aws.worker import run_record

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"chat_runtime", "support_agent"})
tracer = Tracer()
metrics = Metrics()
processor = SqsFifoPartialProcessor()


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    logger.append_keys(thread_id=record.attributes.message_group_id)
    run_record(record.body, metrics)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
