"""Each emulated invocation's Powertools log keys are its own, as each Lambda container's are.

On Lambda a function's `Logger` state (the keys `inject_lambda_context` appends: `function_name`, the request
id, the correlation id) lives in one container that runs one invocation at a time. The emulator runs every
function in one process, where Powertools keeps that state on one formatter shared by all `Logger`s of the
service, so a concurrent invocation's keys would label another function's lines. Here the formatter's keys
live in a context variable: an invocation starts from the keys set at import (the service's), and what it
appends stays in its own context (threads it starts with `asyncio.to_thread` copy that context).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

T = TypeVar("T")
_keys: contextvars.ContextVar[dict[int, dict[str, Any]] | None] = contextvars.ContextVar(
    "emulated_invocation_log_keys", default=None
)
_installed = False


def _get(formatter: LambdaPowertoolsFormatter) -> dict[str, Any]:
    shared: dict[str, Any] = formatter.__dict__["log_format"]
    invocation = _keys.get()
    if invocation is None:  # outside an invocation (a module's import): the function's own keys
        return shared
    if id(formatter) not in invocation:
        invocation[id(formatter)] = dict(shared)
    return invocation[id(formatter)]


def _set(formatter: LambdaPowertoolsFormatter, value: dict[str, Any]) -> None:
    invocation = _keys.get()
    if invocation is None or "log_format" not in formatter.__dict__:  # a formatter made in an invocation
        formatter.__dict__["log_format"] = value
    if invocation is not None:
        invocation[id(formatter)] = value


def install() -> None:
    """Keep Powertools formatters' keys per invocation from now on (idempotent)."""
    global _installed
    if not _installed:
        LambdaPowertoolsFormatter.log_format = property(_get, _set)  # type: ignore[assignment]
        _installed = True


def in_own_log_context(call: Callable[[], T]) -> T:
    """Run `call` (one invocation) with log keys of its own."""
    install()

    def run() -> T:
        _keys.set({})
        return call()

    return contextvars.copy_context().run(run)
