"""The emulator's SQS event source on moto's server: failed records stay for redelivery, the rest are deleted,
and the dead-letter queue's function gets what the turn queue gave up on."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest

from local_server.emulator.event_source import SqsPoller, SqsTrigger, deliver_batch, sqs_triggers
from local_server.emulator.stack import MotoServer
from local_server.intrinsics import Resolver
from local_server.stack import create_stack

pytestmark = pytest.mark.integration


class Recorder:
    """A stand-in function: records its events; reports the records named in `fail` as failed."""

    def __init__(self, fail: set[str] | None = None) -> None:
        self.fail = fail or set()
        self.events: list[dict[str, Any]] = []

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        self.events.append(event)
        failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] in self.fail]
        return {"batchItemFailures": failures}


def counts(sqs: Any, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_failed_records_are_kept_and_the_dead_letter_function_is_invoked(moto_server: MotoServer) -> None:
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stack = create_stack(session, "sqs", endpoint_url=moto_server.url)
    triggers = {t.queue_id: t for t in sqs_triggers(Resolver(stack))}
    assert triggers["TurnQueue"] == SqsTrigger("AgentWorkerFunction", "TurnQueue", 1, True, 20)
    assert triggers["TurnDeadLetterQueue"].function_id == "DeadLetterFunction"
    sqs = session.client("sqs", endpoint_url=moto_server.url)
    turns, dead = stack.queue_urls["TurnQueue"], stack.queue_urls["TurnDeadLetterQueue"]
    for body in ("ok", "bad"):
        sqs.send_message(QueueUrl=turns, MessageBody=body, MessageGroupId=body, MessageDeduplicationId=body)
    worker = Recorder(fail={"bad"})
    for _ in range(2):
        messages = sqs.receive_message(QueueUrl=turns, MaxNumberOfMessages=1, AttributeNames=["All"])[
            "Messages"
        ]
        failed = deliver_batch(
            sqs, worker, triggers["TurnQueue"], turns, stack.queue_arns["TurnQueue"], messages
        )
        assert failed == (1 if messages[0]["Body"] == "bad" else 0)
    assert counts(sqs, turns) == (0, 1)  # "ok" deleted; "bad" waits for its visibility timeout
    record = worker.events[0]["Records"][0]
    assert record["eventSource"] == "aws:sqs" and record["attributes"]["MessageGroupId"] in ("ok", "bad")

    sqs.send_message(QueueUrl=dead, MessageBody="gave up", MessageGroupId="g", MessageDeduplicationId="d")
    dead_letters = Recorder()
    poller = SqsPoller(
        sqs, dead_letters, triggers["TurnDeadLetterQueue"], dead, stack.queue_arns["TurnDeadLetterQueue"]
    )
    poller.start()
    try:
        deadline = time.monotonic() + 10
        while not dead_letters.events:
            assert time.monotonic() < deadline, "the dead-letter function was not invoked"
            time.sleep(0.05)
    finally:
        poller.stop()
    assert dead_letters.events[0]["Records"][0]["body"] == "gave up"
    assert counts(sqs, dead) == (0, 0)
