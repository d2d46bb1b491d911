"""The API Gateway sender on an AG-UI connection (moto delivers): one post per event, every run finished."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chat_runtime.agui import AguiCodec
from chat_runtime.aws.sender import MAX_POST_BYTES, ApiGatewaySender
from chat_runtime.protocol import InterruptFrame, StateFrame, TokenFrame
from tests.support.agui_rules import agui_violations
from tests.support.lambdas import REGION, read_frames

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
ENDPOINT = f"https://abc123defg.execute-api.{REGION}.amazonaws.com/dev"


@pytest.fixture
def client(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("apigatewaymanagementapi", endpoint_url=ENDPOINT, region_name=REGION)


def asked(seq: int = 2) -> InterruptFrame:
    return InterruptFrame(
        seq=seq, thread_id="t", interrupt_id="i1", kind="input", question="Name?", value="Name?"
    )


def agui_codec(run_id: str = "r1") -> AguiCodec:
    codec = AguiCodec()
    codec.begin_run("t", run_id)
    return codec


async def test_a_run_ending_in_interrupts_is_finished_when_the_sender_closes_even_without_its_state(
    client: Any,
) -> None:
    async with ApiGatewaySender(client, "a1", codec=agui_codec()) as sink:
        await sink(TokenFrame(seq=1, thread_id="t", content="Hello", agent="greeter"))
        await sink(asked())
    events = read_frames("a1")
    assert [e["type"] for e in events] == [
        "RUN_STARTED",
        "STEP_STARTED",
        "TEXT_MESSAGE_START",
        "TEXT_MESSAGE_CONTENT",
        "TEXT_MESSAGE_END",
        "STEP_FINISHED",
        "CUSTOM",
        "RUN_FINISHED",
    ]
    assert events[-1]["runId"] == "r1" and events[-1]["outcome"]["interrupts"][0]["id"] == "i1"
    assert sink.stats.frames_posted == 2 and sink.stats.calls == 8  # one post per event


async def test_snapshots_over_the_message_limit_are_dropped_and_the_run_still_finishes(client: Any) -> None:
    huge = [{"id": f"m{n}", "role": "user", "content": "x" * 1000} for n in range(200)]
    state = StateFrame(thread_id="t", state="awaiting_approval", messages=huge, values={"step": 1})
    async with ApiGatewaySender(client, "a2", codec=agui_codec()) as sink:
        await sink(asked(1))
        await sink(state)
    events = read_frames("a2")
    assert [e["type"] for e in events] == ["RUN_STARTED", "STATE_SNAPSHOT", "CUSTOM", "RUN_FINISHED"]
    assert sink.stats.dropped == 1
    assert [problem.split(": ", 1)[1] for problem in agui_violations(events)] == [
        "an interrupt's RUN_FINISHED without both snapshots before it"  # the one the limit took
    ]


async def test_a_state_frame_over_the_frame_limit_but_within_the_message_limit_is_delivered(
    client: Any,
) -> None:
    """A `state` is no turn frame: only API Gateway's 128 KB message limit holds for it (it was dropped
    over 32 KB, which an AG-UI run's snapshots need to pass)."""
    messages = [{"id": f"m{n}", "role": "user", "content": "x" * 1000} for n in range(60)]
    state = StateFrame(thread_id="t", state="idle", messages=messages)
    async with ApiGatewaySender(client, "a3") as sink:
        await sink(state)
    [delivered] = read_frames("a3")
    assert delivered["type"] == "state" and len(delivered["messages"]) == 60
    assert 32 * 1024 < len(state.model_dump_json()) < MAX_POST_BYTES
