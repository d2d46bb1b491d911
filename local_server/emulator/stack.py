"""The emulator's AWS side: the template's resources on moto's server (or any endpoint), each function's
environment, the IAM guard, and the SQS event sources."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3

from local_server.emulator.api import EventFactory, WebSocketApiSpec
from local_server.emulator.event_source import SqsPoller, sqs_triggers
from local_server.emulator.functions import REGION, Invoker, reset_lambda_containers
from local_server.emulator.gateway import Gateway, GatewayLimits
from local_server.iam import IamGuard
from local_server.intrinsics import Resolver
from local_server.stack import Stack, create_stack

logger = logging.getLogger(__name__)

API_ID = "local0api1"
SECRET_PARAMETER = "/ws-support-agent/jwt-secret"
DEMO_CUSTOMER = "demo-customer"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class MotoServer:
    """moto's server in this process, on a free port."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._in_process = contextlib.ExitStack()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, in_process_clients: bool = False) -> MotoServer:
        """Serve on `url`. With `in_process_clients`, clients of this process that name no endpoint reach
        the same state without HTTP: moto's in-process mock serves them from the server's own backends (a
        `GetItem` takes 3 ms instead of 14 over the loopback), while other processes use `url`."""
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        self._server.start()
        if in_process_clients:
            from moto import mock_aws

            self._in_process.enter_context(mock_aws())  # before anything is created: empty backends
            self._in_process.enter_context(one_dynamodb_request_at_a_time())
        return self

    def stop(self) -> None:
        self._in_process.close()
        self._server.stop()


@contextlib.contextmanager
def one_dynamodb_request_at_a_time() -> Iterator[None]:
    """DynamoDB applies each request to an item atomically; moto builds an item attribute by attribute, so a
    read in another thread could see half of a new item (a session without its `pending_interrupts`, read by
    a route handler while the worker's claim created it). In-process, each DynamoDB request runs alone."""
    from botocore.client import BaseClient

    original: Any = BaseClient._make_api_call
    lock = threading.Lock()

    def atomic(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name != "dynamodb":
            return original(client, operation, params)
        with lock:
            return original(client, operation, params)

    BaseClient._make_api_call = atomic
    try:
        yield
    finally:
        BaseClient._make_api_call = original


@dataclass
class EmulatedStack:
    """Everything `make run-aws` runs besides the HTTP server."""

    stack: Stack
    resolver: Resolver
    invoker: Invoker
    gateway: Gateway
    environment: dict[str, str]
    jwt_secret: str
    pollers: list[SqsPoller] = field(default_factory=list)

    @contextlib.contextmanager
    def running(self) -> Iterator[EmulatedStack]:
        """The IAM guard installed and the SQS event sources polling until the block ends."""
        guard = self.invoker.guard
        with guard.installed() if guard is not None else contextlib.nullcontext():
            for poller in self.pollers:
                poller.start()
            try:
                yield self
            finally:
                for poller in self.pollers:
                    poller.stop()

    def token(self, subject: str = "alice", customer: str = DEMO_CUSTOMER, ttl_seconds: int = 7200) -> str:
        """A token the stack's authorizer accepts."""
        from chat_runtime.auth import mint_token

        return mint_token(self.jwt_secret, subject, customer, ttl_seconds=ttl_seconds)


def emulated_environment(resolver: Resolver, endpoint_url: str | None, management_url: str) -> dict[str, str]:
    """The process environment the handlers run in: every function's variables, AWS calls to `endpoint_url`
    (None: to AWS's own endpoints, which moto's in-process mock answers).

    The functions share one process, so their variables are merged; the template gives shared names the
    same value (a differing one is logged).
    """
    merged: dict[str, str] = {}
    for function_id in resolver.stack.resources("AWS::Serverless::Function"):
        for name, value in resolver.stack.environment(function_id, resolver).items():
            if name in merged and merged[name] != value:
                logger.warning("%s differs between functions; %s keeps %r", name, function_id, value)
            merged[name] = value
    return {
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "emulator"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "emulator"),
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        **merged,
        **({"AWS_ENDPOINT_URL": endpoint_url} if endpoint_url else {}),
        "MANAGEMENT_API_URL": management_url,
    }


def build_emulated_stack(
    endpoint_url: str,
    management_url: str,
    *,
    prefix: str = "local",
    parameters: dict[str, str] | None = None,
    limits: GatewayLimits | None = None,
    enforce_iam: bool = True,
    jwt_secret: str | None = None,
    in_process: bool = False,
) -> EmulatedStack:
    """Create the template's resources on `endpoint_url`, set the handlers' environment, wire the gateway.

    Args:
        endpoint_url: Where DynamoDB, SQS, S3 and SSM answer (moto's server).
        management_url: Where the handlers post frames (this emulator's HTTP server).
        prefix: Physical names are `{prefix}-{LogicalId}`.
        parameters: Template parameters (defaults fill the rest).
        limits: API Gateway's limits to enforce.
        enforce_iam: Refuse calls a function's role would not allow (needs the SAM translator).
        jwt_secret: The token secret the authorizer gets through SSM (a fresh one by default).
        in_process: `endpoint_url` is a `MotoServer` of this process started with in-process clients: the
            handlers and the event sources reach it without HTTP (AWS's endpoints, answered by the mock).
    """
    session = boto3.Session(
        region_name=REGION,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "emulator"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "emulator"),
    )
    stack = create_stack(session, prefix, endpoint_url=endpoint_url)
    secret = jwt_secret or secrets.token_hex(32)
    session.client("ssm", endpoint_url=endpoint_url).put_parameter(
        Name=SECRET_PARAMETER, Value=secret, Type="SecureString", Overwrite=True
    )
    _seed_orders(session, endpoint_url, stack.names["OrdersTable"])
    resolver = Resolver(
        stack,
        parameters={"JwtSecretParameter": SECRET_PARAMETER, **graph_parameters(), **(parameters or {})},
        extra_refs={"WebSocketApi": API_ID},
    )
    environment = emulated_environment(resolver, None if in_process else endpoint_url, management_url)
    if in_process:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(environment)
    reset_lambda_containers()
    guard = IamGuard(resolver) if enforce_iam else None
    invoker = Invoker(stack, guard)
    spec = WebSocketApiSpec.from_template(resolver, API_ID)
    domain = management_url.split("://", 1)[-1]
    gateway = Gateway(spec, invoker, EventFactory(spec, domain), limits or GatewayLimits())
    sqs = session.client("sqs") if in_process else session.client("sqs", endpoint_url=endpoint_url)
    pollers = [
        SqsPoller(
            sqs, invoker, trigger, stack.queue_urls[trigger.queue_id], stack.queue_arns[trigger.queue_id]
        )
        for trigger in sqs_triggers(resolver)
    ]
    return EmulatedStack(stack, resolver, invoker, gateway, environment, secret, pollers)


def graph_parameters() -> dict[str, str]:
    """The parameters that choose the graph and the model, from this shell's `LANGGRAPH_CONFIG`, `GRAPH` and
    `MODEL` (a deployment gets them from `make build` and `make deploy` the same way)."""
    config = os.environ.get("LANGGRAPH_CONFIG")
    chosen = {
        "LangGraphConfig": os.path.abspath(config) if config else "",
        "GraphName": os.environ.get("GRAPH", ""),
        "Model": os.environ.get("MODEL", ""),
    }
    return {name: value for name, value in chosen.items() if value}


def _seed_orders(session: Any, endpoint_url: str, table: str) -> None:
    from support_agent.orders.dynamodb import DynamoDBOrderStore
    from support_agent.orders.store import load_demo_orders

    resource = session.resource("dynamodb", endpoint_url=endpoint_url)
    if not resource.Table(table).scan(Limit=1).get("Items"):
        DynamoDBOrderStore(table, resource=resource).put(load_demo_orders())
