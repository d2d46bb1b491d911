"""`GroupCommit` across event loops: the emulator runs Lambda invocations in threads, each with its own
event loop, over one saver."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from chat_runtime.aws.thread_saver.group_commit import GroupCommit


def test_a_call_waiting_on_one_loop_is_stored_when_another_loop_writes_meanwhile() -> None:
    stored: list[Any] = []
    commit = GroupCommit(stored.extend)
    a_waiting, b_waiting = threading.Event(), threading.Event()
    outcomes: dict[str, str] = {}

    def invocation(name: str, before: threading.Event | None, after: threading.Event) -> None:
        async def write() -> None:
            call = asyncio.ensure_future(commit.write([{"name": name}]))
            await asyncio.sleep(0)  # the call waits for its batch, whose flush has not run yet
            after.set()
            if before is not None:
                before.wait()  # the other loop writes meanwhile
            try:
                await asyncio.wait_for(call, 2)
                outcomes[name] = "stored"
            except BaseException as error:  # what the call raised is the finding
                outcomes[name] = repr(error)

        asyncio.run(write())

    first = threading.Thread(target=invocation, args=("a", b_waiting, a_waiting))

    def after_a() -> None:
        a_waiting.wait()
        invocation("b", None, b_waiting)

    second = threading.Thread(target=after_a)
    first.start()
    second.start()
    first.join()
    second.join()
    assert outcomes == {"a": "stored", "b": "stored"}
    assert sorted(item["name"] for item in stored) == ["a", "b"]


def test_a_failed_batch_fails_each_of_its_calls() -> None:
    def refuse(items: list[Any]) -> None:
        raise RuntimeError("throttled")

    commit = GroupCommit(refuse)

    async def three() -> list[Any]:
        calls = (commit.write([{"n": n}]) for n in range(3))
        return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = asyncio.run(three())
    assert [repr(outcome) for outcome in outcomes] == ["RuntimeError('throttled')"] * 3
    assert commit.batches == 1
