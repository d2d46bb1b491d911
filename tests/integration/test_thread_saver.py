"""`DynamoDBThreadSaver` (one partition per thread, delta histories in one query) on real graphs under moto.

Every checkpoint's state must be what `InMemorySaver` (LangGraph's reference) gives for the same runs; the
request counts are what the saver is for; and threads stored by `DynamoDBSaver` must stay readable.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from chat_runtime.aws.thread_saver import thread_saver
from chat_runtime.aws.thread_saver.layout import MAX_INLINE_BYTES
from chat_runtime.checkpoint_cache import LatestCheckpoints
from chat_runtime.delta_lineage import delta_channels_of
from tests.support.aws_calls import is_dynamodb, watching_calls
from tests.support.delta_graphs import branching_graph, conversation_graph

pytestmark = pytest.mark.integration
REGION = "us-east-1"


@pytest.fixture
def tables(stack_tables: dict[str, str]) -> dict[str, str]:
    return stack_tables


@pytest.fixture
def requests() -> Iterator[list[str]]:
    """The DynamoDB operations made while the test runs."""
    seen: list[str] = []
    with watching_calls(lambda client, operation, _: seen.append(operation) if is_dynamodb(client) else None):
        yield seen


def config(thread: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread}}


def shown(state: Any) -> tuple[Any, ...]:
    """What a state holds, without the ids LangGraph draws at random."""
    messages = [(m.type, m.content) for m in state.values.get("messages", [])]
    return (tuple(messages), tuple(state.values.get("log", [])), state.next)


async def converse(graph: Any, thread: str, turns: int, durability: str) -> None:
    for turn in range(turns):
        question = {"messages": [HumanMessage(content=f"question {turn}")], "log": []}
        await graph.ainvoke(question, config(thread), durability=durability)


async def branch(graph: Any, thread: str, durability: str) -> None:
    for round_ in range(2):
        await graph.ainvoke(
            {"messages": [HumanMessage(content=f"round {round_}")]}, config(thread), durability=durability
        )
        await graph.ainvoke(Command(resume=f"the answer {round_}"), config(thread), durability=durability)


async def every_state(graph: Any, thread: str) -> list[tuple[Any, ...]]:
    """The state at each checkpoint of the thread, newest first."""
    return [shown(state) async for state in graph.aget_state_history(config(thread))]


@pytest.mark.parametrize("durability", ["exit", "async"])
def test_every_checkpoint_holds_what_the_reference_saver_holds(
    tables: dict[str, str], durability: str
) -> None:
    async def scenario(saver: Any) -> list[list[tuple[Any, ...]]]:
        talk, fork = conversation_graph(saver), branching_graph(saver)
        await converse(talk, "talk", 16, durability)  # past two snapshots (every 7 updates)
        await branch(fork, "fork", durability)
        latest = await talk.aget_state(config("talk"))
        earlier = [state async for state in talk.aget_state_history(config("talk"))][3]
        await talk.aupdate_state(
            earlier.config, {"messages": [HumanMessage(content="edited")], "log": ["edit"]}
        )
        await converse(talk, "talk", 1, durability)  # on the fork
        assert latest.values["messages"]
        return [await every_state(talk, "talk"), await every_state(fork, "fork")]

    reference = asyncio.run(scenario(InMemorySaver()))
    ours = asyncio.run(scenario(thread_saver(tables["CheckpointsTable"])))
    assert ours == reference
    newest = reference[0][0][0]
    assert len(reference[0]) > 15 and newest[-3:-1] == (("human", "edited"), ("human", "question 0"))


def test_the_workers_stack_holds_the_same_states_and_answers_the_history_from_memory(
    tables: dict[str, str], requests: list[str]
) -> None:
    saver = thread_saver(tables["CheckpointsTable"])
    cache = LatestCheckpoints(saver)
    graph = conversation_graph(cache)
    cache.delta_channels = delta_channels_of(graph)
    assert cache.delta_channels == ("messages",)
    asyncio.run(converse(graph, "worker", 1, "exit"))
    requests.clear()
    asyncio.run(converse(graph, "worker", 11, "exit"))
    assert "Query" not in requests and "GetItem" not in requests  # nothing read: the worker wrote it all
    assert cache.hits >= 11 + 8  # the checkpoint every turn, its history unless it is a snapshot
    reference = conversation_graph(InMemorySaver())
    asyncio.run(converse(reference, "worker", 1, "exit"))
    asyncio.run(converse(reference, "worker", 11, "exit"))
    assert asyncio.run(every_state(graph, "worker")) == asyncio.run(every_state(reference, "worker"))
    state = asyncio.run(graph.aget_state(config("worker")))
    assert [m.content for m in state.values["messages"]][-2:] == ["question 10", "answer 23"]


def test_the_workers_stack_hands_an_interrupt_back_on_a_graph_without_delta_channels(
    tables: dict[str, str],
) -> None:
    """LangGraph may store a checkpoint's writes (the interrupt) before the checkpoint itself: the checkpoint
    must then not be served from memory without them."""
    from langgraph.graph import START, MessagesState, StateGraph
    from langgraph.types import interrupt

    def greet(state: MessagesState) -> dict[str, Any]:
        return {"messages": [("ai", f"Nice to meet you, {interrupt('What is your name?')}!")]}

    builder = StateGraph(MessagesState)
    builder.add_node("greeter", greet)
    builder.add_edge(START, "greeter")
    cache = LatestCheckpoints(thread_saver(tables["CheckpointsTable"]))
    graph: Any = builder.compile(checkpointer=cache)
    cache.delta_channels = delta_channels_of(graph)
    assert cache.delta_channels == ()
    cache.expect("named", exists=False, latest_id=None)  # a new thread, as the worker starts one

    async def ask_and_answer() -> tuple[Any, Any]:
        await graph.ainvoke({"messages": [("human", "hi")]}, config("named"), durability="exit")
        asked = await graph.aget_state(config("named"))
        await graph.ainvoke(Command(resume="Ada"), config("named"), durability="exit")
        return asked, await graph.aget_state(config("named"))

    asked, answered = asyncio.run(ask_and_answer())
    assert [i.value for i in asked.interrupts] == ["What is your name?"]
    assert answered.values["messages"][-1].content == "Nice to meet you, Ada!"


def test_a_checkpoint_and_its_history_are_one_query(tables: dict[str, str], requests: list[str]) -> None:
    saver = thread_saver(tables["CheckpointsTable"])
    graph = conversation_graph(saver)
    asyncio.run(converse(graph, "long", 30, "exit"))
    latest = saver.get_tuple(config("long"))
    assert latest is not None
    requests.clear()
    found, history = saver.read_with_history(latest.config, ["messages"])
    assert requests == ["Query"]
    assert found == latest and "seed" in history["messages"]  # back to the last snapshot, no further
    requests.clear()
    state = asyncio.run(graph.aget_state(config("long")))
    assert len(state.values["messages"]) == 60
    assert requests.count("Query") <= 3  # the latest (2 queries), then its history (1)


def test_a_value_over_the_item_limit_is_stored_in_parts(tables: dict[str, str]) -> None:
    saver = thread_saver(tables["CheckpointsTable"])
    graph = conversation_graph(saver)
    asyncio.run(converse(graph, "big", 1, "exit"))
    latest = saver.get_tuple(config("big"))
    assert latest is not None
    noise = base64.b64encode(os.urandom(1_000_000)).decode()  # 1.4 MB, incompressible
    checkpoint = latest.checkpoint.copy()
    checkpoint["id"] = "1f100000-0000-6000-8000-000000000001"
    checkpoint["channel_values"] = {**checkpoint["channel_values"], "notes": noise}
    stored = saver.put(latest.config, checkpoint, latest.metadata, {})
    saver.put_writes(stored, [("notes", noise)], "task-1")
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=tables["CheckpointsTable"])
    items = [item for page in pages for item in page["Items"]]
    sizes = [
        sum(len(value) for v in item.values() if isinstance(value := next(iter(v.values())), bytes | str))
        for item in items
    ]
    assert max(sizes) < 400_000 and sum("#P#" in item["SK"]["S"] for item in items) >= 2 * (
        len(noise) * 3 // 4 // MAX_INLINE_BYTES
    )  # the checkpoint's and the write's, each compressed to about 1 MB
    read = saver.get_tuple(stored)
    assert read is not None and read.checkpoint["channel_values"]["notes"] == noise
    assert read.pending_writes == [("task-1", "notes", noise)]


class Unprocessing:
    """A DynamoDB client that leaves every batch's items unprocessed `times` times, then works."""

    def __init__(self, client: Any, times: int) -> None:
        self.client, self.times, self.batches = client, times, 0

    def batch_write_item(self, **params: Any) -> Any:
        self.batches += 1
        if self.times > 0:
            self.times -= 1
            return {"UnprocessedItems": params["RequestItems"]}
        return self.client.batch_write_item(**params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


class DuplicatesRefused:
    """A DynamoDB client that refuses a batch naming one key twice, as DynamoDB does (moto does not)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def batch_write_item(self, **params: Any) -> Any:
        from botocore.exceptions import ClientError

        for requests in params["RequestItems"].values():
            keys = [
                (body.get("Item") or body["Key"])["SK"]["S"]
                for request in requests
                for body in request.values()
            ]
            if len(keys) != len(set(keys)):
                error = {
                    "Code": "ValidationException",
                    "Message": "Provided list of item keys contains duplicates",
                }
                raise ClientError({"Error": error}, "BatchWriteItem")
        return self.client.batch_write_item(**params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_items_left_unprocessed_are_retried_and_an_error_raised_when_they_stay(
    tables: dict[str, str],
) -> None:
    table = tables["CheckpointsTable"]
    flaky = Unprocessing(boto3.client("dynamodb"), times=3)
    saver = thread_saver(table, client=flaky)
    asyncio.run(converse(conversation_graph(saver), "retried", 2, "exit"))
    assert flaky.batches >= 4
    assert len(asyncio.run(conversation_graph(saver).aget_state(config("retried"))).values["messages"]) == 4
    stuck = thread_saver(table, client=Unprocessing(boto3.client("dynamodb"), times=100))
    stuck.table.first_pause_seconds = 0
    with pytest.raises(RuntimeError, match="unprocessed after 8 attempts"):
        stuck.put_writes(
            {"configurable": {"thread_id": "stuck", "checkpoint_ns": "", "checkpoint_id": "1"}},
            [("a", 1), ("b", 2)],
            "task",
        )


def test_concurrent_writes_share_one_batch_and_its_failure(
    tables: dict[str, str], requests: list[str]
) -> None:
    saver = thread_saver(tables["CheckpointsTable"])
    target: RunnableConfig = {
        "configurable": {"thread_id": "group", "checkpoint_ns": "", "checkpoint_id": "1f0"}
    }

    async def five() -> None:
        await asyncio.gather(*(saver.aput_writes(target, [("c", n)], f"task-{n}") for n in range(5)))

    asyncio.run(five())
    assert requests == ["BatchWriteItem"]

    strict = thread_saver(tables["CheckpointsTable"], client=DuplicatesRefused(boto3.client("dynamodb")))

    async def twice() -> None:  # the same write twice in one batch: DynamoDB refuses duplicate keys
        await asyncio.gather(*(strict.aput_writes(target, [("c", n)], "task-0") for n in (10, 11)))

    asyncio.run(twice())
    found = list(saver.table.query("THREAD#group", "0", "~"))
    [stored] = [item for item in found if item["task"]["S"] == "task-0"]
    assert saver.serde.loads_typed((stored["t"]["S"], stored["v"]["B"])) == 11
    assert len(found) == 5
    broken = thread_saver("no-such-table")

    async def failing() -> list[Any]:
        calls = (broken.aput_writes(target, [("c", n)], f"task-{n}") for n in range(3))
        return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = asyncio.run(failing())
    assert len(outcomes) == 3 and all(isinstance(outcome, Exception) for outcome in outcomes)
    assert broken.group_commit.batches == 1


def test_a_thread_stored_by_dynamodbsaver_is_read_continued_and_deleted(tables: dict[str, str]) -> None:
    """A thread of the previous layout (its messages a plain `add_messages` list, a checkpoint in S3)."""
    from langgraph.graph import END, START, MessagesState, StateGraph
    from langgraph_checkpoint_aws import DynamoDBSaver
    from langgraph_checkpoint_aws.checkpoint.dynamodb.storage_strategy import S3_OFFLOAD_THRESHOLD

    bucket = tables["CheckpointBucket"]
    old_saver = DynamoDBSaver(
        table_name=tables["CheckpointsTable"],
        enable_checkpoint_compression=True,
        s3_offload_config={"bucket_name": bucket},
    )

    def old_reply(state: MessagesState) -> dict[str, Any]:
        return {
            "messages": [("ai", "old answer " + base64.b64encode(os.urandom(S3_OFFLOAD_THRESHOLD)).decode())]
        }

    old = StateGraph(MessagesState)
    old.add_node("reply", old_reply)
    old.add_edge(START, "reply")
    old.add_edge("reply", END)
    old_graph: Any = old.compile(checkpointer=old_saver)
    old_graph.invoke({"messages": [HumanMessage(content="old question")]}, config("kept"))
    s3 = boto3.client("s3")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount")  # the previous layout offloaded it

    saver = thread_saver(tables["CheckpointsTable"], bucket=bucket)
    graph = conversation_graph(saver)
    asyncio.run(converse(graph, "kept", 2, "exit"))
    state = asyncio.run(graph.aget_state(config("kept")))
    contents = [m.content[:10] for m in state.values["messages"]]
    assert contents == ["old questi", "old answer", "question 0", "answer 3", "question 1", "answer 5"]
    history = list(saver.list(config("kept")))
    assert len(history) == len(list(old_saver.list(config("kept")))) + 2
    saver.delete_thread("kept")
    assert list(saver.list(config("kept"))) == []
    assert saver.get_tuple(config("kept")) is None


def test_no_item_a_living_thread_needs_expires(tables: dict[str, str]) -> None:
    """DynamoDB deletes items past their `ttl` (moto does not: this test does). A thread lives while its
    turns are less than the session's TTL apart; its latest checkpoint needs the writes back to the last
    snapshot, which `item_ttl_seconds` keeps alive: with the session's TTL alone, the history goes."""
    from langgraph.channels.delta import DeltaChannel

    from chat_runtime.aws.thread_saver import item_ttl_seconds
    from chat_runtime.delta_lineage import history_turns

    session_ttl, now = 1800, [1_000_000.0]
    client = boto3.client("dynamodb")
    table = tables["CheckpointsTable"]

    def expire() -> int:
        pages = client.get_paginator("scan").paginate(TableName=table)
        gone = [i for p in pages for i in p["Items"] if "ttl" in i and int(i["ttl"]["N"]) < now[0]]
        for item in gone:
            client.delete_item(TableName=table, Key={"PK": item["PK"], "SK": item["SK"]})
        return len(gone)

    def conversation(ttl: int, thread: str) -> list[str]:
        saver = thread_saver(table, ttl_seconds=ttl)
        saver.clock = lambda: now[0]
        graph = conversation_graph(saver)
        for turn in range(12):
            now[0] += session_ttl - 60  # the next message just before the session would expire
            expire()
            asyncio.run(
                graph.ainvoke({"messages": [HumanMessage(content=f"q{turn}")], "log": []}, config(thread))
            )
        state = asyncio.run(graph.aget_state(config(thread)))
        return [m.content for m in state.values["messages"] if m.type == "human"]

    graph = conversation_graph(None)
    assert isinstance(graph.channels["messages"], DeltaChannel) and history_turns(graph) == 7
    kept = item_ttl_seconds(session_ttl, history_turns(graph), max_turn_seconds=100)
    assert conversation(kept, "kept") == [f"q{turn}" for turn in range(12)]
    assert conversation(session_ttl, "short") != [f"q{turn}" for turn in range(12)]  # what it guards against
    # The support agent at the template's default TTL: 53 hours; a day's TTL: capped at the session record's.
    assert item_ttl_seconds(1800, 100, 100) == 1900 * 101
    assert item_ttl_seconds(86400, 100, 100) == 86400 + 7 * 24 * 3600


def test_a_head_stored_without_its_parts_is_not_there(tables: dict[str, str]) -> None:
    """DynamoDB applies a batch in no order: parts go in requests before their head, and a head whose put
    failed after it was stored (its parts missing) is read as not stored."""
    saver = thread_saver(tables["CheckpointsTable"])
    graph = conversation_graph(saver)
    asyncio.run(converse(graph, "parts", 1, "exit"))
    latest = saver.get_tuple(config("parts"))
    assert latest is not None
    seen: list[list[str]] = []
    original = saver.table.client.batch_write_item

    def recorded(**params: Any) -> Any:
        seen.append(
            [
                next(iter(r.values())).get("Item", {}).get("SK", {}).get("S", "")
                for r in next(iter(params["RequestItems"].values()))
            ]
        )
        return original(**params)

    saver.table.client = type(
        "Recording",
        (),
        {
            "batch_write_item": staticmethod(recorded),
            "__getattr__": lambda _, name: getattr(original.__self__, name),
        },
    )()
    checkpoint = latest.checkpoint.copy()
    checkpoint["id"] = "1f100000-0000-6000-8000-000000000002"
    checkpoint["channel_values"] = {
        **checkpoint["channel_values"],
        "notes": base64.b64encode(os.urandom(700_000)).decode(),
    }
    stored = saver.put(latest.config, checkpoint, latest.metadata, {})
    assert all("#P#" in key for key in seen[0]) and not any(
        "#P#" in key for batch in seen[1:] for key in batch
    )
    client = boto3.client("dynamodb")
    head = saver.table.query("THREAD#parts", "0", "~")
    parts = [item for item in head if "#P#" in item["SK"]["S"]]
    client.delete_item(TableName=tables["CheckpointsTable"], Key={"PK": parts[0]["PK"], "SK": parts[0]["SK"]})
    assert saver.get_tuple(stored) is None  # by id: not stored
    found = saver.get_tuple(config("parts"))
    assert (
        found is not None
        and found.config["configurable"]["checkpoint_id"] == latest.config["configurable"]["checkpoint_id"]
    )


def test_an_adopted_checkpoint_keeps_its_writes_indices() -> None:
    """A write LangGraph stores again under its index must land on the item adoption made of it."""
    from langgraph.checkpoint.base import CheckpointTuple, empty_checkpoint
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    from chat_runtime.aws.thread_saver.adoption import adopted_items

    found = CheckpointTuple(
        config={"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "1f0"}},
        checkpoint=empty_checkpoint(),
        metadata={},
        pending_writes=[
            ("task", "__interrupt__", "ask"),
            ("task", "messages", "a"),
            ("task", "messages", "b"),
        ],
    )
    writes, head = adopted_items(JsonPlusSerializer(), found, None)
    assert sorted(item["SK"]["S"].rsplit("#", 2)[-1] for item in writes) == ["-3", "0", "1"]
    assert [item["SK"]["S"][-2:] for item in head] == ["#C"]


def test_a_missing_ancestor_is_told_in_the_log(
    tables: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    saver = thread_saver(tables["CheckpointsTable"])
    graph = conversation_graph(saver)
    asyncio.run(converse(graph, "holes", 3, "exit"))
    history = list(saver.list(config("holes")))
    gone = history[1].config["configurable"]["checkpoint_id"]
    client = boto3.client("dynamodb")
    for item in saver.table.query("THREAD#holes", "0", "~"):
        if gone in item["SK"]["S"] and item["SK"]["S"].endswith("#C"):
            client.delete_item(TableName=tables["CheckpointsTable"], Key={"PK": item["PK"], "SK": item["SK"]})
    with caplog.at_level("WARNING"):
        saver.read_with_history(history[0].config, ["messages"])
    [record] = [r for r in caplog.records if "ancestor is missing" in r.getMessage()]
    assert record.missing == gone  # type: ignore[attr-defined]


def test_metadata_too_big_for_an_item_is_refused_clearly(tables: dict[str, str]) -> None:
    """DynamoDB refuses an item over 400 KB (moto does not); the value's parts leave room for the metadata,
    and metadata alone over the budget is a clear error, not a refused request."""
    saver = thread_saver(tables["CheckpointsTable"])
    graph = conversation_graph(saver)
    asyncio.run(converse(graph, "meta", 1, "exit"))
    latest = saver.get_tuple(config("meta"))
    assert latest is not None
    checkpoint = latest.checkpoint.copy()
    checkpoint["id"] = "1f100000-0000-6000-8000-000000000003"
    checkpoint["channel_values"] = {
        **checkpoint["channel_values"],
        "notes": base64.b64encode(os.urandom(220_000)).decode(),
    }
    roomy: Any = {**latest.metadata, "note": base64.b64encode(os.urandom(150_000)).decode()}  # ~200 KB
    stored = saver.put(
        latest.config, checkpoint, roomy, {}
    )  # value ~300 KB: in parts, beside 200 KB of metadata
    items = list(saver.table.query("THREAD#meta", "0", "~"))
    sizes = [
        sum(len(value) for v in item.values() if isinstance(value := next(iter(v.values())), bytes | str))
        for item in items
    ]
    assert max(sizes) < 400_000
    read: Any = saver.get_tuple(stored)
    assert read is not None and read.metadata["note"] == roomy["note"]
    huge: Any = {**latest.metadata, "note": "x" * 310_000}
    with pytest.raises(ValueError, match="does not fit in a DynamoDB item"):
        saver.put(latest.config, {**checkpoint, "id": "1f100000-0000-6000-8000-000000000004"}, huge, {})
