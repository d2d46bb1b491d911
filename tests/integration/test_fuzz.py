"""Fuzzing both transports with random and mutated frames (hypothesis).

Through the local `/ws` on a real socket and through the route handlers under moto: no exception escapes,
each bad frame yields exactly one `error`, the connection then still completes a valid turn, and no other
thread or order changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from langgraph.checkpoint.memory import InMemorySaver
from websockets.sync.client import ClientConnection, connect

from chat_runtime.protocol import ProtocolError, parse_client_frame
from local_server import create_app
from support_agent.graph import build_support_graph
from support_agent.models.offline import OfflineSupportModel
from support_agent.orders.store import InMemoryOrderStore
from tests.support.lambdas import Deployment
from tests.support.live_server import receive_turn, serve

pytestmark = pytest.mark.integration
LOCAL_CASES = 2000
AWS_CASES = 500

VALID: list[dict[str, Any]] = [
    {"type": "message", "thread_id": "victim", "content": "Cancel order 1043"},
    {"type": "interrupt_response", "thread_id": "victim", "approved": True},
    {
        "type": "interrupt_response",
        "thread_id": "victim",
        "approved": False,
        "interrupt_id": "x",
        "edits": {},
    },
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def mutated(draw: st.DrawFn) -> str | bytes:
    """A valid frame with one thing broken, or anything at all."""
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return draw(st.text(max_size=300))
    if choice == 1:
        return draw(st.binary(max_size=100))
    if choice == 2:
        return json.dumps(draw(json_values))
    frame: dict[str, Any] = dict(draw(st.sampled_from(VALID)))
    if choice == 3:
        frame.pop(draw(st.sampled_from(sorted(frame))))
    elif choice == 4:
        frame[draw(st.sampled_from(sorted(frame)))] = draw(json_values)
    else:
        text = json.dumps(frame)
        cut = draw(st.integers(0, len(text) - 1))
        return text[:cut] + draw(st.text(max_size=3)) + text[cut + 1 :]
    return json.dumps(frame)


def is_refused(raw: str | bytes) -> bool:
    return isinstance(parse_client_frame(raw), ProtocolError)


def fuzz_settings(cases: int) -> settings:
    return settings(
        max_examples=cases,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
        ],
    )


# ---------------------------------------------------------------- local /ws


@pytest.fixture(scope="module")
def local() -> Iterator[tuple[ClientConnection, InMemoryOrderStore]]:
    store = InMemoryOrderStore.with_demo_data()
    graph = build_support_graph(OfflineSupportModel(), store, InMemorySaver())
    # No rate limit here: the fuzzing aims at the protocol path (the limit has its own tests).
    app = create_app(graph=graph, rate_limit=None)
    with serve(app) as url, connect(url.replace("http", "ws") + "/ws") as ws:
        interrupt = receive_turn(_send(ws, VALID[0]))[-1]
        assert interrupt["type"] == "interrupt"
        yield ws, store


def _send(ws: ClientConnection, frame: dict[str, Any] | str | bytes) -> ClientConnection:
    ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))
    return ws


@fuzz_settings(LOCAL_CASES)
@given(raw=mutated())
def test_the_local_server_answers_every_bad_frame_with_one_error(
    local: tuple[ClientConnection, InMemoryOrderStore], raw: str | bytes
) -> None:
    assume(is_refused(raw))
    ws, _ = local
    ws.send(raw)
    reply = json.loads(ws.recv(timeout=10))
    assert reply["type"] == "error" and reply["message"]


def test_after_the_local_fuzzing_everything_still_works(
    local: tuple[ClientConnection, InMemoryOrderStore],
) -> None:
    ws, store = local
    fresh = InMemoryOrderStore.with_demo_data()
    for order in fresh.list_for_customer("demo-customer") + fresh.list_for_customer("other-customer"):
        assert store.get(order.customer_id, order.order_id) == order  # no order changed
    frames = receive_turn(
        _send(ws, {"type": "message", "thread_id": "after", "content": "Where is order 1042?"})
    )
    assert frames[-1]["type"] == "message_complete"
    # The victim thread still waits for its approval, untouched by everything thrown at it.
    frames = receive_turn(_send(ws, {"type": "message", "thread_id": "victim", "content": "hello"}))
    assert frames[0]["code"] == "approval_pending"


# ---------------------------------------------------------------- API Gateway route handlers (moto)


@fuzz_settings(AWS_CASES)
@given(raw=mutated())
def test_the_route_handlers_answer_every_bad_frame_with_one_error(
    deployment: Deployment, raw: str | bytes
) -> None:
    assume(is_refused(raw))
    connection = deployment.connect("fuzz=")
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    assert deployment.send(connection, text) == {"statusCode": 200}
    [reply] = deployment.new_frames(connection)
    assert reply["type"] == "error" and reply["message"]
    assert deployment.queued() == 0


def test_after_the_route_fuzzing_a_turn_still_completes(deployment: Deployment) -> None:
    connection = deployment.connect("fuzz=")
    for raw in (
        "{",
        "[]",
        '{"type": "message"}',
        "x" * 40_000,
        '{"type":"interrupt_response","thread_id":"v"}',
    ):
        deployment.send(connection, raw)
    assert len(deployment.new_frames(connection)) == 5
    frames = deployment.turn(
        connection, {"type": "message", "thread_id": "v", "content": "Where is order 1042?"}
    )
    assert frames[-1]["type"] == "message_complete"
