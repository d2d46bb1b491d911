"""The template's Lambda functions as the emulator invokes them: handler modules, contexts, roles, limits."""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import logging
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

from local_server.emulator.log_context import in_own_log_context
from local_server.iam import IamGuard
from local_server.intrinsics import ACCOUNT_ID
from local_server.stack import ROOT, Stack

REGION = "us-east-1"
logger = logging.getLogger(__name__)
_loading = threading.Lock()
_loaded: dict[str, ModuleType] = {}


def load_handler_module(folder: str) -> ModuleType:
    """Import `functions/<folder>/app.py` under a unique module name (once per process).

    As Lambda runs a function's init before its first invocation, concurrent first invocations wait for one
    import to finish: a module is handed out only once it has run to the end.
    """
    module = _loaded.get(folder)
    if module is not None:
        return module
    with _loading:
        if folder not in _loaded:
            name = f"lambda_{folder}_app"
            spec = importlib.util.spec_from_file_location(name, ROOT / "functions" / folder / "app.py")
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
            _loaded[folder] = module
        return _loaded[folder]


@dataclass
class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    timeout_seconds: float = 60.0
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:test-function"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


@dataclass(frozen=True)
class Function:
    """One `AWS::Serverless::Function` of the template."""

    logical_id: str
    folder: str
    memory_mb: int
    timeout_seconds: float


def template_functions(stack: Stack) -> dict[str, Function]:
    """Every function of the template by logical id (folder from `CodeUri`, globals for the rest)."""
    globals_ = stack.template.get("Globals", {}).get("Function", {})
    functions: dict[str, Function] = {}
    for logical_id, resource in stack.resources("AWS::Serverless::Function").items():
        properties = resource["Properties"]
        folder = str(properties["CodeUri"]).rstrip("/").rsplit("/", 1)[-1]
        functions[logical_id] = Function(
            logical_id,
            folder,
            int(properties.get("MemorySize", globals_.get("MemorySize", 128))),
            float(properties.get("Timeout", globals_.get("Timeout", 3))),
        )
    return functions


def referenced_function(arn_expression: Any) -> str:
    """The function logical id in an integration or authorizer URI (`...${SomeFunction.Arn}...`)."""
    text = arn_expression.get("Fn::Sub") if isinstance(arn_expression, dict) else arn_expression
    found = re.search(r"\$\{(\w+)\.Arn\}", str(text))
    if found is None:
        raise ValueError(f"no function in {arn_expression!r}")
    return found.group(1)


class Invokes(Protocol):
    """What invokes a function by logical id (the `Invoker`, or a test's stand-in)."""

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any: ...


class Invoker:
    """Invokes handlers as Lambda would: a fresh context, a copy of the event, the function's IAM role, and
    log keys of the invocation's own (`log_context`)."""

    def __init__(self, stack: Stack, guard: IamGuard | None) -> None:
        self.functions = template_functions(stack)
        self.guard = guard

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Run the function's handler on `event` in this thread and return its result."""
        function = self.functions[logical_id]
        handler = load_handler_module(function.folder).handler
        context = LambdaContext(
            function_name=logical_id,
            memory_limit_in_mb=function.memory_mb,
            timeout_seconds=function.timeout_seconds,
            invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{logical_id}",
        )
        acting = self.guard.acting_as(logical_id, scope="context") if self.guard else contextlib.nullcontext()

        def run() -> Any:
            with acting:
                return handler(copy.deepcopy(event), context)

        started = time.perf_counter()
        try:
            return in_own_log_context(run)
        finally:
            report_invocation(logical_id, context.aws_request_id, time.perf_counter() - started)


REPORT_LINE = re.compile(
    r"REPORT RequestId: (?P<request_id>\S+)\tFunction: (?P<function>\w+)\tDuration: (?P<ms>[\d.]+) ms"
)
"""An invocation's line, as `report_invocation` writes it."""


def report_invocation(logical_id: str, request_id: str, seconds: float) -> None:
    """Log an invocation's duration as Lambda's `REPORT` line does (with the function's logical id)."""
    logger.info(
        "REPORT RequestId: %s\tFunction: %s\tDuration: %.2f ms", request_id, logical_id, seconds * 1000
    )


def reset_lambda_containers() -> None:
    """Forget what warm containers keep (clients, graphs, the verifier), as a cold start would."""
    from chat_runtime.aws import gateway, job_runner, routes, worker

    routes.default_route_deps.cache_clear()
    gateway.management_client.cache_clear()
    worker._default_deps = None
    job_runner._default_runner = None
    authorizer = sys.modules.get("lambda_authorizer_app")
    if authorizer is not None:
        authorizer.verifier.cache_clear()
    dead_letters = sys.modules.get("lambda_dead_letters_app")
    if dead_letters is not None:
        dead_letters.stores.cache_clear()
