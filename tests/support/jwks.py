"""A JWKS endpoint on loopback (what an identity provider publishes), whose keys a test sets and rotates."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


class KeySet:
    """Serves `{"keys": [...]}` at `url`; counts fetches."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.fetches = 0
        keys = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                keys.fetches += 1
                body = json.dumps({"keys": list(keys.keys.values())}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"

    def publish(self, kid: str, key: rsa.RSAPrivateKey) -> None:
        """Add (or replace) the public half of `key` under `kid`."""
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        self.keys[kid] = {**public, "kid": kid, "use": "sig", "alg": "RS256"}


@contextlib.contextmanager
def serving_key_set() -> Iterator[KeySet]:
    """A running `KeySet` until the block ends."""
    keys = KeySet()
    threading.Thread(target=keys.server.serve_forever, daemon=True).start()
    try:
        yield keys
    finally:
        keys.server.shutdown()
