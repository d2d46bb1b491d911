"""`make run-aws`: the real handlers behind the emulated API Gateway, as a client and an operator see them."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from bench.turn_steps import log_after, turn_steps
from local_server.emulator.event_source import DELIVERY_LINE
from local_server.emulator.functions import REPORT_LINE
from tests.support.live_server import receive_turn
from tests.support.subprocess_server import EmulatorProcess, aws_emulator_process

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with aws_emulator_process() as process:
        yield process


def aws_client(service: str, endpoint_url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def test_the_terminal_client_holds_a_conversation_with_an_approval(emulator: EmulatorProcess) -> None:
    script = "What is the status of order 1042?\nPlease cancel order 1043\ny\n/quit\n"
    output = subprocess.run(
        [sys.executable, "-m", "local_server.client", emulator.url, "--token", emulator.token],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "[order_info] Order 1042 (Trail running shoes) has shipped with UPS" in output
    assert "? Cancel order 1043 (Wireless headphones, total 129.00)?" in output
    assert "[order_actions] Order 1043 has been cancelled." in output
    log = emulator.log()
    assert "IAM refused" not in log and "Traceback" not in log
    assert '"message":"queued a turn"' in log  # the route handler's own structured line, as in CloudWatch
    assert "Found credentials" not in log and "PREPARED write payload" not in log  # libraries stay quiet


def test_the_printed_terminal_command_works_as_printed(emulator: EmulatorProcess, tmp_path: Path) -> None:
    printed = re.search(r"^terminal:  (.+)$", emulator.log(), re.MULTILINE)
    assert printed is not None, emulator.log()
    # A shell where `python` is the system's (no project dependencies), as in a fresh terminal.
    (tmp_path / "python").symlink_to(Path(sys.base_exec_prefix) / "bin" / "python3")
    shell = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    shell["PATH"] = f"{tmp_path}:/usr/bin:/bin"
    finished = subprocess.run(
        shlex.split(printed.group(1)),
        input="What is the status of order 1042?\n/quit\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=shell,
    )
    assert finished.returncode == 0, finished.stderr
    assert "has shipped with UPS" in finished.stdout


def test_without_a_valid_token_the_handshake_is_refused_by_the_authorizer(emulator: EmulatorProcess) -> None:
    for url in (emulator.url, f"{emulator.url}?token=not-a-jwt"):
        with pytest.raises(InvalidStatus) as refused:
            connect(url, open_timeout=10)
        assert refused.value.response.status_code == 401


def test_a_message_that_selects_no_known_type_reaches_the_default_route(emulator: EmulatorProcess) -> None:
    with connect(emulator.signed_in_url) as ws:
        ws.send("not json")
        assert json.loads(ws.recv(timeout=10))["code"] == "invalid_json"
        ws.send(json.dumps({"type": "resume", "thread_id": "nothing-here"}))
        assert json.loads(ws.recv(timeout=10)) == {
            "type": "resumed",
            "thread_id": "nothing-here",
            "state": "new",
        }


def test_the_management_api_answers_410_for_closed_connections(emulator: EmulatorProcess) -> None:
    management = aws_client("apigatewaymanagementapi", emulator.url.replace("ws://", "http://"))
    with connect(emulator.signed_in_url) as ws:
        ws.send(json.dumps({"type": "message", "thread_id": "m1", "content": "hello"}))
        receive_turn(ws, timeout=30)
        dynamodb = aws_client("dynamodb", emulator.moto_url)
        [connection] = dynamodb.scan(TableName="local-ConnectionsTable")["Items"]
        connection_id = connection["connection_id"]["S"]
        described = management.get_connection(ConnectionId=connection_id)
        assert described["Identity"]["SourceIp"] == "127.0.0.1"
        management.post_to_connection(ConnectionId=connection_id, Data=b'{"type": "ping"}')
        assert json.loads(ws.recv(timeout=10)) == {"type": "ping"}
    deadline = time.monotonic() + 10
    while dynamodb.scan(TableName="local-ConnectionsTable")["Items"]:
        assert time.monotonic() < deadline, "$disconnect did not remove the connection"
        time.sleep(0.1)
    for call in (management.get_connection, management.post_to_connection):
        with pytest.raises(ClientError) as gone:
            call(
                ConnectionId=connection_id,
                **({"Data": b"x"} if call == management.post_to_connection else {}),
            )
        assert gone.value.response["Error"]["Code"] == "GoneException"


def test_idle_connections_are_closed_as_api_gateway_closes_them() -> None:
    with (
        aws_emulator_process("--idle-timeout", "1") as emulator,
        connect(emulator.signed_in_url) as ws,
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


def test_the_log_reports_each_invocation_and_the_turn_s_time_in_the_queue(emulator: EmulatorProcess) -> None:
    offset = len(emulator.log())
    with connect(emulator.signed_in_url) as ws:
        started = time.perf_counter()
        ws.send(json.dumps({"type": "message", "thread_id": "t-steps", "content": "Where is order 1042?"}))
        frames = receive_turn(ws)
        total_ms = (time.perf_counter() - started) * 1000
    assert frames[-1]["type"] == "message_complete", frames
    log = log_after(emulator, offset)  # the worker's invocation may end after the client has the turn

    durations = {found["function"]: float(found["ms"]) for found in REPORT_LINE.finditer(log)}
    assert {"AuthorizerFunction", "ConnectFunction", "MessageFunction", "AgentWorkerFunction"} <= set(
        durations
    )
    assert 0 < durations["MessageFunction"] < total_ms
    assert 0 < durations["AgentWorkerFunction"] < total_ms + 5000  # it ends after the turn's last frame
    deliveries = [
        found for found in DELIVERY_LINE.finditer(log) if found["function"] == "AgentWorkerFunction"
    ]
    assert len(deliveries) == 1 and deliveries[0]["queue"] == "TurnQueue", log
    assert 0 < int(deliveries[0]["ms"]) < total_ms

    steps = turn_steps(log, total_ms / 1000)  # with the worker's step metrics, as `bench.run_aws` reads them
    assert steps.setup_ms > 0 and steps.run_ms > 0 and 0 < steps.posts_ms < steps.worker_ms
    assert steps.setup_ms + steps.run_ms < steps.worker_ms
    assert steps.route_ms + steps.queue_ms + steps.setup_ms + steps.run_ms < total_ms


def test_the_handlers_in_process_state_is_the_server_s(emulator: EmulatorProcess) -> None:
    """The handlers reach moto in-process; another process, at the server's URL, sees what they wrote and
    they see what it wrote (one set of backends)."""
    dynamodb = aws_client("dynamodb", emulator.moto_url)
    dynamodb.update_item(  # written from outside: the agent must read it
        TableName="local-OrdersTable",
        Key={"order_id": {"S": "1046"}},
        UpdateExpression="SET #status = :status",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":status": {"S": "delivered"}},
    )
    with connect(emulator.signed_in_url) as ws:
        ws.send(json.dumps({"type": "message", "thread_id": "shared", "content": "Where is order 1046?"}))
        frames = receive_turn(ws, timeout=30)
    answer = "".join(f.get("content", "") for f in frames if f["type"] == "token").lower()
    assert "delivered" in answer, frames
    sessions = dynamodb.scan(TableName="local-SessionsTable")["Items"]
    assert any(item["thread_id"]["S"].endswith("shared") for item in sessions), sessions
    checkpoints = dynamodb.scan(TableName="local-CheckpointsTable", Select="COUNT")["Count"]
    assert checkpoints > 0
