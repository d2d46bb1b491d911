"""Issue 20's remaining findings: dead letters settle their thread, route handlers never raise for what they
can catch, refusals are numbered and kept for `resume`, and a resent message is the same job.

Faults are injected at botocore, into the handlers' and the worker's own clients.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from chat_runtime.auth import thread_key
from chat_runtime.aws import routes, worker
from chat_runtime.aws.jobs import TurnJob
from chat_runtime.sessions import ThreadStatus
from tests.integration.test_aws_redelivery import (
    Fault,
    WorkerKilled,
    ends_turn,
    queued_record,
    terminal,
)
from tests.support.lambdas import Deployment

pytestmark = pytest.mark.integration
OWNER = "user-123"


def deliver(deployment: Deployment, record: dict[str, Any]) -> bool:
    """One delivery to the worker, which may die (the Lambda sandbox gone); True when it succeeded."""
    from local_server.emulator.functions import LambdaContext

    # A short context: a dead attempt's idempotency record has expired by its redelivery, as on AWS
    # (visibility timeout 720 s against the worker's 120 s).
    context = LambdaContext(function_name="AgentWorkerFunction", timeout_seconds=0.001)
    try:
        with deployment.iam.acting_as("AgentWorkerFunction", scope="context"):
            result = deployment.handlers["worker"].handler({"Records": [record]}, context)
        return not result.get("batchItemFailures")
    except BaseException:  # Powertools raises when every record failed; a dead sandbox raises anything
        return False


def dead_letter(deployment: Deployment, record: dict[str, Any]) -> None:
    """What SQS does after the third failed receive: the record goes to the dead-letter function."""
    assert not deployment.invoke("dead_letters", {"Records": [record]}).get("batchItemFailures")


def starts_turn(params: dict[str, Any]) -> bool:
    """The session write that starts a turn (the only one conditional on the turn's first `seq`)."""
    return ":first" in params.get("ExpressionAttributeValues", {})


class DiesAfter:
    """The worker dies right after a session `UpdateItem` matching `when` went through."""

    def __init__(self, client: Any, when: Any) -> None:
        self.when, self.armed, self.active = when, False, True
        client.meta.events.register("before-parameter-build.dynamodb.UpdateItem", self.before)
        client.meta.events.register("after-call.dynamodb.UpdateItem", self.after)

    def before(self, params: dict[str, Any], **_: Any) -> None:
        self.armed = self.active and self.when(params)

    def after(self, **_: Any) -> None:
        if self.armed:
            self.armed = False
            raise WorkerKilled


def kill_every_attempt(deployment: Deployment) -> Fault:
    """Every worker attempt dies at the turn's end (after the model answered, before recording it)."""
    return Fault(worker.default_worker_deps().sessions._client, "UpdateItem", ends_turn, WorkerKilled)


def test_a_dead_lettered_message_leaves_its_thread_usable(deployment: Deployment) -> None:
    connection = deployment.connect()
    deployment.turn(connection, {"type": "message", "thread_id": "s1", "content": "hello"})
    killed = kill_every_attempt(deployment)
    assert deployment.send(connection, {"type": "message", "thread_id": "s1", "content": "Where is 1042?"})
    record = queued_record(deployment)
    for _ in range(3):
        assert not deliver(deployment, record)
    killed.active = False
    sessions = worker.default_worker_deps().sessions
    key = thread_key("s1", OWNER)
    dying = sessions.get_state(key)
    assert dying is not None and dying.status is ThreadStatus.RUNNING  # as the dead attempts left it
    deployment.new_frames(connection)
    dead_letter(deployment, record)
    [error] = deployment.new_frames(connection)
    assert error["code"] == "internal_error" and error["seq"] > 0
    settled = sessions.get_state(key)
    assert settled is not None and settled.status is ThreadStatus.IDLE and settled.needs_recovery

    # Not stuck: a cancel is answered at once, a resume is not left waiting for a live rest.
    assert deployment.send(connection, {"type": "cancel", "thread_id": "s1"})
    [no_turn] = deployment.new_frames(connection)
    assert no_turn["code"] == "no_running_turn"  # unnumbered until the worker has rebuilt the session
    assert deployment.send(connection, {"type": "resume", "thread_id": "s1", "after_seq": error["seq"]})
    assert deployment.new_frames(connection)[-1] == {"type": "resumed", "thread_id": "s1", "state": "idle"}
    after = deployment.turn(connection, {"type": "message", "thread_id": "s1", "content": "thanks"})
    assert [f["type"] for f in terminal(after)] == ["message_complete"]
    assert min(f["seq"] for f in after) > error["seq"]
    rebuilt = sessions.get_state(key)
    assert rebuilt is not None and not rebuilt.needs_recovery


def test_a_dead_lettered_answer_keeps_exactly_once(deployment: Deployment) -> None:
    """An approval whose answer's run finished before every attempt died is consumed: answering again runs
    nothing; one whose run never got to the action stays answerable."""
    import boto3

    orders = boto3.client("dynamodb")
    table = deployment.stack.names["OrdersTable"]
    connection = deployment.connect()
    for thread, order in (("s2", "1043"), ("s3", "1046")):
        asked = deployment.turn(
            connection, {"type": "message", "thread_id": thread, "content": f"Cancel order {order}"}
        )[-1]
        assert asked["type"] == "interrupt"
        answer = {"type": "interrupt_response", "thread_id": thread, "approved": True}
        client = worker.default_worker_deps().sessions._client
        # s2: every attempt dies after the graph ran the cancel; s3: right after the turn started.
        killed = kill_every_attempt(deployment) if thread == "s2" else DiesAfter(client, starts_turn)
        assert deployment.send(connection, {**answer, "interrupt_id": asked["interrupt_id"]})
        record = queued_record(deployment)
        for _ in range(3):
            assert not deliver(deployment, record)
        killed.active = False
        dead_letter(deployment, record)
        assert [f["code"] for f in terminal(deployment.new_frames(connection))] == ["internal_error"]

        again = deployment.turn(connection, {**answer, "interrupt_id": asked["interrupt_id"]})
        applied = orders.get_item(TableName=table, Key={"order_id": {"S": order}})["Item"]
        if thread == "s2":  # consumed: refused, and the cancel ran once
            assert [f.get("code") for f in terminal(again)] == ["no_pending_approval"]
            assert len(applied["applied_actions"]["SS"]) == 1
        else:  # still pending: this answer runs it
            assert [f["type"] for f in terminal(again)] == ["message_complete"]
            assert len(applied["applied_actions"]["SS"]) == 1


def test_a_route_handler_that_cannot_even_post_its_error_does_not_raise(deployment: Deployment) -> None:
    connection = deployment.connect()
    deployment.turn(connection, {"type": "message", "thread_id": "r1", "content": "hello"})
    deps = routes.default_route_deps()
    timeout = ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
    reads = Fault(deps.sessions._client, "GetItem", lambda p: "thread_id" in p.get("Key", {}), timeout)
    from chat_runtime.aws.gateway import management_client

    endpoint = "https://abc123defg.execute-api.us-east-1.amazonaws.com/dev"
    server_error = ClientError(
        {"Error": {"Code": "InternalFailure"}, "ResponseMetadata": {"HTTPStatusCode": 500}},
        "PostToConnection",
    )
    posts = Fault(management_client(endpoint), "PostToConnection", lambda _: True, server_error)
    body = {"type": "message", "thread_id": "r1", "content": "and now?", "message_id": "m-1"}
    assert deployment.send(connection, body) == {"statusCode": 200}  # not API Gateway's own error
    assert posts.raised >= 1 and deployment.new_frames(connection) == []
    reads.active = posts.active = False

    # Through resume the client learns the message has no ending (it was not taken) and sends it again.
    assert deployment.send(connection, {"type": "resume", "thread_id": "r1", "after_seq": 0})
    resumed = deployment.new_frames(connection)
    assert resumed[-1]["state"] == "idle" and all(f.get("seq") is not None for f in resumed[:-1])
    assert deployment.queued() == 0
    again = deployment.turn(connection, body)
    assert [f["type"] for f in terminal(again)] == ["message_complete"]


def test_route_refusals_are_numbered_logged_and_resumable(deployment: Deployment) -> None:
    connection = deployment.connect()
    asked = deployment.turn(
        connection, {"type": "message", "thread_id": "n1", "content": "Cancel order 1043"}
    )[-1]
    from chat_runtime.aws.gateway import management_client

    gone = ClientError({"Error": {"Code": "GoneException"}}, "PostToConnection")
    endpoint = "https://abc123defg.execute-api.us-east-1.amazonaws.com/dev"
    socket_closed = Fault(management_client(endpoint), "PostToConnection", lambda _: True, gone)
    assert deployment.send(connection, {"type": "message", "thread_id": "n1", "content": "and 1044?"})
    assert socket_closed.raised == 1 and deployment.queued() == 0
    socket_closed.active = False
    later = deployment.connect()
    assert deployment.send(later, {"type": "resume", "thread_id": "n1", "after_seq": asked["seq"]})
    replayed = deployment.new_frames(later)
    refusal = next(f for f in replayed if f["type"] == "error")
    assert refusal["code"] == "approval_pending" and refusal["seq"] == asked["seq"] + 1
    assert replayed[-1]["state"] == "awaiting_approval"

    answer = {"type": "interrupt_response", "thread_id": "n1", "approved": False}
    done = deployment.turn(later, {**answer, "interrupt_id": asked["interrupt_id"]})
    assert min(f["seq"] for f in done) > refusal["seq"]  # the worker numbers after the refusal
    assert deployment.send(later, {**answer, "interrupt_id": asked["interrupt_id"]})
    [late] = deployment.new_frames(later)
    assert late["code"] == "no_pending_approval" and late["seq"] == max(f["seq"] for f in done) + 1


def test_a_refusal_numbered_while_a_turn_starts_never_shares_its_seq(deployment: Deployment) -> None:
    """A route handler takes a number after the worker read the session: the worker reads again."""
    connection = deployment.connect()
    deployment.turn(connection, {"type": "message", "thread_id": "n2", "content": "hello"})
    assert deployment.send(connection, {"type": "message", "thread_id": "n2", "content": "Where is 1042?"})
    job = TurnJob.model_validate_json(queued_record(deployment)["body"])
    deps = worker.default_worker_deps()
    key = thread_key("n2", OWNER)
    taken: list[int] = []

    def refusal_meanwhile(params: dict[str, Any], **_: Any) -> None:
        if not taken and ":first" in params.get("ExpressionAttributeValues", {}):
            taken.append(routes.default_route_deps().sessions.reserve_seq(key) or 0)

    client = deps.sessions._client
    client.meta.events.register("before-parameter-build.dynamodb.UpdateItem", refusal_meanwhile)
    try:
        asyncio.run(worker.process_job(job, deps))
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb.UpdateItem", refusal_meanwhile)
    frames = deployment.new_frames(connection)
    assert taken and taken[0] > 0
    assert [f["type"] for f in terminal(frames)] == ["message_complete"]
    assert min(f["seq"] for f in frames) > taken[0]  # (merged tokens carry their last part's seq)


def test_a_message_sent_again_after_a_send_that_timed_out_runs_once(deployment: Deployment) -> None:
    connection = deployment.connect()
    sqs = routes.default_route_deps().sqs

    def every_send_times_out_after_sqs_took_it(**_: Any) -> None:
        raise ReadTimeoutError(endpoint_url="https://sqs.us-east-1.amazonaws.com")

    sqs.meta.events.register("after-call.sqs.SendMessage", every_send_times_out_after_sqs_took_it)
    body = {"type": "message", "thread_id": "d1", "content": "hello", "message_id": "client-7"}
    assert deployment.send(connection, body) == {"statusCode": 200}
    [busy] = deployment.new_frames(connection)
    assert busy["code"] == "service_busy"
    sqs.meta.events.unregister("after-call.sqs.SendMessage", every_send_times_out_after_sqs_took_it)
    assert deployment.send(connection, body) == {"statusCode": 200}  # the client sends it again
    assert deployment.queued() == 1  # the same job
    deployment.deliver()
    assert [f["type"] for f in terminal(deployment.new_frames(connection))] == ["message_complete"]

    other = {**body, "message_id": "client-8"}  # a new message id is a new message
    assert [f["type"] for f in terminal(deployment.turn(connection, other))] == ["message_complete"]


def test_a_message_id_must_be_well_formed(deployment: Deployment) -> None:
    connection = deployment.connect()
    bad = {"type": "message", "thread_id": "d2", "content": "hi", "message_id": "no spaces"}
    assert deployment.send(connection, bad) == {"statusCode": 200}
    [refusal] = deployment.new_frames(connection)
    assert refusal["code"] == "invalid_field" and "message_id" in refusal["message"]


def test_a_dead_letter_waits_while_the_threads_next_turn_runs(deployment: Deployment) -> None:
    """SQS releases the thread's group once a job is dead-lettered: its next job may be running while the
    dead-letter function acts, and a number taken beside that worker could be reused."""
    connection = deployment.connect()
    deployment.turn(connection, {"type": "message", "thread_id": "w1", "content": "hello"})
    assert deployment.send(connection, {"type": "message", "thread_id": "w1", "content": "Where is 1042?"})
    running = queued_record(deployment)
    killed = kill_every_attempt(deployment)
    assert not deliver(deployment, running)  # its session says running, as while its worker runs
    killed.active = False
    dead = TurnJob.model_validate_json(running["body"]).model_copy(update={"request_id": "dead-earlier"})
    record = {**running, "body": dead.model_dump_json()}
    with pytest.raises(Exception, match="another turn runs"):
        deployment.invoke("dead_letters", {"Records": [record]})
    assert terminal(deployment.new_frames(connection)) == []

    assert deliver(deployment, running)  # the running turn ends
    ended = deployment.new_frames(connection)
    dead_letter(deployment, record)  # the dead-letter queue delivers it again
    [error] = deployment.new_frames(connection)
    assert error["code"] == "internal_error" and error["seq"] > max(f["seq"] for f in ended)
