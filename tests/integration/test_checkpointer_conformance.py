"""LangGraph's checkpointer conformance suite (`langgraph-checkpoint-conformance`) on the savers we run.

`DynamoDBThreadSaver` alone and as the AWS worker runs it (`OwnerScopedSaver` around `LatestCheckpoints`
around it, under moto), and the local server's (`OwnerScopedSaver` around `InMemorySaver`). Version 0.0.2 has
no delta-channel capability; it tests put, put_writes, get_tuple, list and delete_thread, and reports the
optional ones (delete_for_runs, copy_thread, prune) as not detected when a saver lacks them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import BASE_CAPABILITIES
from langgraph.checkpoint.memory import InMemorySaver

from chat_runtime.checkpoint_cache import LatestCheckpoints
from chat_runtime.checkpoints import OwnerScopedSaver

pytestmark = pytest.mark.integration
REGION = "us-east-1"


@pytest.fixture
def moto_dynamodb(stack_tables: dict[str, str]) -> str:
    return stack_tables["CheckpointsTable"]


def passed(report: Any) -> dict[str, Any]:
    """Each capability's outcome, with the failures' messages when it failed."""
    return {
        name: result.passed if result.passed is not False else result.failures
        for name, result in report.results.items()
    }


def check(report: Any) -> None:
    outcomes = passed(report)
    for capability in BASE_CAPABILITIES:
        assert outcomes[capability.value] is True, (capability.value, outcomes[capability.value])
    assert all(outcome in (True, None) for outcome in outcomes.values()), outcomes


def test_the_thread_saver_passes_the_conformance_suite(moto_dynamodb: str) -> None:
    from chat_runtime.aws.thread_saver import thread_saver

    @checkpointer_test(name="DynamoDBThreadSaver")
    async def saver() -> AsyncGenerator[Any, None]:
        yield thread_saver(moto_dynamodb)

    check(asyncio.run(validate(saver)))


def test_the_aws_workers_saver_passes_the_conformance_suite(moto_dynamodb: str) -> None:
    from chat_runtime.aws.thread_saver import thread_saver

    @checkpointer_test(name="OwnerScopedSaver(LatestCheckpoints(DynamoDBThreadSaver))")
    async def saver() -> AsyncGenerator[Any, None]:
        yield OwnerScopedSaver(LatestCheckpoints(thread_saver(moto_dynamodb), delta_channels=("messages",)))

    check(asyncio.run(validate(saver)))


def test_the_local_servers_saver_passes_the_conformance_suite() -> None:
    @checkpointer_test(name="OwnerScopedSaver(InMemorySaver)")
    async def saver() -> AsyncGenerator[Any, None]:
        yield OwnerScopedSaver(InMemorySaver())

    check(asyncio.run(validate(saver)))
