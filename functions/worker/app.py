"""The agent worker: runs turns queued on the SQS FIFO queue, one thread's turns in order, each once
(`chat_runtime.aws.job_runner.make_job_runner` says why no idempotency record is needed).

With SnapStart the graph, the saver and the clients are built during init, so the snapshot holds them and a
new worker restores them instead of importing LangGraph and compiling the graph (docs/performance.md).
"""

import os
import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chat_runtime.aws.job_runner import default_job_runner
from chat_runtime.aws.worker import default_worker_deps
from chat_runtime.model_keys import load_model_api_key

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"chat_runtime", "support_agent"})
tracer = Tracer()
metrics = Metrics()
load_model_api_key()  # before the model is built (with SnapStart: before the snapshot; rotate by redeploying)
if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
    default_worker_deps()


@tracer.capture_method
def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    logger.append_keys(message_group=record.attributes.message_group_id)
    # The attempt cannot outlive its invocation: the turn's lease ends at the invocation's deadline.
    deadline = time.time() + lambda_context.get_remaining_time_in_millis() / 1000
    first_delivery = record.attributes.approximate_receive_count == "1"
    default_job_runner(metrics)(record.body, deadline, first_delivery)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event,
        record_handler=record_handler,
        processor=SqsFifoPartialProcessor(),  # per invocation: a processor holds one batch's results
        context=context,
    )
