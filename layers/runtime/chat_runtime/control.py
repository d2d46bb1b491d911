"""Stopping a running turn: the transport asks, the engine stops the graph and says how the turn ended."""

from __future__ import annotations

import asyncio
from enum import StrEnum


class CancelMode(StrEnum):
    """What a cancelled turn leaves behind (LangGraph server's `action` for run cancellation)."""

    INTERRUPT = "interrupt"
    """Stop, keeping the checkpoint of what the turn had done."""
    ROLLBACK = "rollback"
    """Stop, and return the thread to the checkpoint it had before the turn."""


class TurnControl:
    """A running turn's stop button: `cancel()` from any task of the turn's event loop.

    The first cancel wins; later ones change nothing.
    """

    def __init__(self) -> None:
        self._requested = asyncio.Event()
        self.mode: CancelMode | None = None

    def cancel(self, mode: CancelMode = CancelMode.INTERRUPT) -> None:
        """Ask the turn to stop."""
        if self.mode is None:
            self.mode = mode
            self._requested.set()

    @property
    def cancelled(self) -> bool:
        """Whether a cancel was asked for."""
        return self.mode is not None

    async def wait(self) -> CancelMode:
        """Return once a cancel is asked for, with its mode."""
        await self._requested.wait()
        assert self.mode is not None
        return self.mode
