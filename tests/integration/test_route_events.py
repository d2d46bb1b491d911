"""The client-frame route handlers (`$default`, `interrupt_response`) take events without the fields AWS may
leave out: only the connection, the request id, where to post back and the body are read."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.lambdas import Deployment, event

pytestmark = pytest.mark.integration

# Request-context fields of Powertools' message model that the handlers never read.
UNUSED = [
    "identity",
    "extendedRequestId",
    "requestTime",
    "connectedAt",
    "requestTimeEpoch",
    "apiId",
    "routeKey",
    "messageId",
    "eventType",
    "messageDirection",
]
ROUTES = ["message", "interrupt_response"]


def _answer(deployment: Deployment, folder: str, request: dict[str, Any], connection: str) -> list[Any]:
    """Invoke the route handler; what it did: the turn queued (message) or the frame it answered with."""
    assert deployment.invoke(folder, request) == {"statusCode": 200}
    if folder == "message":
        assert deployment.queued() == 1  # the turn was taken
        return []
    frames = deployment.new_frames(connection)
    assert [f["type"] for f in frames] == ["error"]  # answered: nothing is pending on this new thread
    assert frames[0]["code"] == "no_pending_approval", frames
    return frames


@pytest.mark.parametrize("field", UNUSED)
@pytest.mark.parametrize("folder", ROUTES)
def test_a_client_frame_event_without_a_field_the_handlers_never_read_is_handled(
    deployment: Deployment, folder: str, field: str
) -> None:
    connection = deployment.connect()
    request = event(folder, connectionId=connection, requestId=str(uuid.uuid4()))
    del request["requestContext"][field]
    _answer(deployment, folder, request, connection)


@pytest.mark.parametrize("folder", ROUTES)
def test_a_client_frame_event_without_is_base64_encoded_reads_the_body_as_text(
    deployment: Deployment, folder: str
) -> None:
    connection = deployment.connect()
    request = event(folder, connectionId=connection, requestId=str(uuid.uuid4()))
    del request["isBase64Encoded"]
    _answer(deployment, folder, request, connection)


@pytest.mark.parametrize("folder", ROUTES)
def test_a_client_frame_event_with_only_the_fields_read_is_handled(
    deployment: Deployment, folder: str
) -> None:
    connection = deployment.connect()
    request = event(f"{folder}_minimal", connectionId=connection)
    assert set(request["requestContext"]) == {"requestId", "domainName", "stage", "connectionId"}
    _answer(deployment, folder, request, connection)
