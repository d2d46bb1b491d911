"""Who receives a running turn's frames: the socket that started it, and any socket that resumed it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from chat_runtime.control import TurnControl
from chat_runtime.engine import FrameSink
from chat_runtime.protocol import ServerFrame


class LiveTurns:
    """The followers of each running turn, and its stop button, by thread key."""

    def __init__(self) -> None:
        self._followers: dict[str, list[FrameSink]] = {}
        self._controls: dict[str, TurnControl] = {}
        self._enders: dict[str, list[Callable[[], Awaitable[None]]]] = {}

    @contextmanager
    def turn(self, key: str, starter: FrameSink, control: TurnControl | None = None) -> Iterator[FrameSink]:
        """While the block runs, frames sent to the yielded sink reach every follower of the turn, and
        `control` is the turn's to cancel."""
        followers = [starter]
        self._followers[key] = followers
        if control is not None:
            self._controls[key] = control

        async def publish(frame: ServerFrame) -> None:
            for follower in list(followers):
                await follower(frame)

        try:
            yield publish
        finally:
            self._followers.pop(key, None)
            self._controls.pop(key, None)
            self._enders.pop(key, None)

    async def ended(self, key: str) -> None:
        """The running turn of `key` sent its last frame: let its followers end it in their protocol."""
        for on_end in self._enders.pop(key, []):
            await on_end()

    def control(self, key: str) -> TurnControl | None:
        """The running turn's control, or None when no turn runs on `key`."""
        return self._controls.get(key)

    def follow(self, key: str, sink: FrameSink, on_end: Callable[[], Awaitable[None]] | None = None) -> bool:
        """Add `sink` to the running turn of `key` (and `on_end`, called once it has sent its last frame);
        False when no turn runs."""
        followers = self._followers.get(key)
        if followers is None:
            return False
        if sink not in followers:
            followers.append(sink)
            if on_end is not None:
                self._enders.setdefault(key, []).append(on_end)
        return True
