"""`DeltaChannel` (langgraph 1.2.22, beta) under moto: what a turn writes and reads, on each saver.

A one-node graph whose `messages` channel gains a human message and a 350-character answer a turn, with
LangGraph's `add_messages` and with `DeltaChannel` (the same reducer over a batch of writes), on
`DynamoDBSaver` (langgraph-checkpoint-aws, compressed; the baseline) and on ours, `DynamoDBThreadSaver`,
`durability="exit"` as the worker runs it. Per turn: DynamoDB requests of the run, KB written, requests to
read the state afterwards, and the number of messages the state holds (the check that `DeltaChannel`
rebuilds it). Every DynamoDB call is counted at botocore's `_make_api_call`.
Run: `python -m bench.delta_channel [--quick]` (`--quick`: 5 turns).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, TypedDict

import boto3
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.channels.delta import DeltaChannel
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from moto import mock_aws

from bench.common import quick, table
from tests.support.aws_calls import is_dynamodb, watching_calls

TURNS, QUICK_TURNS = 50, 5
SHOWN = (1, 2, 5, 10, 20, 30, 40, 49, 50)
ANSWER = "Order 1042 shipped on Monday and arrives on Thursday. " * 6
REGION = "us-east-1"


def batched(state: list[AnyMessage], writes: Sequence[Any]) -> list[AnyMessage]:
    """`add_messages` over a batch of writes, as `DeltaChannel` calls its reducer."""
    return functools.reduce(add_messages, writes, state)  # type: ignore[arg-type]


class Plain(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


class Delta(TypedDict):
    messages: Annotated[list[AnyMessage], DeltaChannel(batched)]


@contextlib.contextmanager
def counting(counts: dict[str, float]) -> Iterator[None]:
    """Count DynamoDB requests and the bytes of what they write while the block runs."""

    def counted(client: Any, operation: str, params: dict[str, Any]) -> None:
        if is_dynamodb(client):
            counts["requests"] += 1
            if operation in ("PutItem", "BatchWriteItem", "UpdateItem"):
                item = params.get("Item") or params.get("RequestItems") or {}
                counts["bytes"] += len(json.dumps(item, default=str))

    with watching_calls(counted):
        yield


def build(state_type: Any, saver: Any) -> Any:
    def reply(state: Any) -> dict[str, Any]:
        return {"messages": [AIMessage(content=ANSWER + str(len(state["messages"])))]}

    graph = StateGraph(state_type)
    graph.add_node("reply", reply)
    graph.add_edge(START, "reply")
    graph.add_edge("reply", END)
    return graph.compile(checkpointer=saver)


def library_saver(table: str) -> Any:
    from langgraph_checkpoint_aws import DynamoDBSaver

    return DynamoDBSaver(table_name=table, region_name=REGION, enable_checkpoint_compression=True)


def our_saver(table: str) -> Any:
    from chat_runtime.aws.thread_saver import thread_saver

    return thread_saver(table)


SAVERS = {"DynamoDBSaver": library_saver, "DynamoDBThreadSaver": our_saver}


async def measure(state_type: Any, saver_name: str, turns: int) -> list[tuple[int, int, float, int, int]]:
    """Per turn: run requests, KB written, state-read requests, messages in the state."""
    from local_server.stack import create_stack

    rows = []
    with mock_aws():
        stack = create_stack(boto3.Session(region_name=REGION), "delta")
        saver = SAVERS[saver_name](stack.names["CheckpointsTable"])
        graph = build(state_type, saver)
        config = {"configurable": {"thread_id": "t"}}
        for turn in range(1, turns + 1):
            run = {"requests": 0.0, "bytes": 0.0}
            with counting(run):
                question = {"messages": [HumanMessage(content=f"Question {turn}: where is my order?")]}
                async for _ in graph.astream(question, config, durability="exit"):
                    pass
            read = {"requests": 0.0, "bytes": 0.0}
            with counting(read):
                state = await graph.aget_state(config)
            messages = len(state.values.get("messages", []))
            rows.append((turn, int(run["requests"]), run["bytes"] / 1024, int(read["requests"]), messages))
    return rows


def main() -> None:
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    turns = QUICK_TURNS if quick() else TURNS
    runs = (
        ("add_messages", Plain, "DynamoDBSaver"),
        ("DeltaChannel", Delta, "DynamoDBSaver"),
        ("add_messages", Plain, "DynamoDBThreadSaver"),
        ("DeltaChannel", Delta, "DynamoDBThreadSaver"),
    )
    for name, state_type, saver_name in runs:
        rows = asyncio.run(measure(state_type, saver_name, turns))
        assert all(messages == 2 * turn for turn, *_, messages in rows), rows  # the state is whole
        print(
            table(
                f"{name} on {saver_name}, durability=exit, turns 1..{turns}",
                ["turn", "requests (run)", "KB written", "requests (read state)", "messages"],
                [row for row in rows if row[0] in SHOWN or row[0] == turns],
            )
        )


if __name__ == "__main__":
    main()
