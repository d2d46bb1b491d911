"""`python -m local_server.client [URL]`: chat with the agent from a terminal, local or deployed.

Streams tokens as they arrive, shows tool calls and progress, asks y/n (or e to edit) for each approval,
and prints a graph's questions (options numbered): the next line typed answers it.
Commands: `/stop` stops the running answer, `/state` prints the conversation as the server keeps it, `/new`
starts a new conversation, `/quit` leaves.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shlex
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect

DEFAULT_URL = "ws://127.0.0.1:8000/ws"
TURN_ENDS = ("message_complete", "error")
STOPPED = {"cancelled": "stopped", "rolled_back": "stopped, and undone", "dismissed": "dismissed"}


def with_token(url: str, token: str | None) -> str:
    """`url` with `?token=...` added (API Gateway's authorizer reads it there)."""
    if not token:
        return url
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode({"token": token})]))
    return urlunsplit(parts._replace(query=query))


def command_line(url: str, token: str) -> str:
    """The shell command that runs this client against `url`, with the interpreter running now.

    A bare `python` would be the system's, without the project's dependencies; the venv's interpreter is
    given relative to the working directory when it lies under it (`.venv/bin/python`).
    """
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):
        python = python.relative_to(Path.cwd())
    return shlex.join([str(python), "-m", "local_server.client", url, "--token", token])


class TerminalChat:
    """One terminal session: reads lines, runs turns, renders frames."""

    def __init__(self, ws: ClientConnection, out: TextIO, thread_id: str | None = None) -> None:
        self.ws = ws
        self.out = out
        self.thread_id = thread_id or f"cli-{uuid.uuid4().hex[:12]}"
        self.answered: set[str] = set()
        self.choices: list[dict[str, str]] = []
        self._agent: str | None = None
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._held: list[str | None] = []  # lines typed while a turn ran, read once it ends
        self._reader: threading.Thread | None = None

    async def run(self) -> None:
        """Chat until `/quit` or the end of input."""
        self.print(
            f"Connected. Conversation {self.thread_id}. Type /new for a new one, /stop to stop an answer, "
            "/state to see the conversation, /quit to leave."
        )
        self._reader = self._read_lines()
        while True:
            line = await self.read("you> ")
            if line is None or line.strip() == "/quit":
                return
            text = line.strip()
            if text == "/new":
                self.thread_id = f"cli-{uuid.uuid4().hex[:12]}"
                self.print(f"New conversation {self.thread_id}.")
                continue
            if text == "/state":
                await self.show_state()
                continue
            if text == "/stop":
                self.print("  (nothing is running)")
                continue
            if text:
                text = self.chosen(text)
                await self.send({"type": "message", "thread_id": self.thread_id, "content": text})
                await self.turn()

    def chosen(self, text: str) -> str:
        """The message of the quick reply whose number was typed (the last turn's); else `text` itself."""
        offered, self.choices = self.choices, []
        if text.isdigit() and 1 <= int(text) <= len(offered):
            return offered[int(text) - 1]["message"]
        return text

    def show_choices(self, value: Any) -> None:
        """A `quick_replies` custom event as a numbered list; typing a number sends that choice."""
        if not isinstance(value, dict) or value.get("type") != "quick_replies":
            return
        offered = [c for c in value.get("choices", []) if isinstance(c, dict) and c.get("message")]
        if not offered:
            return
        self.end_line()
        for number, choice in enumerate(offered, start=1):
            self.print(f"  {number}) {choice.get('label') or choice['message']}")
        self.print("  (type a number to choose)")
        self.choices = [{"label": str(c.get("label", "")), "message": str(c["message"])} for c in offered]

    async def turn(self) -> None:
        """Render frames until the turn ends; answer approvals and questions on the way, `/stop` stops it."""
        while True:
            frame = await self.next_frame()
            kind = frame.get("type")
            if kind == "token":
                if frame["agent"] != self._agent:
                    self._agent = frame["agent"]
                    self.write(f"\n[{self._agent}] ")
                self.write(frame["content"])
            elif kind == "tool_call":
                self.end_line()
                args = ", ".join(f"{k}={v}" for k, v in frame["args"].items())
                self.print(f"  . {frame['tool']}({args})")
            elif kind == "custom":
                self.show_choices(frame.get("value"))
                self.show_progress(frame.get("value"))
            elif kind == "interrupt":
                self.end_line()
                if frame["interrupt_id"] not in self.answered:
                    await (self.ask(frame) if frame.get("kind") == "input" else self.approve(frame))
            elif kind in TURN_ENDS:
                self.end_line()
                if kind == "error":
                    self.print(f"  ! {frame['message']}")
                elif frame.get("status") in STOPPED:
                    self.print(f"  ({STOPPED[frame['status']]})")
                return

    async def next_frame(self) -> dict[str, Any]:
        """The turn's next frame; meanwhile `/stop` sends `cancel`, other lines wait for the turn's end."""
        receiving = asyncio.ensure_future(self.ws.recv())
        while True:
            typing = asyncio.ensure_future(self._lines.get())
            done, _ = await asyncio.wait({receiving, typing}, return_when=asyncio.FIRST_COMPLETED)
            if typing in done:
                line = typing.result()
                if line is not None and line.strip() == "/stop":
                    await self.send({"type": "cancel", "thread_id": self.thread_id})
                else:
                    self._held.append(line)
            else:
                typing.cancel()
            if receiving in done:
                frame: dict[str, Any] = json.loads(receiving.result())
                return frame

    async def ask(self, frame: dict[str, Any]) -> None:
        """Print a graph's question (its options numbered) and send the next line typed as the answer."""
        value = frame.get("value")
        question = frame.get("question") or (value if isinstance(value, str) else json.dumps(value))
        self.print(f"  ? {question}")
        options = value.get("options") if isinstance(value, dict) else None
        options = options if isinstance(options, list) and all(isinstance(o, str) for o in options) else []
        for number, option in enumerate(options, start=1):
            self.print(f"    {number}) {option}")
        line = await self.read("    answer> " if not options else "    answer (a number or text)> ")
        typed = (line or "").strip()
        chosen = options[int(typed) - 1] if typed.isdigit() and 1 <= int(typed) <= len(options) else typed
        self.answered.add(frame["interrupt_id"])
        await self.send(
            {
                "type": "interrupt_response",
                "thread_id": frame["thread_id"],
                "interrupt_id": frame["interrupt_id"],
                "value": chosen,
            }
        )

    def show_progress(self, value: Any) -> None:
        """A custom value with `step` and/or `progress` (0 to 1) as `… Checking the prices (67%)`."""
        if not isinstance(value, dict):
            return
        step, progress = value.get("step"), value.get("progress")
        percent = f"{round(progress * 100)}%" if isinstance(progress, int | float) else None
        if not isinstance(step, str) or not step:
            step = None
        if step is None and percent is None:
            return
        self.end_line()
        self.print("  … " + (f"{step} ({percent})" if step and percent else step or percent or ""))

    async def show_state(self) -> None:
        """Ask for the thread's state and print its messages."""
        await self.send({"type": "get_state", "thread_id": self.thread_id})
        while True:
            frame = await self.next_frame()
            if frame.get("type") == "error":
                self.print(f"  ! {frame['message']}")
                return
            if frame.get("type") == "state" and frame.get("thread_id") == self.thread_id:
                break
        messages = frame.get("messages") or []
        self.print(f"  Conversation {self.thread_id} ({frame.get('state')}), {len(messages)} messages:")
        for message in messages:
            who = message.get("name") or message.get("role", "?")
            content = message.get("content") or ", ".join(
                c.get("name", "?") for c in message.get("tool_calls") or []
            )
            self.print(f"    {who}: {content}")

    async def approve(self, frame: dict[str, Any]) -> None:
        """Ask for one approval and send the answer."""
        self.print(f"  ? {frame['description']}")
        if frame.get("problem"):
            self.print(f"  ! {frame['problem']}")
        editable = frame.get("editable") or []
        prompt = "    approve? [y/n" + ("/e to edit" if editable else "") + "] "
        while True:
            answer = (await self.read(prompt) or "n").strip().lower()
            if answer in ("y", "yes", "n", "no") or (answer == "e" and editable):
                break
        response: dict[str, Any] = {
            "type": "interrupt_response",
            "thread_id": frame["thread_id"],
            "interrupt_id": frame["interrupt_id"],
            "approved": answer != "n" and answer != "no",
        }
        if answer == "e":
            edits = {}
            for name in editable:
                value = await self.read(f"    {name.replace('_', ' ')} [{frame.get(name, '')}]: ")
                if value and value.strip():
                    edits[name] = value.strip()
            if edits:
                response["edits"] = edits
        self.answered.add(frame["interrupt_id"])
        await self.send(response)

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def read(self, prompt: str) -> str | None:
        self.write(prompt)
        if self._held:
            return self._held.pop(0)
        if self._reader is None:  # not started by `run` (a caller driving one turn): read directly
            line = await asyncio.to_thread(sys.stdin.readline)
            return line.rstrip("\n") if line else None
        return await self._lines.get()

    def _read_lines(self) -> threading.Thread:
        """Read standard input line by line into the queue (None at its end), while turns run.

        A daemon thread: after `/quit` the program ends without waiting for a line that never comes.
        """
        loop = asyncio.get_running_loop()

        def read() -> None:
            while True:
                line = sys.stdin.readline()
                with contextlib.suppress(RuntimeError):  # the chat ended and its loop closed meanwhile
                    loop.call_soon_threadsafe(self._lines.put_nowait, line.rstrip("\n") if line else None)
                if not line:
                    return

        thread = threading.Thread(target=read, name="stdin", daemon=True)
        thread.start()
        return thread

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def print(self, text: str) -> None:
        self.write(text + "\n")

    def end_line(self) -> None:
        if self._agent is not None:
            self.write("\n")
            self._agent = None


async def connect_when_up(url: str, wait_seconds: float) -> ClientConnection:
    """Connect, waiting up to `wait_seconds` for a server that is still starting (connection refused)."""
    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        try:
            return await connect(url, max_size=2**20)
        except ConnectionRefusedError:
            if time.monotonic() >= deadline:
                raise
            if not told:
                print("waiting for the server to start...", file=sys.stderr)
                told = True
            await asyncio.sleep(0.25)


async def main_async(url: str, token: str | None, thread_id: str | None, wait_seconds: float = 0) -> None:
    """Connect and chat."""
    async with await connect_when_up(with_token(url, token), wait_seconds) as ws:
        await TerminalChat(ws, sys.stdout, thread_id).run()


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and chat."""
    parser = argparse.ArgumentParser(prog="python -m local_server.client", description=__doc__)
    parser.add_argument(
        "url", nargs="?", default=DEFAULT_URL, help=f"the /ws endpoint (default {DEFAULT_URL})"
    )
    parser.add_argument("--token", help="a JWT for a deployed stack (sent as ?token=)")
    parser.add_argument("--thread", help="continue this thread_id")
    parser.add_argument(
        "--wait", type=float, default=30, help="seconds to wait for a server that is starting (default 30)"
    )
    args = parser.parse_args(argv)
    try:
        asyncio.run(main_async(args.url, args.token, args.thread, args.wait))
    except KeyboardInterrupt:
        pass
    except OSError as error:
        sys.exit(f"Cannot connect to {args.url}: {error}")


if __name__ == "__main__":
    main()
