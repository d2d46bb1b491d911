"""AG-UI on the AWS path: the Lambda handlers under moto, and `make run-aws`'s emulator process.

A connection that asks for the `ag-ui` subprotocol at `$connect` speaks AG-UI from then on: its RunAgentInput
frames become turns, and every event posted to it (the route handlers' refusals, the worker's events, the
replay after `resume`) is AG-UI that AG-UI's client accepts (`tests/support/agui_rules.py`).
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

import pytest
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from local_server.emulator.functions import reset_lambda_containers
from tests.support.agui_rules import agui_violations
from tests.support.lambda_socket import LambdaSocket
from tests.support.lambdas import Deployment, event
from tests.support.subprocess_server import aws_emulator_process

pytestmark = pytest.mark.integration
CONFIG = Path(__file__).resolve().parents[2] / "examples" / "langgraph_features" / "langgraph.json"
TERMINAL = ("RUN_FINISHED", "RUN_ERROR")


class Socket(Protocol):
    def send(self, message: str) -> None: ...

    def recv(self, timeout: float | None = None) -> str | bytes: ...


class Served(Protocol):
    def open(self) -> AbstractContextManager[Socket]: ...


Serve = Callable[[str | None], AbstractContextManager[Served]]


def connect_agui(deployment: Deployment) -> str:
    """`$connect` as API Gateway invokes it for a browser asking for the `ag-ui` subprotocol."""
    connection_id = f"conn-{uuid.uuid4().hex[:10]}="
    identity = {"principalId": "user-1", "principal": "user-1", "customer_id": "demo-customer"}
    request = event("connect", connectionId=connection_id, authorizer=identity)
    request["headers"]["Sec-WebSocket-Protocol"] = "ag-ui"
    response = deployment.invoke("connect", request)
    assert response == {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "ag-ui"}}
    return connection_id


class LambdaPath:
    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment

    @contextmanager
    def open(self) -> Iterator[Socket]:
        socket = LambdaSocket(self.deployment, connect_agui(self.deployment))
        yield socket
        socket.wait_idle()


class EmulatorPath:
    def __init__(self, url: str) -> None:
        self.url = url

    @contextmanager
    def open(self) -> Iterator[Socket]:
        with connect(self.url, subprotocols=[Subprotocol("ag-ui")], open_timeout=30) as ws:
            assert ws.subprotocol == "ag-ui"  # the handshake answers what `$connect` accepted
            yield ws


@pytest.fixture(params=["lambda", "run-aws"])
def serve(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Serve:
    @contextmanager
    def served(graph: str | None) -> Iterator[Served]:
        chosen = {"LANGGRAPH_CONFIG": str(CONFIG), "GRAPH": graph} if graph else {}
        if request.param == "run-aws":
            with aws_emulator_process(env={**os.environ, **chosen}) as emulator:
                yield EmulatorPath(emulator.signed_in_url)
                assert "IAM refused" not in emulator.log() and "Traceback" not in emulator.log()
            return
        deployment: Deployment = request.getfixturevalue("deployment")
        for name, value in chosen.items():
            monkeypatch.setenv(name, value)
        reset_lambda_containers()
        yield LambdaPath(deployment)
        reset_lambda_containers()

    return served


def run_input(thread_id: str, content: str | None = None, **extra: Any) -> str:
    messages = [{"id": uuid.uuid4().hex, "role": "user", "content": content}] if content else []
    return json.dumps(
        {
            "threadId": thread_id,
            "runId": f"run-{uuid.uuid4().hex[:8]}",
            "messages": messages,
            "state": {},
            "tools": [],
            "context": [],
            "forwardedProps": {},
            **extra,
        }
    )


def until_terminal(ws: Socket, seen: list[dict[str, Any]], timeout: float = 60) -> list[dict[str, Any]]:
    """Events up to the run's terminal one (each also appended to `seen`, the connection's whole stream)."""
    events: list[dict[str, Any]] = []
    while not events or events[-1]["type"] not in TERMINAL:
        events.append(json.loads(ws.recv(timeout=timeout)))
        seen.append(events[-1])
    return events


def run(ws: Socket, seen: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    ws.send(text)
    events = until_terminal(ws, seen)
    assert events[0] == {
        "type": "RUN_STARTED",
        "threadId": json.loads(text)["threadId"],
        "runId": json.loads(text)["runId"],
    }
    return events


def answer(events: list[dict[str, Any]]) -> str:
    return "".join(e["delta"] for e in events if e["type"] == "TEXT_MESSAGE_CONTENT")


def resume(thread_id: str, interrupt_id: str, payload: Any) -> str:
    return run_input(
        thread_id, resume=[{"interruptId": interrupt_id, "status": "resolved", "payload": payload}]
    )


def test_an_approval_and_a_rejection(serve: Serve) -> None:
    with serve(None) as path, path.open() as ws:
        seen: list[dict[str, Any]] = []
        asked = run(ws, seen, run_input("agui-approve", "Please cancel order 1043"))
        outcome = asked[-1]["outcome"]
        assert outcome["type"] == "interrupt"
        [interrupt] = outcome["interrupts"]
        assert interrupt["reason"] == "approval:cancel_order"
        assert interrupt["message"] == "Cancel order 1043 (Wireless headphones, total 129.00)?"
        calls = [e for e in asked if e["type"] == "TOOL_CALL_START" and e["toolCallName"] == "cancel_order"]
        assert interrupt["toolCallId"] == calls[0]["toolCallId"]
        kinds = [e["type"] for e in asked]
        assert kinds[-4:] == ["STATE_SNAPSHOT", "MESSAGES_SNAPSHOT", "CUSTOM", "RUN_FINISHED"]
        snapshot = asked[-3]["messages"]
        assert snapshot[0]["role"] == "user" and snapshot[0]["content"] == "Please cancel order 1043"
        done = run(ws, seen, resume("agui-approve", interrupt["id"], {"approved": True}))
        assert done[-1]["outcome"] == {"type": "success"}
        assert "Order 1043 has been cancelled." in answer(done)
        # The same socket, another thread: a rejection runs nothing.
        asked = run(ws, seen, run_input("agui-reject", "Please cancel order 1046"))
        [interrupt] = asked[-1]["outcome"]["interrupts"]
        kept = run(ws, seen, resume("agui-reject", interrupt["id"], {"approved": False}))
        assert kept[-1]["outcome"] == {"type": "success"}
        assert "remain active" in answer(kept)
        # A refusal is RUN_ERROR with our code; the connection stays usable.
        tools = [{"name": "x", "description": "a frontend tool", "parameters": {}}]
        refused = run(ws, seen, run_input("agui-reject", "hello", tools=tools))
        assert [e["type"] for e in refused] == ["RUN_STARTED", "RUN_ERROR"]
        assert refused[-1]["code"] == "invalid_field"
        late = run(ws, seen, resume("agui-reject", interrupt["id"], {"approved": True}))
        assert (late[-1]["type"], late[-1]["code"]) == ("RUN_ERROR", "no_pending_approval")
        assert agui_violations(seen) == []


def test_a_free_text_question(serve: Serve) -> None:
    with serve("question") as path, path.open() as ws:
        seen: list[dict[str, Any]] = []
        asked = run(ws, seen, run_input("agui-q", "hi"))
        [interrupt] = asked[-1]["outcome"]["interrupts"]
        assert (interrupt["reason"], interrupt["message"]) == ("input", "What is your name?")
        assert [e["type"] for e in asked][-4:-2] == ["STATE_SNAPSHOT", "MESSAGES_SNAPSHOT"]
        done = run(ws, seen, resume("agui-q", interrupt["id"], "Ada"))
        assert answer(done) == "Nice to meet you, Ada!" and done[-1]["outcome"] == {"type": "success"}
        assert agui_violations(seen) == []


def test_a_cancel_and_a_reconnect(serve: Serve) -> None:
    with serve("essay") as path:
        seen: list[dict[str, Any]] = []
        with path.open() as ws:
            text = run_input("agui-essay", "write me an essay")
            ws.send(text)
            started = [json.loads(ws.recv(timeout=30))]
            while started[-1]["type"] != "TEXT_MESSAGE_CONTENT":
                started.append(json.loads(ws.recv(timeout=30)))
            ws.send(json.dumps({"type": "cancel", "thread_id": "agui-essay"}))
            stopped = started + until_terminal(ws, [])
            assert stopped[-1]["outcome"] == {"type": "cancelled"}
            assert agui_violations(stopped) == []
            # Mid-answer, the client goes away.
            ws.send(run_input("agui-essay-2", "write me an essay"))
            for _ in range(6):
                seen.append(json.loads(ws.recv(timeout=30)))
        with path.open() as again:
            again.send(json.dumps({"type": "resume", "thread_id": "agui-essay-2", "after_seq": 3}))
            replayed = until_terminal(again, [], timeout=90)
        # A whole run: the replay from its start, then its live rest, as AG-UI's client accepts it.
        assert agui_violations(replayed) == []
        assert replayed[0]["type"] == "RUN_STARTED" and replayed[-1]["outcome"] == {"type": "success"}
        first_text = answer([e for e in seen if e["type"] == "TEXT_MESSAGE_CONTENT"])
        assert answer(replayed).startswith(first_text) and len(answer(replayed)) > len(first_text)


def test_a_retried_turn_goes_on_with_the_run_its_failed_attempt_started(deployment: Deployment) -> None:
    """SQS delivers a job again after an attempt that streamed and died: the retry neither starts the
    client's run a second time nor leaves the dead attempt's message open."""
    from chat_runtime.aws import worker
    from tests.integration.test_aws_redelivery import (
        Fault,
        deliver,
        ends_turn,
        once,
        queued_record,
        throttled,
    )

    connection = connect_agui(deployment)
    text = run_input("agui-retry", "What is the status of order 1043?")
    assert deployment.send(connection, text) == {"statusCode": 200}
    Fault(
        worker.default_worker_deps().sessions._client, "UpdateItem", once(ends_turn), throttled("UpdateItem")
    )
    record = queued_record(deployment)
    assert not deliver(deployment, record)  # the turn's end could not be recorded: the job fails
    failed_attempt = deployment.new_frames(connection)
    assert failed_attempt[0]["type"] == "RUN_STARTED"
    assert not {"RUN_FINISHED", "RUN_ERROR"} & {e["type"] for e in failed_attempt}
    assert deliver(deployment, record)
    retry = deployment.new_frames(connection)
    assert retry[-1]["type"] == "RUN_FINISHED" and retry[-1]["runId"] == json.loads(text)["runId"]
    assert agui_violations(failed_attempt + retry) == []


def test_refusals_and_a_dead_letter_reach_an_ag_ui_client_as_ag_ui(deployment: Deployment) -> None:
    """A refusal (a message while an approval is pending: by the route handler, or by the worker when it
    decides in FIFO order) starts and errors the client's run, then re-sends the approval as a run of its
    own; a dead letter is a bare RUN_ERROR, valid whether or not a failed attempt had started the run."""
    from chat_runtime.aws import worker
    from chat_runtime.aws.jobs import TurnJob

    connection = connect_agui(deployment)
    seen: list[dict[str, Any]] = []
    assert deployment.send(connection, run_input("agui-dl", "Cancel order 1043")) == {"statusCode": 200}
    deployment.deliver()
    seen += deployment.new_frames(connection)
    assert seen[-1]["outcome"]["type"] == "interrupt"
    text = run_input("agui-dl", "and 1044?")
    assert deployment.send(connection, text) == {"statusCode": 200}
    refused = deployment.new_frames(connection)
    assert [e["type"] for e in refused][:2] == ["RUN_STARTED", "RUN_ERROR"]
    assert refused[0]["runId"] == json.loads(text)["runId"] and refused[1]["code"] == "approval_pending"
    assert refused[-1]["outcome"]["type"] == "interrupt"  # the pending approval, again
    seen += refused
    frame = {"type": "message", "thread_id": "agui-dl", "content": "and 1044?", "stream": ["updates"]}
    job = TurnJob(
        frame=frame,
        thread_id="agui-dl",
        connection_id=connection,
        endpoint_url="https://abc123defg.execute-api.us-east-1.amazonaws.com/dev",
        customer_id="demo-customer",
        owner="user-1",
        request_id="decided-1",
        protocol="ag-ui",
        run_id="run-decided",
    )
    asyncio.run(worker.process_job(job, worker.default_worker_deps()))
    decided = deployment.new_frames(connection)
    assert (decided[0]["runId"], decided[1]["code"]) == ("run-decided", "approval_pending")
    assert decided[-1]["outcome"]["type"] == "interrupt"
    seen += decided
    url = deployment.stack.queue_urls["TurnDeadLetterQueue"]
    dead = job.model_copy(update={"request_id": "dead-1"}).model_dump_json()
    deployment.sqs.send_message(
        QueueUrl=url, MessageBody=dead, MessageGroupId="g", MessageDeduplicationId="d1"
    )
    assert deployment.deliver("TurnDeadLetterQueue", "dead_letters") == 1
    [dead_letter] = deployment.new_frames(connection)
    assert (dead_letter["type"], dead_letter["code"]) == ("RUN_ERROR", "internal_error")
    assert [e["type"] for e in decided][-4:-2] == ["STATE_SNAPSHOT", "MESSAGES_SNAPSHOT"]
    # Only the route handler's re-sent approval comes without snapshots (it reads no checkpoints).
    problems = agui_violations([*seen, dead_letter])
    assert [problem.split(": ", 1)[1] for problem in problems] == [
        "an interrupt's RUN_FINISHED without both snapshots before it"
    ]
    assert problems[0].startswith(f"event {len(seen) - len(decided) - 1} ")
