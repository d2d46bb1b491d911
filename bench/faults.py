"""AWS faults against the real handlers and worker: every message gets one answer, nothing skipped or lost.

Conversations (status, cancel + approve, address change + reject) run through the route handlers, the worker
and the dead-letter function under moto, each function under its own IAM role, while faults are injected
above botocore's retries into every call they make: DynamoDB throttles, SQS and API Gateway 500s, read
timeouts before and after the request ran, workers dying after the model answered (before recording the
turn's end), and SQS records delivered twice. A failed delivery is delivered again (three receives, then
the dead-letter function), as SQS would after the visibility timeout. The client skips frames whose `seq` it
has seen, gives each message a `message_id` (kept when it sends it again), resends a frame refused with
`service_busy` or `internal_error`, resumes when a message got no answer live, and sends it again when
`resume` shows no ending for it either.

Run: `python -m bench.faults [--conversations 100] [--rates 0.05 0.15] [--seed 7]`.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, ReadTimeoutError

from bench.common import table

TERMINAL = {"message_complete", "interrupt", "error"}
RECEIVES = 3  # the queue's maxReceiveCount
RESEND = {"service_busy", "internal_error"}  # a route handler's: the frame was not taken


class WorkerKilled(BaseException):
    """The Lambda sandbox dying: nothing in the worker catches it."""


@dataclass
class Tally:
    """What the run saw."""

    conversations: int = 0
    messages: int = 0
    faults: int = 0
    double_executions: int = 0
    rejected_executions: int = 0
    stuck_threads: int = 0
    extra_terminal: int = 0
    reused_seqs: int = 0
    non_protocol: int = 0
    no_outcome: int = 0
    notes: list[str] = field(default_factory=list)


class Faults:
    """Injects faults into a client's calls at `rate`, above botocore's retry layer."""

    def __init__(self, rng: random.Random, rate: float) -> None:
        self.rng, self.rate, self.count, self.enabled = rng, rate, 0, True

    def install(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        client.meta.events.register(f"before-parameter-build.{service}", self._before)
        client.meta.events.register(f"after-call.{service}", self._after)

    def _hit(self) -> bool:
        if self.enabled and self.rng.random() < self.rate:
            self.count += 1
            return True
        return False

    def _before(self, model: Any, **_: Any) -> None:
        if not self._hit():
            return
        service = model.service_model.service_name
        kind = self.rng.choice(["throttle", "server", "timeout"])
        if kind == "timeout":
            raise ReadTimeoutError(endpoint_url=f"https://{service}.amazonaws.com")
        if kind == "throttle" and service == "dynamodb":
            code = self.rng.choice(["ThrottlingException", "ProvisionedThroughputExceededException"])
            raise ClientError(
                {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": 400}}, model.name
            )
        raise ClientError(
            {"Error": {"Code": "InternalFailure"}, "ResponseMetadata": {"HTTPStatusCode": 500}}, model.name
        )

    def _after(self, model: Any, **_: Any) -> None:
        if model.name in {"PostToConnection", "SendMessage", "UpdateItem", "BatchWriteItem"} and self._hit():
            raise ReadTimeoutError(endpoint_url="https://after-the-request-ran.amazonaws.com")


@contextmanager
def stack() -> Iterator[Any]:
    """The template's resources under moto, one customer's copy of two orders per conversation."""
    import os
    from unittest import mock

    from moto import mock_aws

    settings = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
        "POWERTOOLS_SERVICE_NAME": "ws-support-agent",
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",
        "LOG_LEVEL": "CRITICAL",
    }
    # The functions' environment lives only as long as the stack: a caller's (a test's) is given back after.
    with mock.patch.dict(os.environ, settings):
        import boto3

        from local_server.emulator.functions import reset_lambda_containers
        from local_server.stack import create_stack
        from tests.support.lambdas import Deployment

        with mock_aws():
            session = boto3.Session(region_name="us-east-1")
            created = create_stack(session)
            for function_id in ("MessageFunction", "AgentWorkerFunction"):
                os.environ.update(created.environment(function_id))
            reset_lambda_containers()
            deployment = Deployment(created, session)
            with deployment.iam.installed():
                yield deployment
            reset_lambda_containers()


def seed_orders(deployment: Any, index: int) -> tuple[str, str, str]:
    """Customer `c<index>` with a processing order (to cancel) and a pending one (address to keep)."""
    from support_agent.orders.dynamodb import DynamoDBOrderStore
    from support_agent.orders.store import load_demo_orders

    demo = {o.order_id: o for o in load_demo_orders()}
    customer = f"c{index}"
    cancel, keep = str(3000 + 2 * index), str(3001 + 2 * index)
    orders = [
        demo["1043"].model_copy(update={"order_id": cancel, "customer_id": customer}),
        demo["1046"].model_copy(update={"order_id": keep, "customer_id": customer}),
    ]
    import boto3

    DynamoDBOrderStore(
        deployment.stack.names["OrdersTable"], resource=boto3.resource("dynamodb", region_name="us-east-1")
    ).put(orders)
    return customer, cancel, keep


class Client:
    """One customer's socket as a careful client reads it: frames by seq, refusals, resume when needed."""

    def __init__(self, deployment: Any, customer: str, tally: Tally) -> None:
        self.deployment, self.tally = deployment, tally
        self.principal, self.customer = f"p-{customer}", customer
        self.connection = deployment.connect(principal=self.principal, customer_id=customer)
        self.seen: dict[int, str] = {}

    def read(self) -> list[dict[str, Any]]:
        """New frames, each `seq` once (a frame posted twice with its `seq` is skipped, as the page does)."""
        fresh = []
        for frame in self.deployment.new_frames(self.connection):
            if "type" not in frame:
                self.tally.non_protocol += 1
                continue
            seq = frame.get("seq")
            if seq is not None:
                text = json.dumps(frame, sort_keys=True)
                if seq in self.seen:
                    if self.seen[seq] != text:
                        self.tally.reused_seqs += 1
                    continue
                self.seen[seq] = text
            fresh.append(frame)
        return fresh

    def send(self, body: dict[str, Any]) -> None:
        try:
            self.deployment.send(self.connection, body)
        except Exception:
            self.tally.non_protocol += 1  # API Gateway would answer {"message": "Internal server error"}

    def resume(self, thread_id: str) -> list[dict[str, Any]]:
        self.connection = self.deployment.connect(principal=self.principal, customer_id=self.customer)
        after = max(self.seen, default=0)
        self.send({"type": "resume", "thread_id": thread_id, "after_seq": after})
        return [f for f in self.read() if f["type"] != "resumed"]


def run_worker(deployment: Any, record: dict[str, Any], faults: Faults, crash_rate: float) -> bool:
    """One delivery to the worker (which may die after the model answered); True when it succeeded."""
    from chat_runtime.aws import worker
    from local_server.emulator.functions import LambdaContext

    deps = worker.default_worker_deps()
    client = deps.sessions._client
    crash = faults.enabled and faults.rng.random() < crash_rate

    def die_at_the_turns_end(params: dict[str, Any], **_: Any) -> None:
        values = json.dumps(params.get("ExpressionAttributeValues", {}), default=str)
        if crash and ('"idle"' in values or '"awaiting_approval"' in values):
            faults.count += 1
            raise WorkerKilled

    client.meta.events.register("before-parameter-build.dynamodb.UpdateItem", die_at_the_turns_end)
    try:
        # Each delivery comes after the previous attempt ended, as on AWS (visibility timeout 720 s against
        # the worker's 120 s): the session alone tells a redelivery what the attempt before it did.
        context = LambdaContext(function_name="AgentWorkerFunction", timeout_seconds=0.001)
        with deployment.iam.acting_as("AgentWorkerFunction"):
            result = deployment.handlers["worker"].handler({"Records": [record]}, context)
        return not result.get("batchItemFailures")
    except BaseException:
        return False
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb.UpdateItem", die_at_the_turns_end)


def drain(deployment: Any, faults: Faults, crash_rate: float) -> None:
    """Deliver every queued job as SQS would: failures again, then to the dead-letter function."""
    from local_server.emulator.event_source import sqs_record

    url = deployment.stack.queue_urls["TurnQueue"]
    arn = deployment.stack.queue_arns["TurnQueue"]
    while True:
        faults.enabled = False
        messages = deployment.sqs.receive_message(QueueUrl=url, AttributeNames=["All"]).get("Messages", [])
        if not messages:
            faults.enabled = True
            return
        deployment.sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
        faults.enabled = True
        record = sqs_record(messages[0], arn)
        for _ in range(RECEIVES):
            if run_worker(deployment, record, faults, crash_rate):
                if faults.rng.random() < faults.rate:  # the same record delivered again
                    faults.count += 1
                    run_worker(deployment, record, faults, crash_rate)
                break
        else:
            dead_letter(deployment, record, faults)


def dead_letter(deployment: Any, record: dict[str, Any], faults: Faults) -> None:
    for _ in range(10):  # the dead-letter queue redelivers until its function succeeds
        try:
            response = deployment.invoke("dead_letters", {"Records": [record]})
            if not response.get("batchItemFailures"):
                return
        except Exception:
            continue
    faults.enabled = False
    deployment.invoke("dead_letters", {"Records": [record]})
    faults.enabled = True


def exchange(
    client: Client, deployment: Any, faults: Faults, crash_rate: float, body: dict[str, Any]
) -> list[dict[str, Any]]:
    """Send one frame and return its frames, as docs/protocol.md tells a client to: with a `message_id`
    kept across resends; resend after a route-level refusal; resume when no ending came live; send again
    when `resume` shows no ending either (the frame was not taken)."""
    tally = client.tally
    tally.messages += 1
    body = {**body, "message_id": f"m{tally.messages}"}
    frames: list[dict[str, Any]] = []
    for _ in range(3):
        frames = send_until_taken(client, deployment, faults, crash_rate, body)
        ends = [f for f in frames if f["type"] in TERMINAL]
        if not ends:
            faults.enabled = False
            ends = [f for f in client.resume(body["thread_id"]) if f["type"] in TERMINAL]
            faults.enabled = True
            frames += ends
        if ends:
            break
    if not ends:
        tally.no_outcome += 1
        tally.notes.append(f"no outcome for {body}")
    # An unnumbered refusal posted twice (its post timed out after API Gateway took it) is the same frame.
    numbered = list({json.dumps(f, sort_keys=True): f for f in ends if f["type"] != "interrupt"}.values())
    if len(numbered) > 1:
        tally.extra_terminal += 1
        tally.notes.append(f"{len(numbered)} terminal frames for {body}: {numbered}")
    return frames


def send_until_taken(
    client: Client, deployment: Any, faults: Faults, crash_rate: float, body: dict[str, Any]
) -> list[dict[str, Any]]:
    """Send the frame, again after `service_busy` / `internal_error` from a route handler (unless the
    message's numbered ending came anyway: a `SendMessage` that timed out after SQS had taken it)."""
    frames: list[dict[str, Any]] = []
    for _ in range(5):
        client.send(body)
        drain(deployment, faults, crash_rate)
        frames = client.read()
        busy = [f for f in frames if f["type"] == "error" and f.get("seq") is None and f["code"] in RESEND]
        if not busy:
            break
        if any(f["type"] in TERMINAL and f.get("seq") is not None for f in frames):
            return [f for f in frames if f not in busy]
    return frames


def conversation(deployment: Any, index: int, faults: Faults, crash_rate: float, tally: Tally) -> None:
    from chat_runtime.auth import thread_key

    faults.enabled = False
    customer, cancel, keep = seed_orders(deployment, index)
    client = Client(deployment, customer, tally)
    faults.enabled = True
    thread = f"t{index}"

    def say(content: str) -> list[dict[str, Any]]:
        return exchange(
            client,
            deployment,
            faults,
            crash_rate,
            {"type": "message", "thread_id": thread, "content": content},
        )

    def answer(frames: list[dict[str, Any]], approved: bool) -> None:
        asked = [f for f in frames if f["type"] == "interrupt"]
        if asked:
            body = {"type": "interrupt_response", "thread_id": thread, "approved": approved}
            exchange(
                client, deployment, faults, crash_rate, {**body, "interrupt_id": asked[-1]["interrupt_id"]}
            )

    say(f"Where is order {cancel}?")
    answer(say(f"Cancel order {cancel}"), approved=True)
    answer(say(f"Change the shipping address of order {keep} to 12 Elm Street, Springfield"), approved=False)
    faults.enabled = False
    import boto3

    orders = boto3.client("dynamodb", region_name="us-east-1")
    name = deployment.stack.names["OrdersTable"]
    cancelled = orders.get_item(TableName=name, Key={"order_id": {"S": cancel}})["Item"]
    kept = orders.get_item(TableName=name, Key={"order_id": {"S": keep}})["Item"]
    tally.double_executions += max(0, len(cancelled.get("applied_actions", {}).get("SS", [])) - 1)
    tally.rejected_executions += len(kept.get("applied_actions", {}).get("SS", []))
    sessions = boto3.client("dynamodb", region_name="us-east-1")
    key = thread_key(thread, client.principal)
    session = sessions.get_item(
        TableName=deployment.stack.names["SessionsTable"], Key={"thread_id": {"S": key}}
    )
    if session.get("Item", {}).get("status", {}).get("S") == "running":
        say("hello again")  # a stale `running` is fine if the next message is answered
        faults.enabled = False
        again = sessions.get_item(
            TableName=deployment.stack.names["SessionsTable"], Key={"thread_id": {"S": key}}
        )
        if again.get("Item", {}).get("status", {}).get("S") == "running":
            tally.stuck_threads += 1
    tally.conversations += 1


def run(conversations: int, rate: float, seed: int) -> Tally:
    """Run the mix at one fault rate; returns the tally."""
    from chat_runtime.aws import routes, worker

    tally = Tally()
    rng = random.Random(seed)
    faults = Faults(rng, rate)
    with stack() as deployment:
        deployment.connect()  # builds the route handlers' clients
        deps = worker.default_worker_deps()
        for client in {id(c): c for c in _clients(routes.default_route_deps(), deps)}.values():
            faults.install(client)
        for index in range(conversations):
            conversation(deployment, index, faults, rate / 2, tally)
    tally.faults = faults.count
    return tally


def _clients(route_deps: Any, deps: Any) -> list[Any]:
    from chat_runtime.aws.gateway import management_client

    endpoint = "https://abc123defg.execute-api.us-east-1.amazonaws.com/dev"
    return [route_deps.sessions._client, route_deps.sqs, deps.sessions._client, management_client(endpoint)]


COLUMNS = [
    "fault rate",
    "conversations",
    "messages",
    "faults injected",
    "double executions",
    "rejected executions",
    "stuck threads",
    ">1 terminal frame",
    "reused seqs",
    "non-protocol frames",
    "no outcome",
]


def row(rate: float, tally: Tally) -> list[object]:
    return [
        f"{rate:.0%}",
        tally.conversations,
        tally.messages,
        tally.faults,
        tally.double_executions,
        tally.rejected_executions,
        tally.stuck_threads,
        tally.extra_terminal,
        tally.reused_seqs,
        tally.non_protocol,
        tally.no_outcome,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--rates", type=float, nargs="+", default=[0.05, 0.15])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--quick", action="store_true", help="one conversation at 15 %%: a check, not a figure"
    )
    args = parser.parse_args()
    if args.quick:
        args.conversations, args.rates = 1, [0.15]
    import logging

    logging.disable(logging.WARNING)
    rows, started = [], time.monotonic()
    for rate in args.rates:
        tally = run(args.conversations, rate, args.seed)
        rows.append(row(rate, tally))
        for note in tally.notes[:5]:
            print("  ", note[:300])
    print(table(f"AWS faults above botocore's retries ({time.monotonic() - started:.0f} s)", COLUMNS, rows))


if __name__ == "__main__":
    main()
