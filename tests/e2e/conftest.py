"""Helpers for the acceptance suite: a fake graph that streams exactly what LangGraph streams.

Chunks arrive at a hosted model's pace (`MODEL_CHUNK_GAP_SECONDS` apart). The fakes use LangGraph's and
LangChain's own types: `AIMessageChunk` with `tool_call_chunks`, the
`messages`-mode metadata keys, `("updates", {"__interrupt__": (Interrupt(...),)})`, and real
`StateSnapshot` / `PregelTask` / `Interrupt` objects from `aget_state`. The graph records its calls
(`graph.astream.call_args_list`) and moves from the interrupted state to a finished one after a resume.
`tests/integration/test_fake_fidelity.py` checks these shapes against a real compiled graph.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import langchain_core
import pytest
from langchain_core.messages import AIMessageChunk, message_chunk_to_message
from langchain_core.runnables import RunnableConfig
from langgraph.types import Command, Interrupt, PregelTask, StateSnapshot
from starlette.applications import Starlette

from chat_runtime.sessions import DEFAULT_SESSION_TTL_SECONDS
from local_server import create_app
from tests.support.aws_emulator import AwsPath, aws_path

DEFAULT_AGENT = "order_info"
# A hosted model streams a chunk every few tens of milliseconds (Bedrock's Claude: 30-150 ms), slower than the
# API Gateway sender's 50 ms post window, so each chunk leaves in its own frame as with a real model.
MODEL_CHUNK_GAP_SECONDS = 0.12
StreamItem = tuple[AIMessageChunk, dict[str, Any]]
_call_ids = itertools.count(1)


def _metadata(node: str) -> dict[str, Any]:
    """The metadata LangGraph attaches to a model chunk in `messages` mode (thread_id is added per run)."""
    namespace = f"{node}:{uuid.uuid4()}"
    return {
        "ls_integration": "langchain_chat_model",
        "langgraph_step": 1,
        "langgraph_node": node,
        "langgraph_triggers": (f"branch:to:{node}",),
        "langgraph_path": ("__pregel_pull", node),
        "langgraph_checkpoint_ns": namespace,
        "checkpoint_ns": namespace,
        "ls_provider": "fake",
        "ls_model_type": "chat",
        "lc_versions": {"langchain-core": langchain_core.__version__},
    }


def make_chunk(content: str, node: str = DEFAULT_AGENT) -> StreamItem:
    """A streamed text chunk from the model running in `node`."""
    return AIMessageChunk(content=content, id=f"lc_run--{uuid.uuid4()}"), _metadata(node)


def make_tool_chunk(name: str, args: dict[str, Any], node: str = DEFAULT_AGENT) -> StreamItem:
    """A model message that calls tool `name`, streamed as a complete tool-call chunk."""
    chunk = AIMessageChunk(
        content="",
        id=f"lc_run--{uuid.uuid4()}",
        tool_call_chunks=[
            {
                "name": name,
                "args": json.dumps(args),
                "id": f"call_{next(_call_ids)}",
                "index": 0,
                "type": "tool_call_chunk",
            }
        ],
        chunk_position="last",
    )
    return chunk, _metadata(node)


def make_state(interrupt: bool = False, data: dict[str, Any] | None = None) -> StateSnapshot:
    """A `StateSnapshot` as `aget_state` returns it: finished, or stopped at one approval with `data`."""
    config: RunnableConfig = {
        "configurable": {"thread_id": "", "checkpoint_ns": "", "checkpoint_id": str(uuid.uuid4())}
    }
    created_at = datetime.now(UTC).isoformat()
    if not interrupt:
        return StateSnapshot(
            values={"messages": []},
            next=(),
            config=config,
            metadata={"source": "loop", "step": 2, "parents": {}},
            created_at=created_at,
            parent_config=None,
            tasks=(),
            interrupts=(),
        )
    pending = Interrupt(value=dict(data or {}), id=uuid.uuid4().hex)
    node = "order_actions"
    task = PregelTask(
        id=str(uuid.uuid4()),
        name=node,
        path=("__pregel_pull", node),
        error=None,
        interrupts=(pending,),
        state=None,
        result=None,
    )
    return StateSnapshot(
        values={"messages": []},
        next=(node,),
        config=config,
        metadata={"source": "loop", "step": 1, "parents": {}},
        created_at=created_at,
        parent_config=None,
        tasks=(task,),
        interrupts=(pending,),
    )


class FakeGraph:
    """Streams scripted items the way a compiled graph with `stream_mode=[...]` does, and records calls.

    A new message streams `chunks` (each node's run followed by its `updates` item), then stops at the
    interrupt of `state` if it has one. A resume `Command` streams `resume_chunks` and finishes.
    """

    def __init__(
        self,
        chunks: Sequence[StreamItem],
        state: StateSnapshot | None,
        resume_chunks: Sequence[StreamItem],
    ) -> None:
        self._chunks = list(chunks)
        self._interrupted_state = state if state is not None and state.interrupts else None
        self._resume_chunks = list(resume_chunks)
        self._current = make_state()
        self.astream = MagicMock(side_effect=self._astream)
        self.aget_state = AsyncMock(side_effect=self._aget_state)

    def _astream(
        self, graph_input: Any, config: dict[str, Any] | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        return self._run(
            graph_input, config or {}, kwargs.get("stream_mode", "values"), kwargs.get("subgraphs", False)
        )

    async def _run(
        self, graph_input: Any, config: dict[str, Any], stream_mode: Any, subgraphs: bool
    ) -> AsyncIterator[Any]:
        modes = [stream_mode] if isinstance(stream_mode, str) else list(stream_mode)

        def item(mode: str, data: Any) -> Any:
            # LangGraph: `(mode, data)` for several modes, `data` for one; `subgraphs=True` adds the namespace
            # in front (empty for the root graph).
            shaped = (mode, data) if len(modes) > 1 else (data,)
            return ((), *shaped) if subgraphs else shaped if len(modes) > 1 else data

        thread_id = config.get("configurable", {}).get("thread_id")
        if isinstance(graph_input, Command):
            items, stop_at = self._resume_chunks, None
        else:
            items, stop_at = self._chunks, self._interrupted_state
        for mode, data in _stream_items(items, thread_id):
            if mode == "messages":
                await asyncio.sleep(MODEL_CHUNK_GAP_SECONDS)
            if mode in modes:
                yield item(mode, data)
        if stop_at is not None and "updates" in modes:
            yield item("updates", {"__interrupt__": stop_at.interrupts})
        self._current = stop_at or make_state()

    async def _aget_state(self, config: dict[str, Any], **_: Any) -> StateSnapshot:
        return self._current


def _stream_items(items: Sequence[StreamItem], thread_id: str | None) -> list[tuple[str, Any]]:
    """Interleave `messages` items with the `updates` item LangGraph emits when each node finishes."""
    out: list[tuple[str, Any]] = []
    run: list[AIMessageChunk] = []
    node: str | None = None

    def finish_node() -> None:
        if node is not None and run:
            merged = run[0]
            for chunk in run[1:]:
                merged = merged + chunk
            out.append(("updates", {node: {"messages": [message_chunk_to_message(merged)]}}))

    for chunk, metadata in items:
        if metadata["langgraph_node"] != node:
            finish_node()
            node, run = metadata["langgraph_node"], []
        run.append(chunk)
        out.append(("messages", (chunk, {"thread_id": thread_id, **metadata})))
    finish_node()
    return out


def make_graph(
    chunks: Sequence[StreamItem] = (),
    state: StateSnapshot | None = None,
    resume_chunks: Sequence[StreamItem] = (),
) -> FakeGraph:
    """A fake compiled graph for the acceptance suite (see `FakeGraph`)."""
    return FakeGraph(chunks, state, resume_chunks)


def create_e2e_app(
    graph: FakeGraph | None = None, session_ttl: int = DEFAULT_SESSION_TTL_SECONDS
) -> Starlette:
    """The app of the path under test on a fake graph (a one-line greeting when none is given).

    `run`: the local server; `run-aws`: the emulated API Gateway in front of the real Lambda handlers,
    the worker running the fake graph (see `tests/support/aws_emulator.py`).
    """
    graph = graph or make_graph([make_chunk("Hello! How can I help?")])
    if _aws_path is not None:
        return _aws_path.app(graph, session_ttl)
    return create_app(graph=graph, session_ttl=session_ttl)


_aws_path: AwsPath | None = None


@pytest.fixture(autouse=True, params=["run", "run-aws"])
def path_under_test(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every acceptance test runs on both paths: `make run`'s and `make run-aws`'s."""
    global _aws_path
    if request.param == "run":
        yield "run"
        return
    with aws_path(request.getfixturevalue("moto_server").url) as path:
        _aws_path = path
        try:
            yield "run-aws"
        finally:
            _aws_path = None
