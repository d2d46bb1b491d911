"""The API Gateway sink: frames go out through `post_to_connection` from a background task.

The model never waits for the network: `__call__` only queues. Posts are paced: at most one per
`min_interval` per connection, and everything that queued meanwhile goes in that post, consecutive tokens of
the same agent merged into one frame (never over the frame limit). A slow stream therefore gets one frame per
token; a fast one, or a slow network, gets fewer, fuller frames, which API Gateway bills and rate-limits per
message. A frame that ends the turn is flushed at once. Throttling is retried with backoff; `GoneException`
stops sending (the turn still finishes and is saved) until the client resumes the thread on a new connection,
which then receives what it missed. Every posted batch is also written to the frame log, for replay: before it
is posted, except (`post_first_then_log`) a turn's first frame, posted at once and logged with the next batch.

Frames are encoded for the connection's protocol (`codec`) as they are posted: an AG-UI connection gets one
post per AG-UI event, and when the sender closes, any AG-UI run still waiting for its end (it ended in
interrupts) is finished. A follower's codec is taken in with the frames its replay held, so its events go
on where the replay left them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from chat_runtime.agui import FrameCodec, OwnCodec
from chat_runtime.aws.dynamodb_sessions import Follower
from chat_runtime.aws.gateway import GONE_CODES, THROTTLE_CODES, error_code
from chat_runtime.protocol import (
    MAX_FRAME_BYTES,
    TURN_END_FRAMES,
    ServerFrame,
    StateFrame,
    TokenFrame,
    ToolCallFrame,
    encode_frame,
)

logger = logging.getLogger(__name__)

_CLOSE = object()
DEFAULT_MIN_INTERVAL = 0.05
REPLAY_WAIT_SECONDS = 3.0
REPLAY_POLL_SECONDS = 0.05
MAX_POST_BYTES = 128 * 1024
"""API Gateway's message limit for `post_to_connection` (its frames are 32 KB; a message may span several)."""


@dataclass(slots=True)
class SenderStats:
    """What the sender did during a turn."""

    frames_queued: int = 0
    frames_posted: int = 0
    calls: int = 0
    retries: int = 0
    dropped: int = 0
    gone: bool = False
    post_seconds: float = 0.0
    """Time spent in `post_to_connection` calls (retries and failures included)."""
    log_seconds: float = 0.0
    """Time spent writing the frame log."""


@contextlib.contextmanager
def _timing(stats: SenderStats, seconds_field: str) -> Iterator[None]:
    """Add the block's duration to one of `stats`' seconds fields, whether it raises or not."""
    began = time.monotonic()
    try:
        yield
    finally:
        setattr(stats, seconds_field, getattr(stats, seconds_field) + time.monotonic() - began)


class ApiGatewaySender:
    """A `FrameSink` that posts to one API Gateway connection from a background task.

    Use as `async with ApiGatewaySender(...) as sink:`; leaving the block flushes every queued frame.
    """

    def __init__(
        self,
        client: Any,
        connection_id: str,
        *,
        on_gone: Callable[[], None] | None = None,
        record: Callable[[list[ServerFrame]], None] | None = None,
        follower: Callable[[], Follower | None] | None = None,
        codec: FrameCodec | None = None,
        codec_for: Callable[[str], FrameCodec] | None = None,
        post_first_then_log: bool = False,
        max_frame_bytes: int = MAX_FRAME_BYTES,
        min_interval: float = DEFAULT_MIN_INTERVAL,
        max_attempts: int = 6,
        base_delay: float = 0.05,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._connection_id = connection_id
        self._on_gone = on_gone
        self._record = record
        self._follower = follower
        self._codec: FrameCodec = codec or OwnCodec()
        self._codec_for = codec_for
        self._history: list[ServerFrame] = []
        self._threads: dict[str, None] = {}
        self._post_first_then_log = post_first_then_log
        self._batches = 0
        self._unlogged: list[ServerFrame] = []
        self._logged_late: list[ServerFrame] = []
        self._unsent: list[ServerFrame] = []
        self._max_frame_bytes = max_frame_bytes
        self._min_interval = min_interval
        self._last_post = float("-inf")
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._sleep = sleep
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.stats = SenderStats()

    async def __aenter__(self) -> ApiGatewaySender:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *_: object) -> None:
        self._queue.put_nowait(_CLOSE)
        if self._task is not None:
            await self._task

    async def __call__(self, frame: ServerFrame) -> None:
        """Queue a frame; never blocks on the network."""
        self.stats.frames_queued += 1
        self._queue.put_nowait(frame)

    async def _run(self) -> None:
        closing = False
        loop = asyncio.get_running_loop()
        while not closing:
            batch = [await self._queue.get()]
            first_unlogged = self._post_first_then_log and self._batches == 0 and batch[0] is not _CLOSE
            self._batches += 1
            deadline = self._last_post + self._min_interval
            while not self._flush_now(batch[-1]) and loop.time() < deadline:
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), deadline - loop.time()))
                except TimeoutError:
                    break
            while not first_unlogged and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            if batch[-1] is _CLOSE:
                batch.pop()
                closing = True
            self._last_post = loop.time()
            frames = self._coalesce(batch)
            if first_unlogged:
                self._unlogged = list(frames)  # logged with the next batch, or when the sender closes
            elif self._record is not None and (frames or self._unlogged):
                await self._logged([*self._unlogged, *frames])
                self._logged_late, self._unlogged = self._unlogged or self._logged_late, []
            self._history.extend(f for f in frames if f.seq is not None)
            self._threads.update(dict.fromkeys(t for f in frames if (t := getattr(f, "thread_id", None))))
            if self.stats.gone:
                self._unsent.extend(frames)  # the follower's replay may hold some of them already
                if not await self._switched_to_follower(closing=closing):
                    self.stats.dropped += len(frames)
                continue
            for index, frame in enumerate(frames):
                if not await self._post(frame):
                    self._unsent.extend(frames[index + 1 :])
                    self.stats.dropped += len(frames) - index - 1
                    await self._switched_to_follower(closing=closing)  # the client may already be back
                    break
            if closing and not self.stats.gone:
                for thread_id in self._threads:
                    await self._post_texts(self._codec.end_turn(thread_id))
        if self._record is not None and self._unlogged:
            await self._logged(self._unlogged)
            self._unlogged = []

    def prime(self, frames: list[ServerFrame]) -> None:
        """Frames an earlier attempt of this job posted: the connection's codec goes on from them."""
        self._codec.prime(frames)

    async def _logged(self, frames: list[ServerFrame]) -> None:
        """Write frames to the frame log before posting them, retrying with backoff.

        A frame is never posted unlogged, except with `post_first_then_log` the first frame of the sender's
        (a turn's first frame: its `seq` is the turn's first, which a retry of a turn that died treats as
        taken), logged with the next batch. If the log stays unavailable the error ends the job, whose retry
        numbers its frames after every `seq` logged (a client may hold a posted frame's `seq`).
        """
        assert self._record is not None
        for attempt in range(self._max_attempts):
            try:
                with _timing(self.stats, "log_seconds"):
                    await asyncio.to_thread(self._record, frames)
                return
            except Exception as error:
                if attempt + 1 == self._max_attempts:
                    raise
                logger.warning("writing the frame log failed (%s); retrying", error_code(error) or error)
                self.stats.retries += 1
                await self._sleep(self._base_delay * 2**attempt * (1 + random.random()))

    async def _switched_to_follower(self, *, closing: bool = False) -> bool:
        """After a 410: move to the connection the client resumed on, and send it what was not delivered
        and not in the replay it got from the frame log (frames up to `caught_up_to`).

        While that replay is still being sent, the frames wait (they must follow it); a closing sender
        waits for it a little, since it has no later batch to send them with.
        """
        if self._follower is None:
            return False
        found = await asyncio.to_thread(self._follower)
        waited = 0.0
        while closing and found is not None and found.caught_up_to is None and waited < REPLAY_WAIT_SECONDS:
            await self._sleep(REPLAY_POLL_SECONDS)
            waited += REPLAY_POLL_SECONDS
            found = await asyncio.to_thread(self._follower)
        if found is None or found.caught_up_to is None or found.connection_id == self._connection_id:
            return False
        self._connection_id = found.connection_id
        self.stats.gone = False
        held = found.caught_up_to
        if self._codec_for is not None:
            self._codec = self._codec_for(found.connection_id)
            self._codec.prime(f for f in self._history if f.seq is not None and f.seq <= held)
        # A first frame posted before it was logged may be missing from the replay the client got.
        late = [f for f in (*self._unlogged, *self._logged_late) if f not in self._unsent]
        unsent = [f for f in (*late, *self._unsent) if f.seq is None or f.seq > held]
        self._unsent = []
        for index, frame in enumerate(unsent):
            if not await self._post(frame):
                self._unsent = unsent[index:]
                return False
        return True

    @staticmethod
    def _flush_now(item: Any) -> bool:
        return item is _CLOSE or isinstance(item, TURN_END_FRAMES)

    def _coalesce(self, frames: list[ServerFrame]) -> list[ServerFrame]:
        """Merge runs of tokens from the same agent; split anything over the frame limit."""
        merged: list[ServerFrame] = []
        for frame in frames:
            last = merged[-1] if merged else None
            if (
                isinstance(frame, TokenFrame)
                and isinstance(last, TokenFrame)
                and (last.agent, last.thread_id) == (frame.agent, frame.thread_id)
                and self._fits(last.content + frame.content, frame)
            ):
                # A merged frame carries the seq of its last part: a client holding it has all before.
                merged[-1] = last.model_copy(
                    update={"content": last.content + frame.content, "seq": frame.seq}
                )
            else:
                merged.extend(self._within_limit(frame))
        return merged

    def _fits(self, content: str, like: TokenFrame) -> bool:
        return (
            len(encode_frame(like.model_copy(update={"content": content})).encode()) <= self._max_frame_bytes
        )

    def _within_limit(self, frame: ServerFrame) -> list[ServerFrame]:
        if isinstance(frame, StateFrame) or len(encode_frame(frame).encode()) <= self._max_frame_bytes:
            return [frame]  # a `state` frame is no turn frame: only the message limit holds (`_post_texts`)
        if isinstance(frame, TokenFrame):
            pieces: list[ServerFrame] = []
            content = frame.content
            while content:
                size = len(content)
                while size > 1 and not self._fits(content[:size], frame):
                    size //= 2
                pieces.append(frame.model_copy(update={"content": content[:size]}))
                content = content[size:]
            return pieces
        if isinstance(frame, ToolCallFrame):
            logger.warning("tool call %s too large for one frame: arguments left out", frame.tool)
            return [frame.model_copy(update={"args": {"truncated": True}})]
        logger.error("a %s frame exceeds the frame limit and was dropped", frame.type)
        self.stats.dropped += 1
        return []

    async def _post(self, frame: ServerFrame) -> bool:
        """Post one frame, encoded for the connection; False when the connection is gone (the frame is kept
        as unsent)."""
        if not await self._post_texts(self._codec.encode(frame)):
            self._unsent.append(frame)
            return False
        self.stats.frames_posted += 1
        return True

    async def _post_texts(self, texts: list[str]) -> bool:
        """Post texts in order; False when the connection is gone."""
        for text in texts:
            data = text.encode()
            if len(data) > MAX_POST_BYTES:
                logger.error("a %d-byte message is over API Gateway's limit and was dropped", len(data))
                self.stats.dropped += 1
                continue
            if not await self._post_data(data):
                return False
        return True

    async def _post_data(self, data: bytes) -> bool:
        """Post one message; False when the connection is gone."""
        for attempt in range(self._max_attempts):
            try:
                self.stats.calls += 1
                with _timing(self.stats, "post_seconds"):
                    await asyncio.to_thread(
                        self._client.post_to_connection, ConnectionId=self._connection_id, Data=data
                    )
                return True
            except Exception as error:
                code = error_code(error)
                if code in GONE_CODES:
                    logger.info("connection %s is gone; the turn continues unsent", self._connection_id)
                    self.stats.gone = True
                    self.stats.dropped += 1
                    if self._on_gone is not None:
                        await asyncio.to_thread(self._on_gone)
                    return False
                if attempt + 1 < self._max_attempts:
                    # Throttles, 5xx, timeouts: a retry may post a frame twice; clients skip it by seq.
                    self.stats.retries += 1
                    delay = self._base_delay * 2**attempt * (1 + random.random())
                    await self._sleep(delay if code in THROTTLE_CODES else min(delay, 0.2))
                    continue
                # The frame is in the frame log: the client gets it through `resume`.
                logger.exception("post_to_connection failed (%s); frame left to resume", code)
                self.stats.dropped += 1
                return True
        return True
