"""The route handlers' logic: `$connect`, `$disconnect`, and client frames (`$default`, `interrupt_response`).

Each applies the protocol's rules with the shared parser and admission, answers refusals at once with
`post_to_connection`, and queues valid turns for the worker. Nothing here imports LangGraph.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import APIGatewayWebSocketConnectEventModel
from pydantic import Field

from chat_runtime.admission import Rejected, admit
from chat_runtime.agui import AGUI_SUBPROTOCOL, FrameCodec, codec_for, requested_protocol, subprotocols_in
from chat_runtime.auth import thread_key
from chat_runtime.aws.cancel_marks import CancelMarks
from chat_runtime.aws.connections import Connection, ConnectionStore
from chat_runtime.aws.dynamodb_sessions import DynamoDBSessionManager, session_item
from chat_runtime.aws.events import MessageEvent
from chat_runtime.aws.frame_log import DynamoDBFrameLog
from chat_runtime.aws.gateway import (
    ROUTE,
    THROTTLE_CODES,
    client_config,
    endpoint_url,
    error_code,
    management_client,
    post_texts,
)
from chat_runtime.aws.jobs import JobKind, TurnJob, enqueue
from chat_runtime.aws.parallel import started
from chat_runtime.aws.settings import AwsSettings
from chat_runtime.control import CancelMode
from chat_runtime.limits import DEFAULT_BURST, DEFAULT_FRAMES_PER_SECOND, rate_limited, token_expired
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
    parse_client_frame,
)
from chat_runtime.replay import replay_frames
from chat_runtime.sessions import SessionRecord, ThreadStatus
from chat_runtime.turn_rules import no_running_turn, turn_running

logger = logging.getLogger(__name__)
OK = {"statusCode": 200}
RECONNECT = "This connection is not known any more. Please reconnect."


class ConnectEvent(APIGatewayWebSocketConnectEventModel):
    """Powertools' connect event, with the query string it leaves out (the token travels there)."""

    query_string_parameters: dict[str, str] | None = Field(None, alias="queryStringParameters")


UNAUTHORIZED = {"statusCode": 401}
RATE_WINDOW_SECONDS = 10
BUSY = "The service is busy right now. Please try again in a moment."
FAILED = "Sorry, we could not take that message. Please send it again."
MAX_SESSION_HANDED_ON = 32_000
"""Bytes of a session's item (as JSON) a queued job carries at most (an SQS message holds 256 KB)."""


@dataclass
class RouteDeps:
    """What the route handlers talk to."""

    sessions: DynamoDBSessionManager
    connections: ConnectionStore
    frames: DynamoDBFrameLog
    sqs: Any
    queue_url: str
    default_customer_id: str
    allow_anonymous: bool = False
    clock: Callable[[], float] = time.time
    frames_per_window: int = DEFAULT_BURST + int(DEFAULT_FRAMES_PER_SECOND * RATE_WINDOW_SECONDS)

    @property
    def cancels(self) -> CancelMarks:
        """Cancel marks on the sessions table, for the worker running a thread's turn."""
        return CancelMarks(self.sessions.table_name, self.sessions.client)

    @classmethod
    def from_settings(cls, settings: AwsSettings) -> RouteDeps:
        """Clients for the tables and the queue the settings name."""
        import boto3

        # A route handler must answer quickly: three attempts with standard backoff, then a clear error.
        fast = client_config(ROUTE)
        dynamodb = boto3.client("dynamodb", endpoint_url=settings.dynamodb_endpoint_url, config=fast)
        return cls(
            sessions=DynamoDBSessionManager(
                settings.sessions_table, settings.session_ttl_seconds, client=dynamodb
            ),
            connections=ConnectionStore(settings.connections_table, client=dynamodb),
            frames=DynamoDBFrameLog(settings.frames_table, client=dynamodb),
            sqs=boto3.client("sqs", config=fast),
            queue_url=settings.turn_queue_url,
            default_customer_id=settings.demo_customer_id,
            allow_anonymous=settings.allow_anonymous,
        )


@cache
def default_route_deps() -> RouteDeps:
    """The route handlers' dependencies from the environment, built once per Lambda container."""
    return RouteDeps.from_settings(AwsSettings.from_environment())


def on_connect(event: dict[str, Any], deps: RouteDeps) -> dict[str, Any]:
    """Record the connection, the principal and customer the authorizer vouched for, and its protocol.

    A client asking for the `ag-ui` subprotocol (`Sec-WebSocket-Protocol`, which API Gateway passes to
    `$connect`) gets it in the response's header, which API Gateway answers the handshake with; `?protocol=
    ag-ui` chooses AG-UI too. Without either the connection speaks our own protocol.
    """
    request = parse(event=event, model=ConnectEvent)
    subprotocols = subprotocols_in(_header(event, "Sec-WebSocket-Protocol"))
    protocol = requested_protocol(subprotocols, request.query_string_parameters or {})
    identity = event.get("requestContext", {}).get("authorizer") or {}
    customer, principal = identity.get("customer_id"), identity.get("principal")
    expires_at = float(identity.get("expires_at") or 0) or None
    if not customer or not principal:
        if not deps.allow_anonymous:
            logger.warning("refused a connection without an authorizer context")
            return UNAUTHORIZED
        customer, principal = deps.default_customer_id, None
    deps.connections.add(
        request.request_context.connection_id, customer, principal, expires_at=expires_at, protocol=protocol
    )
    if AGUI_SUBPROTOCOL in subprotocols:
        return {**OK, "headers": {"Sec-WebSocket-Protocol": AGUI_SUBPROTOCOL}}
    return OK


def _header(event: dict[str, Any], name: str) -> str | None:
    """A request header of the event, whatever its case (clients and proxies spell headers differently)."""
    headers = event.get("headers") if isinstance(event.get("headers"), dict) else {}
    found = [value for key, value in (headers or {}).items() if str(key).lower() == name.lower()]
    return str(found[0]) if found else None


def on_disconnect(event: dict[str, Any], deps: RouteDeps) -> dict[str, Any]:
    """Forget the connection (running turns still finish and are saved).

    Only `requestContext.connectionId` is read: Powertools' model would refuse an event without fields AWS
    may leave out (`identity`, `disconnectStatusCode`, `disconnectReason`) and leave the row behind.
    """
    context = event.get("requestContext") if isinstance(event, dict) else None
    connection_id = context.get("connectionId") if isinstance(context, dict) else None
    if not isinstance(connection_id, str) or not connection_id:
        logger.warning("a $disconnect event without a connection id")
        return OK
    deps.connections.remove(connection_id)
    return OK


def on_client_frame(event: dict[str, Any], deps: RouteDeps) -> dict[str, Any]:
    """Validate one client frame; refuse it on the socket or queue its turn. Always answers 200.

    Every failure the handler can catch is answered with a protocol error: `service_busy` for throttling
    and timeouts, `internal_error` for anything else; API Gateway's own `Internal server error` is left for
    what no handler can catch (docs/protocol.md).
    """
    request = parse(event=event, model=MessageEvent)  # only the fields read: AWS may leave others out
    context = request.request_context
    endpoint = endpoint_url(context.domain_name, context.stage)
    seen: list[Connection] = []  # the connection, once read: its protocol is the answer's
    try:
        return _on_client_frame(request, endpoint, deps, seen)
    except Exception as error:
        busy = transient(error)
        # An unexpected failure (not a throttle or a timeout) is logged with its traceback.
        logger.warning(
            "could not handle a frame: %s", error_code(error) or type(error).__name__, exc_info=not busy
        )
        answer = (
            ErrorFrame(code=ErrorCode.SERVICE_BUSY, message=BUSY)
            if busy
            else ErrorFrame(code=ErrorCode.INTERNAL_ERROR, message=FAILED)
        )
        codec = codec_for(seen[0].protocol) if seen else _codec_of(deps, context.connection_id)
        tell(endpoint, context.connection_id, codec.encode(answer))
        return OK


def tell(endpoint: str, connection_id: str, texts: list[str]) -> None:
    """Post a route handler's answer; when even that fails, log it and go on (never raise: API Gateway
    would send its own `Internal server error`). The client learns the outcome through `resume`."""
    try:
        post_texts(management_client(endpoint), connection_id, texts)
    except Exception as error:
        logger.warning("could not post an answer: %s", error_code(error) or type(error).__name__)


def _codec_of(deps: RouteDeps, connection_id: str) -> FrameCodec:
    """The codec of a connection's protocol, read after a failure that came before the handler had read it
    (our own if it cannot be read)."""
    try:
        return codec_for(deps.connections.protocol(connection_id))
    except Exception:
        return codec_for(None)


def transient(error: BaseException) -> bool:
    """Throttling, a 5xx or a timeout: the same frame may well succeed in a moment."""
    from botocore.exceptions import ConnectionError, HTTPClientError

    if isinstance(error, HTTPClientError | ConnectionError):
        return True
    status = getattr(error, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error_code(error) in THROTTLE_CODES or int(status or 0) >= 500


def _on_client_frame(
    request: MessageEvent, endpoint: str, deps: RouteDeps, seen: list[Connection]
) -> dict[str, Any]:
    context = request.request_context
    connection_id = context.connection_id
    codec = codec_for(None)

    def reply(*frames: ServerFrame) -> dict[str, Any]:
        tell(endpoint, connection_id, encoded(codec, frames))
        return OK

    def refuse(key: str, error: ServerFrame, *resend: ServerFrame) -> dict[str, Any]:
        return reply(numbered_refusal(deps, key, error), *resend)

    body = _body(request)
    # The session is read while the connection's frame is counted, under the principal API Gateway repeats
    # from the authorizer; it is used only if it is the connection's own principal's and the frame's thread
    # (the same storage key). Our protocol's parse names the thread early; an AG-UI RunAgentInput is decoded
    # only once the connection's protocol is known, and its session is read then.
    peeked = parse_client_frame(body)
    granted = _granted_principal(request)
    early_key = (
        thread_key(peeked.thread_id, granted)
        if granted and isinstance(peeked, MessageFrame | InterruptResponseFrame | ResumeFrame)
        else None
    )
    early = started(partial(deps.sessions.get_state, early_key)) if early_key else None
    connection, allowed = deps.connections.count_frame(
        connection_id, deps.frames_per_window, RATE_WINDOW_SECONDS, now=deps.clock()
    )
    if connection is None:
        return reply(ErrorFrame(code=ErrorCode.INTERNAL_ERROR, message=RECONNECT))
    seen.append(connection)
    codec = codec_for(connection.protocol)
    if connection.token_expired(deps.clock()):
        return reply(token_expired().to_frame())
    if not allowed:
        return reply(rate_limited().to_frame())
    frame = codec.decode(body)
    if isinstance(frame, ProtocolError):
        logger.info("refused a frame", extra={"code": frame.code.value})
        return reply(frame.to_frame())
    key = thread_key(frame.thread_id, connection.principal)

    def session() -> SessionRecord | None:
        if early is not None and early_key == key:
            return early.result()
        return deps.sessions.get_state(key)

    if isinstance(frame, ResumeFrame):
        record = session()
        running = record is not None and record.status is ThreadStatus.RUNNING
        if running:  # the worker continues on this connection, with what follows the replay
            deps.sessions.set_follower(key, connection_id)
        replayed = replay_frames(record, deps.frames, key, frame.thread_id, frame.after_seq)
        # Failing, the handler answers service_busy: the client resumes again.
        post_texts(management_client(endpoint), connection_id, encoded(codec, replayed))
        if running:
            deps.sessions.follower_caught_up(key, connection_id, replayed_up_to(replayed, frame.after_seq))
        return OK
    if isinstance(frame, CancelFrame):
        if deps.cancels.request(key, CancelMode(frame.action)):
            return OK  # the worker's turn ends with a frame that says it was cancelled
        return refuse(key, no_running_turn(frame.thread_id).to_frame())
    job = TurnJob(
        kind=JobKind.STATE if isinstance(frame, GetStateFrame) else JobKind.TURN,
        frame=frame,
        thread_id=frame.thread_id,
        connection_id=connection_id,
        endpoint_url=endpoint,
        customer_id=connection.customer_id,
        owner=connection.principal,
        request_id=context.request_id,
        message_id=getattr(frame, "message_id", None),
        protocol=connection.protocol,
        run_id=codec.queued_run(frame.thread_id),
    )
    if isinstance(frame, GetStateFrame):
        enqueue_surely(deps.sqs, deps.queue_url, job)
        return OK
    record = session()
    running = record is not None and record.status is ThreadStatus.RUNNING
    unknown = running or (record is not None and record.needs_recovery)
    if running and isinstance(frame, MessageFrame) and frame.multitask_strategy != "enqueue":
        if frame.multitask_strategy == "reject":
            return reply(turn_running(frame.thread_id).to_frame())
        deps.cancels.request(key, CancelMode(frame.multitask_strategy))  # then this message runs next
    # While a turn runs (or a dead one awaits recovery), its outcome is unknown here: the worker decides,
    # in FIFO order.
    if not unknown:
        decision = admit(frame, record, deps.sessions.now())
        if isinstance(decision, Rejected):
            if decision.error.code is ErrorCode.SESSION_EXPIRED:
                enqueue_surely(
                    deps.sqs, deps.queue_url, job.model_copy(update={"kind": JobKind.PURGE, "frame": None})
                )
            return refuse(key, decision.error.to_frame(), *decision.resend)
        job = job.model_copy(update=handed_on(record))
    enqueue_surely(deps.sqs, deps.queue_url, job)
    logger.info("queued a turn", extra={"thread_id": frame.thread_id, "connection_id": connection_id})
    return OK


def handed_on(record: SessionRecord | None) -> dict[str, Any]:
    """The job's fields that hand the worker the session this handler read (not running, not awaiting
    recovery), so that its first attempt need not read it again; nothing for a session too big to carry."""
    if record is None:
        return {"session_seen": True}
    item = session_item(record)
    if len(json.dumps(item)) > MAX_SESSION_HANDED_ON:
        return {}
    return {"session_seen": True, "session_item": item}


def numbered_refusal(deps: RouteDeps, key: str, error: ServerFrame) -> ServerFrame:
    """`error` with the thread's next `seq`, kept in the frame log for `resume` (as is for a thread never
    seen, or one whose turn runs: its worker numbers alone, docs/protocol.md)."""
    seq = deps.sessions.reserve_seq(key)
    if seq is None:
        return error
    numbered = error.model_copy(update={"seq": seq})
    try:
        deps.frames.record(key, [numbered])
    except Exception as failure:  # the number stays taken: the client sees a gap, never a reused seq
        logger.warning("could not log a refusal: %s", error_code(failure) or type(failure).__name__)
    return numbered


def encoded(codec: FrameCodec, frames: tuple[ServerFrame, ...] | list[ServerFrame]) -> list[str]:
    """The texts of a route handler's answer in the connection's protocol, ending any run it opened (an
    AG-UI run of re-sent interrupts finishes with them)."""
    texts = [text for frame in frames for text in codec.encode(frame)]
    for thread_id in dict.fromkeys(getattr(frame, "thread_id", None) for frame in frames):
        if thread_id is not None:
            texts += codec.end_turn(thread_id)
    return texts


def _granted_principal(request: MessageEvent) -> str | None:
    """The principal the `$connect` authorizer granted, as API Gateway repeats it on every message event."""
    principal = (request.request_context.authorizer or {}).get("principal")
    return principal if isinstance(principal, str) and principal else None


def replayed_up_to(replayed: list[ServerFrame], after_seq: int) -> int:
    """The highest `seq` a resuming client holds once it has the replay (its own `after_seq` at least)."""
    return max([after_seq, *(f.seq for f in replayed if f.seq is not None)])


def enqueue_surely(sqs: Any, queue_url: str, job: TurnJob, attempts: int = 5) -> None:
    """Queue `job`, retrying transient failures with the same deduplication id.

    A `SendMessage` that timed out may have been accepted: its retry (same `MessageDeduplicationId`, within
    SQS's five-minute window) is dropped by SQS instead of queueing the turn twice.
    """
    for attempt in range(attempts):
        try:
            enqueue(sqs, queue_url, job)
            return
        except Exception as error:
            if attempt + 1 == attempts or not transient(error):
                raise
            time.sleep(0.05 * 2**attempt)


def _body(request: MessageEvent) -> str | bytes:
    body = request.body if isinstance(request.body, str) else ""
    if not request.is_base64_encoded:
        return body
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return b"\xff"  # not text: refused as invalid JSON
