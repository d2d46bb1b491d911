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


class SlowTurns:
    """A stand-in worker whose invocations take `seconds`; records when each one started and ended."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.spans: list[tuple[str, float, float]] = []

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        started = time.monotonic()
        time.sleep(self.seconds)
        self.spans.append((event["Records"][0]["body"], started, time.monotonic()))
        return {"batchItemFailures": []}


def test_a_fifo_groups_next_message_reaches_the_worker_right_after_the_previous_turn(
    moto_server: MotoServer,
) -> None:
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stack = create_stack(session, "follow", endpoint_url=moto_server.url)
    trigger = next(t for t in sqs_triggers(Resolver(stack)) if t.queue_id == "TurnQueue")
    assert trigger.max_concurrency > 1  # other threads' turns may run meanwhile: the poller keeps polling
    sqs = session.client("sqs", endpoint_url=moto_server.url)
    url = stack.queue_urls["TurnQueue"]
    worker = SlowTurns(0.3)
    poller = SqsPoller(sqs, worker, trigger, url, stack.queue_arns["TurnQueue"])
    poller.start()
    try:
        for index in range(3):
            sqs.send_message(  # one thread's turns: a follow-up sent while the previous turn runs
                QueueUrl=url,
                MessageBody=str(index),
                MessageGroupId="thread",
                MessageDeduplicationId=str(index),
            )
            time.sleep(0.1)
        deadline = time.monotonic() + 10
        while len(worker.spans) < 3:
            assert time.monotonic() < deadline, worker.spans
            time.sleep(0.02)
    finally:
        poller.stop()
    assert [body for body, _, _ in worker.spans] == ["0", "1", "2"]
    waits = [later[1] - earlier[2] for earlier, later in zip(worker.spans, worker.spans[1:], strict=False)]
    assert max(waits) < 0.1, waits  # on AWS: as soon as the previous message is deleted
