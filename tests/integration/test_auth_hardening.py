"""Token handling an audit found weak: key rotation, foreign tokens, expiry mid-connection, short secrets,
tokens in the local server's log, oversized frames."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from chat_runtime.auth import CLOCK_SKEW_SECONDS, AuthError, TokenVerifier, mint_token
from chat_runtime.aws import routes
from local_server import create_app
from local_server.defaults import build_default_graph
from tests.support.jwks import KeySet, serving_key_set
from tests.support.lambdas import Deployment, event
from tests.support.live_server import receive_turn, serve
from tests.support.subprocess_server import local_server_process

pytestmark = pytest.mark.integration
SECRET = "test-secret-that-is-long-enough-for-hs256"
ISSUER, AUDIENCE = "https://idp.shop.example", "support-agent"


@pytest.fixture
def key_set() -> Iterator[KeySet]:
    with serving_key_set() as keys:
        yield keys


def rs256(key: rsa.RSAPrivateKey, kid: str, **claims: Any) -> str:
    payload = {"sub": "carol", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 600, **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def test_a_key_removed_from_the_jwks_is_refused_after_the_next_refresh(key_set: KeySet) -> None:
    old, new = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    key_set.publish("old", old)
    verifier = TokenVerifier(jwks_url=key_set.url, issuer=ISSUER, audience=AUDIENCE, jwks_cache_seconds=0.5)
    assert verifier.verify(rs256(old, "old")).subject == "carol"
    del key_set.keys["old"]
    key_set.publish("new", new)
    assert verifier.verify(rs256(old, "old")).subject == "carol"  # the cached set is still trusted
    time.sleep(0.6)
    with pytest.raises(AuthError):
        verifier.verify(rs256(old, "old"))  # rotated out: refused from the next refresh on
    assert verifier.verify(rs256(new, "new")).subject == "carol"
    assert key_set.fetches == 2


def test_tokens_for_other_apps_are_refused(key_set: KeySet) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_set.publish("k", key)
    for issuer, audience in ((None, AUDIENCE), (ISSUER, None), (None, None)):
        with pytest.raises(ValueError, match="JWT_ISSUER and JWT_AUDIENCE"):
            TokenVerifier(jwks_url=key_set.url, issuer=issuer, audience=audience)
    with pytest.raises(ValueError, match="JWT_ISSUER and JWT_AUDIENCE"):
        TokenVerifier.from_environment({"JWKS_URL": key_set.url})
    verifier = TokenVerifier(jwks_url=key_set.url, issuer=ISSUER, audience=AUDIENCE)
    for foreign in (rs256(key, "k", aud="another-app"), rs256(key, "k", iss="https://idp.other.example")):
        with pytest.raises(AuthError):
            verifier.verify(foreign)
    without_audience = jwt.encode(
        {"sub": "x", "iss": ISSUER, "exp": int(time.time()) + 60},
        key,
        algorithm="RS256",
        headers={"kid": "k"},
    )
    with pytest.raises(AuthError):
        verifier.verify(without_audience)


def test_a_short_secret_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        TokenVerifier(secret="changeme")
    assert TokenVerifier(secret="x" * 32).secret
    result = subprocess.run(
        [sys.executable, "-m", "local_server", "--port", "1"],
        env={"JWT_SECRET": "changeme", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "the JWT secret is 8 bytes; use at least 32" in result.stderr


def test_the_local_server_refuses_frames_once_the_token_expired() -> None:
    now = [time.time()]
    verifier = TokenVerifier(secret=SECRET)
    app = create_app(graph=build_default_graph(), verifier=verifier, clock=lambda: now[0])
    with serve(app) as url:
        token = mint_token(SECRET, "gina", ttl_seconds=60)
        with connect(f"{url.replace('http', 'ws')}/ws?token={token}") as ws:
            message = {"type": "message", "thread_id": "exp", "content": "What is the status of order 1042?"}
            ws.send(json.dumps(message))
            assert receive_turn(ws)[-1]["type"] == "message_complete"
            now[0] += 60 + CLOCK_SKEW_SECONDS + 1
            ws.send(json.dumps(message))
            [refused] = receive_turn(ws)
            assert refused["code"] == "token_expired" and "Sign in again" in refused["message"]
            ws.send(json.dumps(message))  # the connection stays open and keeps refusing
            assert json.loads(ws.recv(timeout=10))["code"] == "token_expired"


def test_the_authorizer_passes_the_expiry_and_the_route_handlers_enforce_it(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    deployment.handlers["authorizer"].verifier.cache_clear()
    token = mint_token(SECRET, "hank", "demo-customer", ttl_seconds=300)
    request = event("authorizer")
    request["queryStringParameters"] = {"token": token}
    context = deployment.invoke("authorizer", request)["context"]
    assert context["expires_at"] == jwt.decode(token, options={"verify_signature": False})["exp"]

    connect_event = event("connect", connectionId="hank=", authorizer=context)
    assert deployment.invoke("connect", connect_event) == {"statusCode": 200}
    message = {"type": "message", "thread_id": "h", "content": "What is the status of order 1042?"}
    assert deployment.turn("hank=", message)[-1]["type"] == "message_complete"
    deps = routes.default_route_deps()
    monkeypatch.setattr(deps, "clock", lambda: time.time() + 300 + CLOCK_SKEW_SECONDS + 5)
    [refused] = deployment.turn("hank=", message)
    assert refused["code"] == "token_expired"


def test_tokens_never_reach_the_local_servers_log_at_info_level() -> None:
    token = mint_token(SECRET, "ivy", ttl_seconds=600)
    environment = {"JWT_SECRET": SECRET, "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}
    with tempfile.TemporaryFile() as output:
        with local_server_process("--log-level", "info", env=environment, output=output) as url:
            with connect(f"{url}?token={token}") as ws:
                ws.send(json.dumps({"type": "message", "thread_id": "log", "content": "Hello"}))
                receive_turn(ws, timeout=30)
            with pytest.raises(InvalidStatus):  # refused at the handshake
                connect(f"{url}?token={token}x").close()
            health = url.replace("ws://", "http://").replace("/ws", "/api/health")
            assert httpx.get(f"{health}?token={token}").status_code == 200
            time.sleep(0.3)
        output.seek(0)
        log = output.read().decode()
    assert token not in log and token.split(".")[2] not in log
    assert log.count("token=[redacted]") >= 3, log  # the lines are there, without the secret part
    assert '"WebSocket /ws?token=[redacted]" [accepted]' in log


def test_frames_far_over_the_limit_are_not_read_locally() -> None:
    with local_server_process() as url, connect(url, max_size=None) as ws:
        ws.send("x" * 40_000)  # over 32 KiB: a clear error, the connection stays
        refused = json.loads(ws.recv(timeout=10))
        assert refused["code"] == "message_too_large"
        ws.send("y" * (1 << 20))  # 1 MiB: refused unread, as API Gateway refuses messages over 128 KB
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
