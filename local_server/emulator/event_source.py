"""SQS event sources as Lambda runs them: batches of real records, `batchItemFailures`, redrive to the DLQ.

A failed record is not deleted: it becomes visible again after the queue's visibility timeout, and moto's
server moves it to the dead-letter queue after `maxReceiveCount` receives, where the DLQ's own event source
hands it to its function.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from local_server.emulator.functions import REGION, Invokes
from local_server.intrinsics import Resolver

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SqsTrigger:
    """One function's SQS event source, from the template."""

    function_id: str
    queue_id: str
    batch_size: int
    reports_failures: bool
    max_concurrency: int


def sqs_triggers(resolver: Resolver) -> list[SqsTrigger]:
    """Every `Type: SQS` event of the template's functions."""
    triggers = []
    for function_id, resource in resolver.stack.resources("AWS::Serverless::Function").items():
        for source in resource["Properties"].get("Events", {}).values():
            if source["Type"] != "SQS":
                continue
            properties = source["Properties"]
            queue = properties["Queue"]["Fn::GetAtt"]
            queue_id = queue[0] if isinstance(queue, list) else str(queue).split(".", 1)[0]
            scaling = resolver.resolve(properties.get("ScalingConfig", {}))
            triggers.append(
                SqsTrigger(
                    function_id,
                    queue_id,
                    int(properties.get("BatchSize", 10)),
                    "ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
                    int(scaling.get("MaximumConcurrency", 1000)),
                )
            )
    return triggers


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as a Lambda event record."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
            "SenderId": attributes.get("SenderId", "AIDAEXAMPLE"),
            "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", "0"),
            "SequenceNumber": attributes.get("SequenceNumber", "1"),
            "MessageGroupId": attributes.get("MessageGroupId", "group"),
            "MessageDeduplicationId": attributes.get("MessageDeduplicationId", "dedup"),
        },
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def deliver_batch(
    sqs: Any,
    invoker: Invokes,
    trigger: SqsTrigger,
    queue_url: str,
    queue_arn: str,
    messages: list[dict[str, Any]],
) -> int:
    """Invoke the function with one batch; delete what succeeded. Returns how many records failed."""
    records = [sqs_record(message, queue_arn) for message in messages]
    for record in records:
        report_delivery(record, trigger)
    try:
        result = invoker.invoke(trigger.function_id, {"Records": records})
    except Exception:
        logger.exception("%s failed a batch of %d", trigger.function_id, len(records))
        return len(records)
    failed: set[str] = set()
    if trigger.reports_failures and isinstance(result, dict):
        failed = {str(item.get("itemIdentifier")) for item in result.get("batchItemFailures") or []}
    done = [m for m in messages if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
        )
    return len(failed)


DELIVERY_LINE = re.compile(
    r"delivered SQS message (?P<message_id>\S+) from (?P<queue>\w+) to (?P<function>\w+) "
    r"after (?P<ms>\d+) ms in the queue"
)
"""A delivery's line, as `report_delivery` writes it."""


def report_delivery(record: dict[str, Any], trigger: SqsTrigger) -> None:
    """Log a record handed to its function, with its time in the queue (since `SendMessage`, in ms)."""
    queued = max(0, int(time.time() * 1000) - int(record["attributes"]["SentTimestamp"]))
    logger.info(
        "delivered SQS message %s from %s to %s after %d ms in the queue",
        record["messageId"],
        trigger.queue_id,
        trigger.function_id,
        queued,
    )


# While a batch is in flight, its FIFO group's next message becomes visible only when the batch is deleted;
# a long poll on moto's server started before then never sees it (it snapshots the in-flight groups), so the
# poller polls without waiting instead: at once when a batch is done, or after this pause for other groups.
IN_FLIGHT_POLL_SECONDS = 0.05


class SqsPoller:
    """Long-polls one queue and hands batches to its function, at most `max_concurrency` at once.

    As Lambda's event source does, it picks up a FIFO group's next message as soon as it is visible (right
    after the previous one's delete), not at the end of a long poll that started earlier.
    """

    def __init__(self, sqs: Any, invoker: Invokes, trigger: SqsTrigger, queue_url: str, queue_arn: str):
        self.sqs, self.invoker, self.trigger = sqs, invoker, trigger
        self.queue_url, self.queue_arn = queue_url, queue_arn
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(max(1, trigger.max_concurrency))
        self._pool = ThreadPoolExecutor(max_workers=max(1, trigger.max_concurrency))
        self._thread = threading.Thread(target=self._run, name=f"sqs-{trigger.queue_id}", daemon=True)
        self._in_flight = 0
        self._counting = threading.Lock()
        self._delivered = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._slots.acquire()
            self._delivered.clear()
            busy = self._in_flight > 0
            try:
                messages = self.sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=min(self.trigger.batch_size, 10),
                    WaitTimeSeconds=0 if busy else 1,
                    AttributeNames=["All"],
                ).get("Messages", [])
            except Exception:
                logger.exception("polling %s failed", self.trigger.queue_id)
                messages = []
                time.sleep(1)
            if not messages:
                self._slots.release()
                if busy:
                    self._delivered.wait(IN_FLIGHT_POLL_SECONDS)
                continue
            with self._counting:
                self._in_flight += 1
            self._pool.submit(self._deliver, messages)

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        try:
            deliver_batch(self.sqs, self.invoker, self.trigger, self.queue_url, self.queue_arn, messages)
        finally:
            with self._counting:
                self._in_flight -= 1
            self._slots.release()
            self._delivered.set()
