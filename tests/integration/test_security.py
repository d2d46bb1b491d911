"""Authentication, thread ownership and exactly-once approvals, on both transports."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from chat_runtime.auth import AuthError, TokenVerifier, mint_token
from local_server import create_app
from local_server.defaults import build_default_graph
from support_agent.graph import build_support_graph
from support_agent.models.offline import OfflineSupportModel
from support_agent.orders.store import InMemoryOrderStore
from tests.support.lambdas import Deployment, event
from tests.support.live_server import receive_turn, serve

pytestmark = pytest.mark.integration
SECRET = "test-secret-that-is-long-enough-for-hs256"
ISSUER, AUDIENCE = "https://shop.example", "support-agent"


def token(subject: str, customer: str = "demo-customer", secret: str = SECRET, **overrides: Any) -> str:
    arguments: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE, **overrides}
    return mint_token(secret, subject, customer, **arguments)


# ---------------------------------------------------------------- AWS: the $connect authorizer


@pytest.fixture
def authorizer_env(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    for name, value in {"JWT_SECRET": SECRET, "JWT_ISSUER": ISSUER, "JWT_AUDIENCE": AUDIENCE}.items():
        monkeypatch.setenv(name, value)
    deployment.handlers["authorizer"].verifier.cache_clear()
    return deployment


def authorize(deployment: Deployment, raw_token: str | None) -> dict[str, Any]:
    request = event("authorizer")
    request["queryStringParameters"] = {"token": raw_token} if raw_token is not None else None
    return deployment.invoke("authorizer", request)


def test_the_authorizer_passes_principal_and_customer_on(authorizer_env: Deployment) -> None:
    raw = token("user-7", "other-customer")
    response = authorize(authorizer_env, raw)
    assert response["principalId"] == "user-7"
    assert response["context"] == {
        "principal": "user-7",
        "customer_id": "other-customer",
        "expires_at": jwt.decode(raw, options={"verify_signature": False})["exp"],
    }
    [statement] = response["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "",
        "not-a-jwt",
        "expired",
        "wrong-secret",
        "wrong-audience",
        "wrong-issuer",
    ],
)
def test_the_authorizer_refuses_bad_tokens_without_logging_them(
    authorizer_env: Deployment,
    bad: str | None,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = {
        "expired": token("u", ttl_seconds=-120),
        "wrong-secret": token("u", secret="another-secret-that-is-long-enough!!"),
        "wrong-audience": token("u", audience="someone-else"),
        "wrong-issuer": token("u", issuer="https://evil.example"),
    }.get(bad or "", bad)
    with pytest.raises(Exception, match="Unauthorized"):
        authorize(authorizer_env, raw)
    if raw:
        assert raw not in capsys.readouterr().out + caplog.text


def test_connect_without_an_authorizer_context_is_refused(deployment: Deployment) -> None:
    request = event("connect", connectionId="anon=")
    request["requestContext"].pop("authorizer")
    assert deployment.invoke("connect", request) == {"statusCode": 401}


def test_connect_logs_never_contain_the_token(
    deployment: Deployment, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    raw = token("user-9")
    request = event("connect", connectionId="logged=", authorizer={"principal": "user-9", "customer_id": "c"})
    request["queryStringParameters"] = {"token": raw}
    assert deployment.invoke("connect", request) == {"statusCode": 200}
    assert raw not in capsys.readouterr().out + caplog.text


# ---------------------------------------------------------------- AWS: ownership and exactly-once


def test_someone_elses_thread_looks_unknown_and_is_untouched(deployment: Deployment) -> None:
    alice = deployment.connect(principal="alice")
    mallory = deployment.connect(principal="mallory")
    interrupt = deployment.turn(
        alice, {"type": "message", "thread_id": "shared", "content": "Cancel order 1046"}
    )[-1]
    assert interrupt["type"] == "interrupt"

    steal = {
        "type": "interrupt_response",
        "thread_id": "shared",
        "approved": True,
        "interrupt_id": interrupt["interrupt_id"],
    }
    [refused] = deployment.turn(mallory, steal)
    unknown = deployment.turn(mallory, {**steal, "thread_id": "never-used"})
    assert refused["code"] == unknown[0]["code"] == "no_pending_approval"
    assert refused["message"] == unknown[0]["message"]
    # Mallory's "shared" is her own, new conversation: nothing of Alice's is sent or run.
    frames = deployment.turn(
        mallory, {"type": "message", "thread_id": "shared", "content": "What was I doing?"}
    )
    assert frames[-1]["type"] == "message_complete" and "1046" not in json.dumps(frames)
    # Alice's approval is still pending, and still hers.
    done = deployment.turn(alice, steal)
    assert "Order 1046 has been cancelled." in "".join(f.get("content", "") for f in done)


def test_duplicate_approvals_execute_once(deployment: Deployment) -> None:
    alice = deployment.connect(principal="alice")
    other_socket = deployment.connect(principal="alice")
    interrupt = deployment.turn(
        alice, {"type": "message", "thread_id": "dup", "content": "Refund order 1044"}
    )[-1]
    answer = {
        "type": "interrupt_response",
        "thread_id": "dup",
        "approved": True,
        "interrupt_id": interrupt["interrupt_id"],
    }
    deployment.send(alice, answer)
    deployment.send(other_socket, answer)  # both reach the queue before either runs
    deployment.deliver()
    first, second = deployment.new_frames(alice), deployment.new_frames(other_socket)
    assert "has been requested" in "".join(f.get("content", "") for f in first)
    [refused] = second
    assert refused["type"] == "error" and "already answered" in refused["message"]
    import boto3

    table = deployment.stack.names["OrdersTable"]
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"order_id": {"S": "1044"}})["Item"]
    assert len(item["applied_actions"]["SS"]) == 1


# ---------------------------------------------------------------- local server


@pytest.fixture
def secured() -> Iterator[tuple[str, InMemoryOrderStore]]:
    store = InMemoryOrderStore.with_demo_data()
    from langgraph.checkpoint.memory import InMemorySaver

    graph = build_support_graph(OfflineSupportModel(), store, InMemorySaver())
    verifier = TokenVerifier(secret=SECRET, issuer=ISSUER, audience=AUDIENCE)
    with serve(create_app(graph=graph, verifier=verifier)) as url:
        yield url.replace("http://", "ws://") + "/ws", store


def say(ws: ClientConnection, thread_id: str, content: str) -> list[dict[str, Any]]:
    ws.send(json.dumps({"type": "message", "thread_id": thread_id, "content": content}))
    return receive_turn(ws)


def test_the_local_server_verifies_the_same_tokens(secured: tuple[str, InMemoryOrderStore]) -> None:
    url, _ = secured
    for bad in ("", "?token=garbage", f"?token={token('u', ttl_seconds=-120)}"):
        with pytest.raises(InvalidStatus) as refused:
            connect(url + bad).close()
        assert refused.value.response.status_code == 403
    with connect(f"{url}?token={token('user-1', 'other-customer')}") as ws:
        frames = say(ws, "t", "What is the status of order 2001?")
    assert "Order 2001 (Espresso machine) is being processed" in "".join(f.get("content", "") for f in frames)


def test_threads_are_private_to_their_owner_locally(secured: tuple[str, InMemoryOrderStore]) -> None:
    url, store = secured
    with (
        connect(f"{url}?token={token('alice')}") as alice,
        connect(f"{url}?token={token('mallory')}") as mallory,
    ):
        interrupt = say(alice, "same", "Cancel order 1043")[-1]
        mallory.send(json.dumps({"type": "interrupt_response", "thread_id": "same", "approved": True}))
        assert json.loads(mallory.recv(timeout=10))["code"] == "no_pending_approval"
        assert say(mallory, "same", "hello")[-1]["type"] == "message_complete"
        alice.send(json.dumps({"type": "interrupt_response", "thread_id": "same", "approved": False}))
        assert "remain active" in "".join(f.get("content", "") for f in receive_turn(alice))
    assert interrupt["order_id"] == "1043" and store.get("demo-customer", "1043").status == "processing"  # type: ignore[union-attr]


def test_concurrent_duplicate_approvals_execute_once_locally(secured: tuple[str, InMemoryOrderStore]) -> None:
    url, store = secured
    auth = f"{url}?token={token('alice')}"
    with connect(auth) as first, connect(auth) as second:
        interrupt = say(first, "race", "Please cancel order 1046")[-1]
        answer = json.dumps(
            {
                "type": "interrupt_response",
                "thread_id": "race",
                "approved": True,
                "interrupt_id": interrupt["interrupt_id"],
            }
        )
        barrier = threading.Barrier(2)
        results: dict[str, list[dict[str, Any]]] = {}

        def approve(name: str, ws: ClientConnection) -> None:
            barrier.wait()
            ws.send(answer)
            results[name] = receive_turn(ws)

        threads = [threading.Thread(target=approve, args=(n, ws)) for n, ws in (("a", first), ("b", second))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    outcomes = sorted(frames[-1]["type"] for frames in results.values())
    assert outcomes == ["error", "message_complete"], results
    error = next(frames[-1] for frames in results.values() if frames[-1]["type"] == "error")
    assert "already answered" in error["message"]
    order = store.get("demo-customer", "1046")
    assert order is not None and order.status == "cancelled" and len(order.applied_actions) == 1


def test_demo_mode_without_a_verifier_acts_as_the_demo_customer() -> None:
    with (
        serve(create_app(graph=build_default_graph())) as url,
        connect(url.replace("http", "ws") + "/ws") as ws,
    ):
        started = time.monotonic()
        frames = say(ws, "demo", "What is the status of order 1042?")
    assert "shipped" in "".join(f.get("content", "") for f in frames) and time.monotonic() - started < 10


def test_the_token_command_mints_tokens_the_verifier_accepts() -> None:
    import subprocess
    import sys

    arguments = [
        "--secret",
        SECRET,
        "--subject",
        "bob",
        "--customer",
        "c-9",
        "--issuer",
        ISSUER,
        "--audience",
        AUDIENCE,
    ]
    minted = subprocess.run(
        [sys.executable, "-m", "local_server.token", *arguments],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    principal = TokenVerifier(secret=SECRET, issuer=ISSUER, audience=AUDIENCE).verify(minted)
    assert (principal.subject, principal.customer_id) == ("bob", "c-9")


def test_rs256_tokens_are_verified_with_keys_from_a_jwks_url() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from tests.support.jwks import serving_key_set

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with serving_key_set() as keys:
        keys.publish("k1", key)
        verifier = TokenVerifier(jwks_url=keys.url, issuer=ISSUER, audience=AUDIENCE)
        claims = {
            "sub": "carol",
            "customer_id": "c-3",
            "iss": ISSUER,
            "aud": AUDIENCE,
            "exp": int(time.time()) + 60,
        }
        good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
        assert verifier.verify(good).customer_id == "c-3"
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(claims, other, algorithm="RS256", headers={"kid": "k1"})
        hs256 = jwt.encode(claims, "x" * 32, algorithm="HS256", headers={"kid": "k1"})
        for bad in (forged, hs256):
            with pytest.raises(AuthError):
                verifier.verify(bad)
