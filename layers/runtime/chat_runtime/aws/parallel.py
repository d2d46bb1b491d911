"""Independent AWS calls issued at once, so that a handler waits for the slowest of them, not for their sum.

boto3 clients are thread-safe; each call runs on a small shared thread pool, in a copy of the caller's
context (so that logging keys, and the test suite's per-function IAM guard, follow it).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
_pool: ThreadPoolExecutor | None = None


def started(call: Callable[[], T]) -> Future[T]:
    """Start `call` on a pool thread now; its future gives the result (or raises its error)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="aws-call")
    context = contextvars.copy_context()
    return _pool.submit(context.run, call)
