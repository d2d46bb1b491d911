"""Drive the real Lambda handlers under moto: WebSocket events in, frames out of moto's backend."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any
from urllib.parse import quote

from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

from local_server.emulator.event_source import sqs_record
from local_server.emulator.functions import REGION as REGION
from local_server.emulator.functions import LambdaContext, load_handler_module
from local_server.iam import IamGuard
from local_server.intrinsics import ACCOUNT_ID, Resolver
from local_server.stack import ROOT, Stack

EVENTS = ROOT / "tests" / "events"
DEFAULT_ACCOUNT_ID = ACCOUNT_ID  # moto's account
API_ID = "abc123defg"  # the WebSocket API of the recorded events
FUNCTIONS = {
    "authorizer": "AuthorizerFunction",
    "connect": "ConnectFunction",
    "disconnect": "DisconnectFunction",
    "message": "MessageFunction",
    "interrupt_response": "InterruptResponseFunction",
    "worker": "AgentWorkerFunction",
    "dead_letters": "DeadLetterFunction",
}


def event(name: str, **request_context: Any) -> dict[str, Any]:
    """A recorded API Gateway WebSocket event from `tests/events/`, with request-context overrides."""
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    data["requestContext"].update(request_context)
    return data


def read_frames(connection_id: str) -> list[dict[str, Any]]:
    """Every frame posted to the connection so far (moto concatenates the bodies)."""
    connections = apigatewaymanagementapi_backends[DEFAULT_ACCOUNT_ID][REGION].connections
    # moto keys connections by the raw URL path segment: real ids end in "=", which arrives as "%3D".
    connection = connections.get(connection_id) or connections.get(quote(connection_id, safe=""))
    data = connection.data.decode() if connection is not None else ""
    frames, decoder, position = [], json.JSONDecoder(), 0
    while position < len(data):
        frame, position = decoder.raw_decode(data, position)
        frames.append(frame)
    return frames


class Deployment:
    """The stack's handlers, invoked as API Gateway and SQS would invoke them, each under its own IAM role.

    moto does not enforce IAM: `iam` does, refusing any call the invoked function's role (as the template
    defines it) would not allow on AWS.
    """

    def __init__(self, stack: Stack, session: Any) -> None:
        self.stack = stack
        self.sqs = session.client("sqs")
        self.handlers = {folder: load_handler_module(folder) for folder in FUNCTIONS}
        self.iam = IamGuard(Resolver(stack, extra_refs={"WebSocketApi": API_ID}))
        self._seen: dict[str, int] = {}
        self.granted: dict[str, dict[str, Any]] = {}
        """What the authorizer granted each connection: API Gateway repeats it on its message events."""

    def connect(
        self,
        connection_id: str | None = None,
        principal: str = "user-123",
        customer_id: str = "demo-customer",
    ) -> str:
        """Open a connection as the authorizer would have let `principal` (acting for `customer_id`) in."""
        connection_id = connection_id or f"conn-{uuid.uuid4().hex[:10]}="
        identity = {"principalId": principal, "principal": principal, "customer_id": customer_id}
        response = self.invoke("connect", event("connect", connectionId=connection_id, authorizer=identity))
        assert response == {"statusCode": 200}
        self.granted[connection_id] = identity
        return connection_id

    def disconnect(self, connection_id: str) -> None:
        self.invoke("disconnect", event("disconnect", connectionId=connection_id))

    def send(self, connection_id: str, body: str | dict[str, Any]) -> dict[str, Any]:
        """Send a client frame through the route API Gateway would select (`$request.body.type`)."""
        text = body if isinstance(body, str) else json.dumps(body)
        try:
            route = json.loads(text).get("type")
        except (ValueError, AttributeError):
            route = None
        folder = "interrupt_response" if route == "interrupt_response" else "message"
        request = event(
            "message",
            connectionId=connection_id,
            routeKey="interrupt_response" if folder == "interrupt_response" else "$default",
            requestId=str(uuid.uuid4()),
            messageId=str(uuid.uuid4()),
        )
        if connection_id in self.granted:
            request["requestContext"]["authorizer"] = dict(self.granted[connection_id])
        request["body"] = text
        return self.invoke(folder, request)

    def invoke(self, folder: str, payload: dict[str, Any]) -> dict[str, Any]:
        # Per context: a worker running in a thread of its own and a route handler may act at once.
        with self.iam.acting_as(FUNCTIONS[folder], scope="context"):
            result: dict[str, Any] = self.handlers[folder].handler(copy.deepcopy(payload), LambdaContext())
        return result

    def queued(self, logical_id: str = "TurnQueue") -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.stack.queue_urls[logical_id], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def deliver(self, logical_id: str = "TurnQueue", folder: str = "worker", limit: int = 20) -> int:
        """Hand queued messages to a function one by one, as the SQS event source would; returns the count."""
        url = self.stack.queue_urls[logical_id]
        delivered = 0
        for _ in range(limit):
            messages = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"], MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return delivered
            record = sqs_record(messages[0], self.stack.queue_arns[logical_id])
            response = self.invoke(folder, {"Records": [record]})
            if not response.get("batchItemFailures"):
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
            delivered += 1
        return delivered

    def new_frames(self, connection_id: str) -> list[dict[str, Any]]:
        """Frames posted since the last call for this connection."""
        frames = read_frames(connection_id)
        seen = self._seen.get(connection_id, 0)
        self._seen[connection_id] = len(frames)
        return frames[seen:]

    def turn(self, connection_id: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        """Send a frame, let the worker run what it queued, return the frames the turn produced."""
        assert self.send(connection_id, body) == {"statusCode": 200}
        self.deliver()
        return self.new_frames(connection_id)
