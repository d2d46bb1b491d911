"""The API Gateway sender against real botocore clients: moto for delivery, Stubber for throttling and 410."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from chat_runtime.aws.sender import ApiGatewaySender
from chat_runtime.protocol import (
    MAX_FRAME_BYTES,
    MessageCompleteFrame,
    TokenFrame,
    ToolCallFrame,
    encode_frame,
)
from tests.support.lambdas import REGION, read_frames

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
ENDPOINT = f"https://abc123defg.execute-api.{REGION}.amazonaws.com/dev"


@pytest.fixture
def client(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("apigatewaymanagementapi", endpoint_url=ENDPOINT, region_name=REGION)


def with_latency(client: Any, seconds: float) -> None:
    """Every post_to_connection takes `seconds` longer, as a slow network would."""
    client.meta.events.register(
        "before-send.apigatewaymanagementapi.PostToConnection", lambda **_: time.sleep(seconds)
    )


def token(content: str, agent: str = "order_info") -> TokenFrame:
    return TokenFrame(thread_id="t", content=content, agent=agent)


async def test_one_call_per_frame_while_it_keeps_up(client: Any) -> None:
    client.post_to_connection(ConnectionId="warm-up", Data=b"{}")  # a cold client's first call is slow
    async with ApiGatewaySender(client, "c1") as sink:
        for n in range(5):
            await sink(token(f"w{n} "))
            await asyncio.sleep(0.2)  # slower than a moto round trip
        await sink(MessageCompleteFrame(thread_id="t"))
    assert [f.get("content") for f in read_frames("c1")] == ["w0 ", "w1 ", "w2 ", "w3 ", "w4 ", None]
    assert sink.stats.calls == 6


async def test_tokens_merge_when_the_sender_falls_behind(client: Any) -> None:
    with_latency(client, 0.03)
    words = [f"word{n} " for n in range(100)]
    async with ApiGatewaySender(client, "c2") as sink:
        await sink(
            ToolCallFrame(thread_id="t", tool="get_order_status", args={"order_id": "1"}, agent="order_info")
        )
        for word in words[:50]:
            await sink(token(word))
            await asyncio.sleep(0.002)
        for word in words[50:]:
            await sink(token(word, agent="order_actions"))
            await asyncio.sleep(0.002)
        await sink(MessageCompleteFrame(thread_id="t"))
    frames = read_frames("c2")
    assert frames[0]["type"] == "tool_call" and frames[-1]["type"] == "message_complete"
    tokens = [f for f in frames if f["type"] == "token"]
    assert "".join(f["content"] for f in tokens if f["agent"] == "order_info") == "".join(words[:50])
    assert "".join(f["content"] for f in tokens if f["agent"] == "order_actions") == "".join(words[50:])
    assert sink.stats.calls < 30, sink.stats
    assert sink.stats.frames_queued == 102


async def test_frames_stay_under_the_frame_limit(client: Any) -> None:
    with_latency(client, 0.01)
    big = "é" * 40_000  # 80 KB of UTF-8 in one token
    async with ApiGatewaySender(client, "c3") as sink:
        await sink(token(big))
        for _ in range(200):
            await sink(token("abcdefghij" * 20))
        await sink(ToolCallFrame(thread_id="t", tool="x", args={"blob": "y" * 40_000}, agent="a"))
    frames = read_frames("c3")
    assert all(len(encode_frame_dict(f)) <= MAX_FRAME_BYTES for f in frames)
    assert "".join(f["content"] for f in frames if f["type"] == "token") == big + "abcdefghij" * 4000
    assert frames[-1]["args"] == {"truncated": True}


def encode_frame_dict(frame: dict[str, Any]) -> bytes:
    kinds = {"token": TokenFrame, "tool_call": ToolCallFrame}
    return encode_frame(kinds[frame["type"]](**frame)).encode()


async def test_throttling_is_retried_with_backoff() -> None:
    client = boto3.client("apigatewaymanagementapi", endpoint_url=ENDPOINT, region_name=REGION)
    delays: list[float] = []

    async def no_wait(seconds: float) -> None:
        delays.append(seconds)

    with Stubber(client) as stub:
        stub.add_client_error("post_to_connection", "LimitExceededException", http_status_code=429)
        stub.add_client_error("post_to_connection", "LimitExceededException", http_status_code=429)
        stub.add_response("post_to_connection", {})
        async with ApiGatewaySender(client, "c4", sleep=no_wait) as sink:
            await sink(token("hello"))
        stub.assert_no_pending_responses()
    assert (sink.stats.retries, sink.stats.frames_posted, sink.stats.dropped) == (2, 1, 0)
    assert len(delays) == 2 and delays[1] > delays[0] / 2


async def test_gone_stops_sending_and_marks_the_connection() -> None:
    client = boto3.client("apigatewaymanagementapi", endpoint_url=ENDPOINT, region_name=REGION)
    marked: list[str] = []
    with Stubber(client) as stub:
        stub.add_response("post_to_connection", {})
        stub.add_client_error("post_to_connection", "GoneException", http_status_code=410)
        async with ApiGatewaySender(client, "c5", on_gone=lambda: marked.append("c5")) as sink:
            await sink(token("one"))
            await asyncio.sleep(0.01)
            await sink(ToolCallFrame(thread_id="t", tool="x", args={}, agent="a"))
            await asyncio.sleep(0.01)
            for n in range(10):
                await sink(token(f"after {n}"))  # Stubber fails the test on any further call
        stub.assert_no_pending_responses()
    assert sink.stats.gone and marked == ["c5"]
    assert sink.stats.calls == 2 and sink.stats.frames_posted == 1


async def test_a_fast_stream_is_paced_and_the_turn_end_is_flushed_at_once(client: Any) -> None:
    loop = asyncio.get_running_loop()
    async with ApiGatewaySender(client, "c6", min_interval=0.05) as sink:
        for n in range(100):
            await sink(token(f"t{n} "))
            await asyncio.sleep(0.002)
        ended = loop.time()
        await sink(MessageCompleteFrame(thread_id="t"))
        for _ in range(1000):  # poll moto's backend until the closing frame is there
            if sink.stats.frames_posted and read_frames("c6")[-1]["type"] == "message_complete":
                break
            await asyncio.sleep(0.001)
        flushed = loop.time() - ended
    assert "".join(f.get("content", "") for f in read_frames("c6")) == "".join(f"t{n} " for n in range(100))
    assert sink.stats.calls <= 12, sink.stats  # about one post per 50 ms window instead of 100
    assert flushed < 0.1


async def test_after_a_resume_only_frames_past_the_replay_go_to_the_follower(client: Any) -> None:
    from botocore.exceptions import ClientError

    from chat_runtime.aws.dynamodb_sessions import Follower

    follower: list[Follower | None] = [None]

    class Dropped:
        """The management API, where connection `old` has closed (moto never answers 410)."""

        def post_to_connection(self, ConnectionId: str, Data: bytes) -> Any:
            if ConnectionId == "old":
                error = {"Error": {"Code": "GoneException"}, "ResponseMetadata": {"HTTPStatusCode": 410}}
                raise ClientError(error, "PostToConnection")
            return client.post_to_connection(ConnectionId=ConnectionId, Data=Data)

    async def replay_done_later() -> None:
        await asyncio.sleep(0.3)
        follower[0] = Follower("new", caught_up_to=4)  # the route handler replayed seq 1..4 from the log

    async with ApiGatewaySender(Dropped(), "old", follower=lambda: follower[0]) as sink:
        for seq in range(1, 5):
            await sink(token(f"w{seq} ").model_copy(update={"seq": seq}))
            await asyncio.sleep(0.06)
        follower[0] = Follower("new", caught_up_to=None)  # resumed; the replay is being sent
        await sink(token("w5 ").model_copy(update={"seq": 5}))
        await asyncio.sleep(0.06)
        done = asyncio.create_task(replay_done_later())
        await sink(MessageCompleteFrame(thread_id="t", seq=6))  # the sender closes before the replay ends
    await done
    assert [(f["seq"], f.get("content")) for f in read_frames("new")] == [(5, "w5 "), (6, None)]


async def test_a_first_frame_posted_before_it_was_logged_reaches_a_client_whose_replay_missed_it(
    client: Any,
) -> None:
    """The first post reached the old connection just before it closed; the client resumed on a new one
    while that frame was not yet in the log, so its replay lacked it: the sender sends it there."""
    from botocore.exceptions import ClientError

    from chat_runtime.aws.dynamodb_sessions import Follower

    logged: list[list[int]] = []
    closed = [False]

    class ClosingAfterTheFirstPost:
        def post_to_connection(self, ConnectionId: str, Data: bytes) -> Any:
            if ConnectionId == "old" and closed[0]:
                error = {"Error": {"Code": "GoneException"}, "ResponseMetadata": {"HTTPStatusCode": 410}}
                raise ClientError(error, "PostToConnection")
            closed[0] = ConnectionId == "old"
            return client.post_to_connection(ConnectionId=ConnectionId, Data=Data)

    async with ApiGatewaySender(
        ClosingAfterTheFirstPost(),
        "old",
        record=lambda frames: logged.append([f.seq or 0 for f in frames]),
        follower=lambda: Follower("new", caught_up_to=0),  # its replay held nothing of this turn
        post_first_then_log=True,
    ) as sink:
        await sink(ToolCallFrame(thread_id="t", tool="t", args={}, agent="a", call_id="c", seq=1))
        await asyncio.sleep(0.1)
        assert logged == []  # posted, not yet logged
        await sink(token("w2 ").model_copy(update={"seq": 2}))
        await sink(MessageCompleteFrame(thread_id="t", seq=3))
    assert [f["seq"] for f in read_frames("old")] == [1]
    assert [f["seq"] for f in read_frames("new")] == [1, 2, 3]
    assert sorted(seq for batch in logged for seq in batch) == [1, 2, 3]  # every frame logged in the end


async def test_time_spent_posting_and_logging_is_counted(client: Any) -> None:
    with_latency(client, 0.05)

    def slow_log(frames: list[Any]) -> None:
        time.sleep(0.03)

    async with ApiGatewaySender(client, "c-timed", record=slow_log) as sink:
        await sink(token("a "))
        await sink(MessageCompleteFrame(thread_id="t"))
    posts = sink.stats.calls
    assert posts >= 1
    assert 0.05 * posts <= sink.stats.post_seconds < 0.05 * posts + 1.0
    assert 0.03 <= sink.stats.log_seconds < sink.stats.post_seconds + 1.0
