"""The emulator gives concurrent invocations what Lambda execution environments would: a function's module is
loaded once and completely before any invocation runs it, and no per-invocation state is shared."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from local_server.emulator import functions
from local_server.emulator.event_source import sqs_record
from local_server.emulator.functions import LambdaContext, load_handler_module

pytestmark = pytest.mark.integration


def test_concurrent_first_invocations_all_find_the_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(functions, "_loaded", {})
    start = threading.Barrier(8)

    def first_invocation(_: int) -> bool:
        start.wait()
        return callable(getattr(load_handler_module("dead_letters"), "handler", None))

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(first_invocation, range(8)))
    assert len({id(load_handler_module("dead_letters")) for _ in range(3)}) == 1  # loaded once


def record(body: str, message_id: str) -> dict[str, Any]:
    message = {"MessageId": message_id, "ReceiptHandle": message_id, "Body": body, "MD5OfBody": "x"}
    return sqs_record(message, "arn:aws:sqs:us-east-1:123456789012:dlq.fifo")


def test_concurrent_invocations_report_their_own_failures(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_handler_module("dead_letters")

    def record_handler(record: Any) -> None:
        if record.body == "slow failure":
            time.sleep(0.3)
            raise RuntimeError("this delivery failed")
        time.sleep(0.05)

    monkeypatch.setattr(module, "record_handler", record_handler)
    with ThreadPoolExecutor(2) as pool:
        batch = {"Records": [record("fine", "m-0"), record("slow failure", "m-1")]}
        failing = pool.submit(module.handler, batch, LambdaContext())
        time.sleep(0.1)
        fine = pool.submit(module.handler, {"Records": [record("fine", "m-2")]}, LambdaContext())
        assert fine.result() == {"batchItemFailures": []}
        assert failing.result() == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
