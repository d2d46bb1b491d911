"""Turn overhead: the same graph in-process, behind our `/ws`, and behind LangGraph's own server.

The support graph on the offline model (no think time) answers "What is the status of order 1042?" (a
tool call, then a streamed answer), each turn on a fresh thread. The three ways of running it alternate
turn by turn in one run:

- in-process: `graph.astream(..., stream_mode="messages")` in this process (the floor);
- ours: `python -m local_server` over a WebSocket on loopback;
- langgraph dev: LangGraph's in-memory server (`langgraph-cli[inmem]`), HTTP + SSE (`/runs/stream`).

Then turns/s with 1, 10 and 100 concurrent sessions, each session one connection sending its turns back to
back. Our server runs with `--no-rate-limit`: the per-connection limit (5 frames/s) would otherwise refuse
them, and that limit is not what is measured. Run: `python -m bench.turn_overhead [--quick]` (`make bench`
installs LangGraph's server into .tools/langgraph first; `--quick`, a smoke run on tiny settings, leaves
LangGraph's server out when it is not installed).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
from langchain_core.runnables import RunnableConfig
from websockets.asyncio.client import ClientConnection, connect

from bench.common import percentile, quick, table
from bench.peers import LANGGRAPH, ROOT, langgraph_dev, local_server
from local_server.defaults import build_default_graph

QUESTION = "What is the status of order 1042?"
TURNS = 200
CONCURRENCY = (1, 10, 100)
QUICK_TURNS = 3
QUICK_CONCURRENCY = (1, 2)
CUSTOMER = {"customer_id": "demo-customer"}

Turn = Callable[[], Awaitable[tuple[float, float]]]


def in_process() -> Turn:
    graph = build_default_graph()

    async def turn() -> tuple[float, float]:
        config: RunnableConfig = {"configurable": {"thread_id": uuid.uuid4().hex, **CUSTOMER}}
        started = time.perf_counter()
        first = 0.0
        async for _ in graph.astream(
            {"messages": [("user", QUESTION)]}, config=config, stream_mode="messages"
        ):
            first = first or time.perf_counter() - started
        return first, time.perf_counter() - started

    return turn


def ours(ws: ClientConnection) -> Turn:
    async def turn() -> tuple[float, float]:
        started = time.perf_counter()
        await ws.send(json.dumps({"type": "message", "thread_id": uuid.uuid4().hex, "content": QUESTION}))
        first = 0.0
        while True:
            frame = json.loads(await ws.recv())
            first = first or time.perf_counter() - started
            if frame["type"] in ("message_complete", "error", "interrupt"):
                assert frame["type"] == "message_complete", frame
                return first, time.perf_counter() - started

    return turn


def langgraph(client: httpx.AsyncClient) -> Turn:
    payload = {
        "assistant_id": "support",
        "input": {"messages": [{"role": "user", "content": QUESTION}]},
        "stream_mode": ["messages-tuple"],
        "config": {"configurable": CUSTOMER},
    }

    async def turn() -> tuple[float, float]:
        started = time.perf_counter()
        first = 0.0
        async with client.stream("POST", "/runs/stream", json=payload) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if line.startswith("event: messages") and not first:
                    first = time.perf_counter() - started
        assert first, "no message streamed"
        return first, time.perf_counter() - started

    return turn


async def latencies(turns: dict[str, Turn], count: int = TURNS) -> dict[str, tuple[list[float], list[float]]]:
    results: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in turns}
    names = list(turns)
    for name in names:  # warm-up, not counted
        await turns[name]()
    for index in range(count):
        for name in names[index % len(names) :] + names[: index % len(names)]:
            first, complete = await turns[name]()
            results[name][0].append(first)
            results[name][1].append(complete)
    return results


async def throughput(
    make_turn: Callable[[], Awaitable[tuple[Turn, Callable[[], Awaitable[None]]]]],
    sessions: int,
    least: int = 30,
) -> float:
    total = max(least, sessions * 2)
    per_session = total // sessions
    turns = [await make_turn() for _ in range(sessions)]
    started = time.perf_counter()

    async def session(turn: Turn) -> None:
        for _ in range(per_session):
            await turn()

    await asyncio.gather(*(session(turn) for turn, _ in turns))
    elapsed = time.perf_counter() - started
    for _, close in turns:
        await close()
    return per_session * sessions / elapsed


async def main_async(ws_url: str, lg_url: str | None, tiny: bool = False) -> None:
    """Latencies, then throughput; without `lg_url`, LangGraph's server is left out of both."""
    # Even the quick run sends one connection more turns than the limit's burst: a server started with its
    # limit in place fails it, as the full run would.
    count, concurrency, least = (QUICK_TURNS, QUICK_CONCURRENCY, 50) if tiny else (TURNS, CONCURRENCY, 30)
    async with connect(ws_url) as ws, httpx.AsyncClient(base_url=lg_url or "", timeout=60) as client:
        turns = {"in-process": in_process(), "ours (/ws)": ours(ws)}
        if lg_url:
            turns["langgraph dev"] = langgraph(client)
        results = await latencies(turns, count)
    rows: list[list[object]] = []
    base_first = percentile(results["in-process"][0], 50)
    base_complete = percentile(results["in-process"][1], 50)
    for name, (first, complete) in results.items():
        rows.append(
            [
                name,
                percentile(first, 50) * 1000,
                percentile(first, 99) * 1000,
                percentile(complete, 50) * 1000,
                percentile(complete, 99) * 1000,
                f"{percentile(complete, 50) / base_complete:.2f}x",
                f"{percentile(first, 50) / base_first:.2f}x",
            ]
        )
    ours_p50 = percentile(results["ours (/ws)"][1], 50)
    print(
        table(
            f"Turn latency, {count} turns each, alternated (ms; ratios of p50 against in-process)",
            [
                "server",
                "first p50",
                "first p99",
                "complete p50",
                "complete p99",
                "complete/inproc",
                "first/inproc",
            ],
            rows,
        )
    )
    if lg_url:
        lg_p50 = percentile(results["langgraph dev"][1], 50)
        print(f"langgraph dev / ours, complete p50: {lg_p50 / ours_p50:.1f}x")
    print(f"ours - in-process, complete p50: {(ours_p50 - base_complete) * 1000:.2f} ms\n")

    async def our_session() -> tuple[Turn, Callable[[], Awaitable[None]]]:
        ws = await connect(ws_url)
        return ours(ws), ws.close

    async def lg_session() -> tuple[Turn, Callable[[], Awaitable[None]]]:
        client = httpx.AsyncClient(base_url=lg_url or "", timeout=120)
        return langgraph(client), client.aclose

    rows = []
    for sessions in concurrency:
        mine = await throughput(our_session, sessions, least)
        if lg_url:
            theirs = await throughput(lg_session, sessions, least)
            rows.append([sessions, mine, theirs, f"{mine / theirs:.1f}x"])
        else:
            rows.append([sessions, mine, "-", "-"])
    print(table("Throughput (turns/s)", ["sessions", "ours (/ws)", "langgraph dev", "ours/langgraph"], rows))


def main() -> None:
    tiny = quick()
    with contextlib.ExitStack() as servers:
        ws_url, _ = servers.enter_context(local_server("--no-rate-limit"))
        lg_url: str | None = None
        if tiny and not LANGGRAPH.exists():
            where = LANGGRAPH.relative_to(ROOT)
            print(f"quick run: LangGraph's server ({where}) is not installed, left out\n")
        else:
            lg_url = servers.enter_context(langgraph_dev())
        asyncio.run(main_async(ws_url, lg_url, tiny))


if __name__ == "__main__":
    main()
