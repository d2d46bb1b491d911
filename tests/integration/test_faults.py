"""Faults, each a test: DynamoDB throttling, a model failing mid-stream, a worker killed mid-turn."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGenerationChunk
from langgraph.checkpoint.memory import InMemorySaver

from chat_runtime.admission import NewMessage
from chat_runtime.auth import thread_key
from chat_runtime.aws import routes, worker
from chat_runtime.aws.jobs import TurnJob
from chat_runtime.engine import run_turn
from chat_runtime.protocol import InterruptResponseFrame, ServerFrame
from support_agent.graph import build_support_graph
from support_agent.models.offline import OfflineSupportModel
from support_agent.orders.store import InMemoryOrderStore
from tests.support.lambdas import Deployment

pytestmark = pytest.mark.integration


def throttle(client: Any, times: int) -> list[int]:
    """Answer the next `times` DynamoDB requests of `client` with ProvisionedThroughputExceededException."""
    seen = [0]

    def respond(request: Any, **_: Any) -> AWSResponse | None:
        if seen[0] >= times:
            return None
        seen[0] += 1
        body = json.dumps(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                "message": "slow down",
            }
        ).encode()
        raw = type("Raw", (), {"stream": lambda self, **_: iter([body])})()
        return AWSResponse(
            request.url, 400, {"x-amzn-errortype": "ProvisionedThroughputExceededException"}, raw
        )

    client.meta.events.register("before-send.dynamodb", respond)
    return seen


def test_throttling_is_retried_then_reported_clearly(deployment: Deployment) -> None:
    connection = deployment.connect()
    deps = routes.default_route_deps()
    client = deps.sessions._client
    attempts = throttle(client, 2)
    frames = deployment.turn(
        connection, {"type": "message", "thread_id": "f-1", "content": "Where is order 1042?"}
    )
    assert attempts[0] == 2 and frames[-1]["type"] == "message_complete"  # retried, then it went through

    calls: list[str] = []
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    attempts = throttle(client, 10)
    assert deployment.send(connection, {"type": "message", "thread_id": "f-1", "content": "again"}) == {
        "statusCode": 200
    }
    [busy] = deployment.new_frames(connection)
    assert busy["code"] == "service_busy" and "try again" in busy["message"]
    # The frame's count (connections) and the session read go at once; three attempts, then the answer, in
    # the connection's protocol: the count failed, so the connection is read for it (our own if that fails).
    assert sorted(calls) == ["GetItem", "GetItem", "UpdateItem"] and 3 <= attempts[0] <= 9, (calls, attempts)
    assert deployment.queued() == 0


class FailingMidStream(OfflineSupportModel):
    """Streams the start of a tool call, then the provider fails."""

    def _stream(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        if "order_info" in str(self.bound_tools) or "get_order_status" in self.bound_tools:
            chunk = AIMessageChunk(
                content="Let me check",
                tool_call_chunks=[{"name": "get_order_status", "args": '{"order_', "id": "c1", "index": 0}],
            )
            yield ChatGenerationChunk(message=chunk)
            raise ConnectionError("provider went away")
        yield from super()._stream(messages, *args, **kwargs)


@pytest.mark.anyio
async def test_a_model_failing_mid_stream_leaves_no_orphaned_tool_call() -> None:
    saver = InMemorySaver()
    graph = build_support_graph(FailingMidStream(), InMemoryOrderStore.with_demo_data(), saver)
    frames: list[ServerFrame] = []

    async def sink(frame: ServerFrame) -> None:
        frames.append(frame)

    await run_turn(
        graph, "m", NewMessage("Where is order 1042?"), sink, configurable={"customer_id": "demo-customer"}
    )
    assert [f.type for f in frames] == ["token", "error"] and frames[-1].code == "agent_error"  # type: ignore[union-attr]
    state = await graph.aget_state({"configurable": {"thread_id": "m"}})
    messages: Sequence[BaseMessage] = state.values["messages"]
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    calls = [c["id"] for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
    assert set(calls) <= answered  # no tool call without its result in the checkpoint

    healthy = build_support_graph(OfflineSupportModel(), InMemoryOrderStore.with_demo_data(), saver)
    frames.clear()
    await run_turn(healthy, "m", NewMessage("hello"), sink, configurable={"customer_id": "demo-customer"})
    assert frames[-1].type == "message_complete"


class WorkerKilled(BaseException):
    """Stands for the Lambda sandbox dying: nothing in the worker catches it."""


def test_a_worker_killed_between_checkpoint_writes_is_redone_without_a_second_action(
    deployment: Deployment,
) -> None:
    connection = deployment.connect()
    interrupt = deployment.turn(
        connection, {"type": "message", "thread_id": "k", "content": "Refund order 1044"}
    )[-1]
    deps = worker.default_worker_deps()
    healthy_graph = deps.runner.graph
    original_reply = OfflineSupportModel.reply

    def dies_after_the_tool_ran(self: OfflineSupportModel, messages: Sequence[BaseMessage]) -> AIMessage:
        if isinstance(messages[-1], ToolMessage) and messages[-1].name == "request_refund":
            raise WorkerKilled
        return original_reply(self, messages)

    job = TurnJob(
        frame=InterruptResponseFrame(
            type="interrupt_response", thread_id="k", approved=True, interrupt_id=interrupt["interrupt_id"]
        ),
        thread_id="k",
        connection_id=connection,
        endpoint_url="https://abc123defg.execute-api.us-east-1.amazonaws.com/dev",
        customer_id="demo-customer",
        owner="user-123",
        request_id="killed-once",
    )

    def dead(*_: Any, **__: Any) -> Any:
        raise WorkerKilled  # a dead sandbox writes nothing more, not even LangGraph's save on exit

    saver = deps.checkpointer
    OfflineSupportModel.reply = dies_after_the_tool_ran  # type: ignore[method-assign]
    for name in ("put", "put_writes", "aput", "aput_writes"):
        setattr(saver, name, dead)
    try:
        with pytest.raises(WorkerKilled):
            asyncio.run(worker.process_job(job, deps))
    finally:
        OfflineSupportModel.reply = original_reply  # type: ignore[method-assign]
        for name in ("put", "put_writes", "aput", "aput_writes"):
            delattr(saver, name)
    assert deps.runner.sessions.get_state(thread_key("k", "user-123")).status == "running"  # type: ignore[union-attr]

    report = asyncio.run(worker.process_job(job, deps))  # SQS delivers the job again
    assert report.outcome is not None and report.outcome.status == "completed"
    assert deps.runner.graph is healthy_graph
    import boto3

    table = deployment.stack.names["OrdersTable"]
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"order_id": {"S": "1044"}})["Item"]
    assert item["refund_status"] == {"S": "requested"} and len(item["applied_actions"]["SS"]) == 1
    assert "has been requested" in "".join(f.get("content", "") for f in deployment.new_frames(connection))
