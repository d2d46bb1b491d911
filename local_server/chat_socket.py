"""One `/ws` connection: read frames, refuse bad ones at once, run valid turns concurrently per thread."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from chat_runtime.agui import FrameCodec, choose_codec
from chat_runtime.auth import AuthError, Principal, TokenVerifier, thread_key
from chat_runtime.control import CancelMode, TurnControl
from chat_runtime.limits import TokenBucket, rate_limited, token_expired
from chat_runtime.protocol import (
    CancelFrame,
    ErrorCode,
    ErrorFrame,
    GetStateFrame,
    InterruptResponseFrame,
    MessageFrame,
    ProtocolError,
    ResumeFrame,
    ServerFrame,
)
from chat_runtime.replay import replay_frames
from chat_runtime.turn_rules import no_running_turn, turn_running
from chat_runtime.turns import TurnRunner
from local_server.live_turns import LiveTurns
from local_server.thread_locks import ThreadLocks

logger = logging.getLogger(__name__)
STATE_FAILED = "The conversation's state could not be read. Please try again."
POLICY_VIOLATION = 1008


class ChatSocket:
    """Serves one WebSocket connection.

    Frames are read continuously: a bad frame gets its `error` at once, a valid one becomes a task that
    waits for its thread's earlier turns. A turn outlives a closed connection, so nothing is lost; its
    frames are then dropped.
    """

    def __init__(
        self,
        websocket: WebSocket,
        runner: TurnRunner,
        locks: ThreadLocks,
        turn_tasks: set[asyncio.Task[None]],
        configurable: Mapping[str, Any],
        verifier: TokenVerifier | None = None,
        rate_limit: TokenBucket | None = None,
        live: LiveTurns | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._websocket = websocket
        self._runner = runner
        self._locks = locks
        self._turn_tasks = turn_tasks
        self._configurable = configurable
        self._verifier = verifier
        self._principal: Principal | None = None
        self._rate_limit = rate_limit
        self._live = live or LiveTurns()
        self._clock = clock
        self._send_lock = asyncio.Lock()
        self._open = False
        self._codec: FrameCodec = choose_codec(
            websocket.scope.get("subprotocols", []), websocket.query_params
        )

    async def serve(self) -> None:
        """Authenticate, accept the connection and serve it until the client leaves."""
        if self._verifier is not None:
            try:
                principal = self._verifier.verify(self._websocket.query_params.get("token"))
            except AuthError as error:
                logger.info("refused a connection: %s", error)
                await self._websocket.close(code=POLICY_VIOLATION)  # before accept: HTTP 403
                return
            self._principal = principal
            self._configurable = {**self._configurable, "customer_id": principal.customer_id}
        await self._websocket.accept(subprotocol=self._codec.subprotocol)
        self._open = True
        try:
            while True:
                message = await self._websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if self._principal is not None and self._principal.is_expired(self._clock()):
                    await self.send(token_expired().to_frame())
                    continue
                if self._rate_limit is not None and not self._rate_limit.allow():
                    await self.send(rate_limited().to_frame())
                    continue
                raw = message.get("text")
                parsed = self._codec.decode(raw if raw is not None else message.get("bytes") or b"")
                if isinstance(parsed, ProtocolError):
                    await self.send(parsed.to_frame())
                elif isinstance(parsed, ResumeFrame):
                    await self._resume(parsed)
                elif isinstance(parsed, CancelFrame):
                    await self._cancel(parsed)
                elif isinstance(parsed, GetStateFrame):
                    await self._send_state(parsed)
                elif isinstance(parsed, MessageFrame):
                    await self._message(parsed)
                else:
                    self._start_turn(parsed)
        finally:
            self._open = False

    @property
    def _owner(self) -> str | None:
        return self._principal.subject if self._principal is not None else None

    async def send(self, frame: ServerFrame) -> None:
        """Send one frame; a closed connection drops it silently (the turn still completes)."""
        await self._send_texts(self._codec.encode(frame))

    async def _send_texts(self, texts: list[str]) -> None:
        if not self._open or not texts:
            return
        async with self._send_lock:
            try:
                for text in texts:
                    await self._websocket.send_text(text)
            except (WebSocketDisconnect, RuntimeError, OSError):
                self._open = False

    async def _message(self, frame: MessageFrame) -> None:
        """A message: start its turn, after doing what its `multitask_strategy` says to a running one."""
        key = thread_key(frame.thread_id, self._owner)
        strategy = frame.multitask_strategy
        if strategy == "reject" and self._locks.busy(key):
            await self.send(turn_running(frame.thread_id).to_frame())
            return
        control = self._live.control(key)
        if strategy in ("interrupt", "rollback") and control is not None:
            control.cancel(CancelMode(strategy))
        self._start_turn(frame)

    async def _cancel(self, frame: CancelFrame) -> None:
        """Stop the thread's running turn; its terminal frame says how it ended."""
        control = self._live.control(thread_key(frame.thread_id, self._owner))
        if control is None:
            await self.send(no_running_turn(frame.thread_id).to_frame())
            return
        control.cancel(CancelMode(frame.action))

    async def _send_state(self, frame: GetStateFrame) -> None:
        """Answer `get_state` with the thread's state, as its owner may see it."""
        key = thread_key(frame.thread_id, self._owner)
        try:
            state = await self._runner.read_state(
                frame.thread_id, key, configurable=self._configurable, history=frame.history
            )
        except Exception:
            logger.exception("reading a thread's state failed", extra={"thread_id": frame.thread_id})
            await self.send(
                ErrorFrame(
                    code=ErrorCode.INTERNAL_ERROR,
                    message=STATE_FAILED,
                    thread_id=frame.thread_id,
                )
            )
            return
        await self.send(state)

    async def _end_turn(self, thread_id: str, key: str) -> None:
        """What the codec sends once a turn this socket started or follows has sent its last frame: for
        AG-UI, the snapshots (when it ended in interrupts) and RUN_FINISHED."""
        if self._codec.wants_state(thread_id):
            await self._send_run_state(thread_id, key)
        await self._send_texts(self._codec.end_turn(thread_id))

    async def _send_run_state(self, thread_id: str, key: str) -> None:
        """The thread's state after a turn that ended in interrupts (the codec asked for it); if it cannot be
        read, the turn ends without it."""
        try:
            state = await self._runner.read_state(thread_id, key, configurable=self._configurable)
        except Exception:
            logger.exception("reading the state for AG-UI snapshots failed", extra={"thread_id": thread_id})
            return
        await self.send(state)

    def _start_turn(self, frame: MessageFrame | InterruptResponseFrame) -> None:
        task = asyncio.create_task(self._run_turn(frame))
        self._turn_tasks.add(task)
        task.add_done_callback(self._turn_tasks.discard)

    async def _resume(self, frame: ResumeFrame) -> None:
        """Send what the client missed of the thread, and follow its running turn."""
        key = thread_key(frame.thread_id, self._owner)
        log = self._runner.frame_log
        async with self._send_lock:
            record = self._runner.sessions.get_state(key)
            missed = replay_frames(record, log, key, frame.thread_id, frame.after_seq)
            # No await between reading the log and following: no frame can slip between the two.
            self._live.follow(key, self.send, partial(self._end_turn, frame.thread_id, key))
            for missed_frame in missed:
                for text in self._codec.encode(missed_frame):
                    if self._open:
                        await self._websocket.send_text(text)

    async def _run_turn(self, frame: MessageFrame | InterruptResponseFrame) -> None:
        key = thread_key(frame.thread_id, self._owner)
        async with self._locks.hold(key):
            control = TurnControl()
            started = time.monotonic()
            try:
                with self._live.turn(key, self.send, control) as publish:
                    outcome = await self._runner.handle(
                        frame, publish, configurable=self._configurable, owner=self._owner, control=control
                    )
                    await self._live.ended(key)
                await self._end_turn(frame.thread_id, key)
                logger.info(
                    "turn on thread %s: %s in %.0f ms",
                    frame.thread_id,
                    outcome.status.value if outcome is not None else "refused",
                    (time.monotonic() - started) * 1000,
                )
            except Exception:
                logger.exception("turn handling failed", extra={"thread_id": frame.thread_id})
                await self.send(
                    ErrorFrame(
                        code=ErrorCode.INTERNAL_ERROR,
                        message="Something went wrong on our side. Please try again.",
                        thread_id=frame.thread_id,
                    )
                )
