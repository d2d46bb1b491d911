"""500 concurrent WebSocket sessions on the local server, each a three-turn conversation with an approval.

Each session: "Where is order 1042?" -> answer; "Change the address of order 1046 to N Oak Street" ->
interrupt; approve -> confirmation. Reports first-token latency p50/p99 per turn kind, errors (must be 0),
turns/s and the server's peak memory (VmHWM). Run: `python -m bench.concurrency [sessions] [--quick]`
(`--quick`: 3 sessions, a smoke run).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bench.common import percentile, quick, table
from bench.peers import local_server

SESSIONS = 500
QUICK_SESSIONS = 3


@dataclass
class Results:
    first_token: dict[str, list[float]] = field(
        default_factory=lambda: {"question": [], "approval": [], "resume": []}
    )
    errors: list[str] = field(default_factory=list)
    turns: int = 0


async def turn(ws: ClientConnection, frame: dict[str, Any], kind: str, results: Results) -> dict[str, Any]:
    started = time.perf_counter()
    await ws.send(json.dumps(frame))
    first: float | None = None
    while True:
        reply: dict[str, Any] = json.loads(await ws.recv())
        if reply["type"] in ("token", "tool_call") and first is None:
            first = time.perf_counter() - started
        if reply["type"] in ("message_complete", "interrupt", "error"):
            results.turns += 1
            if first is not None:
                results.first_token[kind].append(first)
            if reply["type"] == "error":
                results.errors.append(reply["message"])
            return reply


async def conversation(url: str, number: int, results: Results) -> None:
    thread = f"bench-{number}"
    try:
        async with connect(url, open_timeout=120, ping_timeout=None) as ws:
            answer = await turn(
                ws,
                {"type": "message", "thread_id": thread, "content": "Where is order 1042?"},
                "question",
                results,
            )
            assert answer["type"] == "message_complete", answer
            change = f"Change the address of order 1046 to {number} Oak Street, Springfield"
            interrupt = await turn(
                ws, {"type": "message", "thread_id": thread, "content": change}, "approval", results
            )
            assert interrupt["type"] == "interrupt", interrupt
            answer_frame = {
                "type": "interrupt_response",
                "thread_id": thread,
                "approved": True,
                "interrupt_id": interrupt["interrupt_id"],
            }
            done = await turn(ws, answer_frame, "resume", results)
            assert done["type"] == "message_complete", done
    except Exception as error:  # every failure is counted, none is hidden
        results.errors.append(f"{type(error).__name__}: {error}")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    given = [arg for arg in sys.argv[1:] if arg.isdigit()]
    sessions = QUICK_SESSIONS if quick() else int(given[0]) if given else SESSIONS
    results = Results()
    with local_server() as (url, pid):
        idle_mb = peak_rss_mb(pid)
        started = time.perf_counter()

        async def run() -> None:
            await asyncio.gather(*(conversation(url, n, results) for n in range(sessions)))

        asyncio.run(run())
        elapsed = time.perf_counter() - started
        peak_mb = peak_rss_mb(pid)
    rows = [
        [kind, len(values), percentile(values, 50) * 1000, percentile(values, 99) * 1000]
        for kind, values in results.first_token.items()
    ]
    print(
        table(
            f"{sessions} concurrent sessions, 3 turns each with an approval (first token, ms)",
            ["turn", "count", "p50", "p99"],
            rows,
        )
    )
    print(
        f"turns: {results.turns}  errors: {len(results.errors)}  wall: {elapsed:.1f} s  "
        f"turns/s: {results.turns / elapsed:.1f}"
    )
    print(f"server memory: {idle_mb:.0f} MB at start, {peak_mb:.0f} MB peak")
    for error in results.errors[:5]:
        print("  error:", error)
    print()


if __name__ == "__main__":
    main()
