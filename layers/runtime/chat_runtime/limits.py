"""Per-connection rate limiting: a token bucket for one process (the local server)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from chat_runtime.protocol import ErrorCode, ProtocolError

DEFAULT_FRAMES_PER_SECOND = 5.0
DEFAULT_BURST = 20


@dataclass
class TokenBucket:
    """Allows `burst` frames at once and `rate` frames per second after that."""

    rate: float = DEFAULT_FRAMES_PER_SECOND
    burst: int = DEFAULT_BURST
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._tokens = float(self.burst)
        self._updated = self.clock()

    def allow(self) -> bool:
        """Take one token if there is one."""
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


def rate_limited(thread_id: str | None = None) -> ProtocolError:
    """The refusal of a frame over the connection's rate limit."""
    return ProtocolError(
        ErrorCode.RATE_LIMITED, "Too many messages: slow down and try again in a moment.", thread_id
    )


def token_expired(thread_id: str | None = None) -> ProtocolError:
    """The refusal of a frame on a connection whose token has expired since it connected."""
    return ProtocolError(
        ErrorCode.TOKEN_EXPIRED,
        "Your sign-in has expired. Sign in again and reconnect; your conversations are kept.",
        thread_id,
    )
