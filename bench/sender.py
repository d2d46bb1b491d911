"""The API Gateway sender against a `post_to_connection` endpoint with injected latency.

A loopback HTTP server stands in for API Gateway's management API (each POST sleeps `latency`, then records
the frame). The "model" emits a 300-token answer at 100 tokens/s. Compared side by side:

- naive: one `post_to_connection` per token, awaited in the producer (the AWS samples' design);
- ours: `ApiGatewaySender` (background, paced, merging).

Prints calls made, time from the last model token to the last frame delivered (tail lag), and total turn time.
Run: `python -m bench.sender [--quick]` (`--quick`: 30 tokens at one latency, a smoke run).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

from bench.common import quick, table
from chat_runtime.aws.sender import ApiGatewaySender
from chat_runtime.protocol import MessageCompleteFrame, TokenFrame, encode_frame

TOKENS = 300
TOKENS_PER_SECOND = 100
LATENCIES_MS = (5, 20, 50)
QUICK_TOKENS = 30


class StubGateway(ThreadingHTTPServer):
    """Records posts; each one takes `latency` seconds."""

    daemon_threads = True

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.posts: list[tuple[float, bytes]] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: StubGateway

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(self.server.latency)
        with self.server.lock:
            self.server.posts.append((time.perf_counter(), body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_: Any) -> None:
        pass


def client_for(server: StubGateway) -> Any:
    host, port = str(server.server_address[0]), server.server_address[1]
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=f"http://{host}:{port}/dev",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


async def model_tokens(count: int = TOKENS) -> Any:
    interval = 1 / TOKENS_PER_SECOND
    start = time.perf_counter()
    for n in range(count):
        await asyncio.sleep(max(0.0, start + n * interval - time.perf_counter()))
        yield TokenFrame(thread_id="t", content=f"w{n} ", agent="order_info")


async def run_naive(client: Any, tokens: int = TOKENS) -> float:
    last_token = 0.0
    async for frame in model_tokens(tokens):
        last_token = time.perf_counter()
        await asyncio.to_thread(
            client.post_to_connection, ConnectionId="c", Data=encode_frame(frame).encode()
        )
    await asyncio.to_thread(
        client.post_to_connection,
        ConnectionId="c",
        Data=encode_frame(MessageCompleteFrame(thread_id="t")).encode(),
    )
    return last_token


async def run_ours(client: Any, tokens: int = TOKENS) -> float:
    last_token = 0.0
    async with ApiGatewaySender(client, "c") as sink:
        async for frame in model_tokens(tokens):
            last_token = time.perf_counter()
            await sink(frame)
        await sink(MessageCompleteFrame(thread_id="t"))
    return last_token


def measure(design: str, latency_ms: int, tokens: int = TOKENS) -> list[object]:
    server = StubGateway(latency_ms / 1000)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = client_for(server)
    client.post_to_connection(ConnectionId="warm", Data=b"{}")  # connection pool warm-up
    server.posts.clear()
    started = time.perf_counter()
    last_token = asyncio.run(run_naive(client, tokens) if design == "naive" else run_ours(client, tokens))
    server.shutdown()
    last_delivery = max(at for at, _ in server.posts)
    text = b"".join(body for _, body in server.posts)
    assert text.count(b'"message_complete"') == 1 and text.count(f"w{tokens - 1} ".encode()) == 1
    calls = len(server.posts)
    return [
        f"{latency_ms} ms",
        design,
        calls,
        f"{calls / tokens:.2f}",
        (last_delivery - last_token) * 1000,
        last_delivery - started,
    ]


def main() -> None:
    tokens, latencies = (QUICK_TOKENS, LATENCIES_MS[:1]) if quick() else (TOKENS, LATENCIES_MS)
    rows = []
    for latency in latencies:
        for design in ("naive", "ours"):
            rows.append(measure(design, latency, tokens))
    print(
        table(
            f"API Gateway sender: {tokens} tokens at {TOKENS_PER_SECOND} tokens/s (cores: {os.cpu_count()})",
            ["latency", "design", "calls", "calls/token", "tail lag ms", "turn s"],
            rows,
        )
    )


if __name__ == "__main__":
    main()
