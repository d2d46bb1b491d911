"""A client socket on the Lambda handlers under moto, shaped like a `websockets` client connection.

`send` invokes the route handler API Gateway would select; queued turns run in a background thread, one SQS
record at a time as the event source delivers them, so a client can send (e.g. a `cancel`) while a turn runs;
`recv` returns the frames the handlers posted to the connection, in order.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import Any

from tests.support.lambdas import Deployment


class LambdaSocket:
    """One connection to the deployment."""

    def __init__(self, deployment: Deployment, connection_id: str | None = None) -> None:
        self._deployment = deployment
        self.connection_id = connection_id or deployment.connect()
        self._received: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._sent_since_check = False
        self.failure: BaseException | None = None

    def send(self, text: str) -> None:
        """Send one client frame; its turn (if it queues one) starts running at once."""
        assert self._deployment.send(self.connection_id, text) == {"statusCode": 200}
        with self._lock:
            self._sent_since_check = True
            if self._worker is None:
                self._worker = threading.Thread(target=self._deliver, daemon=True)
                self._worker.start()

    def _deliver(self) -> None:
        try:
            while True:
                if self._deployment.deliver(limit=1):
                    continue
                with self._lock:
                    if not self._sent_since_check:
                        self._worker = None
                        return
                    self._sent_since_check = False
        except BaseException as error:
            self.failure = error
            with self._lock:
                self._worker = None

    def recv(self, timeout: float | None = 10.0) -> str:
        """The next frame posted to the connection, as text; `TimeoutError` when none came in time."""
        deadline = time.monotonic() + (timeout if timeout is not None else 3600.0)
        while not self._received:
            if self.failure is not None:
                raise RuntimeError("the worker failed") from self.failure
            self._received.extend(self._deployment.new_frames(self.connection_id))
            if self._received:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"no frame within {timeout} s")
            time.sleep(0.02)
        return json.dumps(self._received.popleft())

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait until every queued job ran."""
        deadline = time.monotonic() + timeout
        while self._worker is not None and time.monotonic() < deadline:
            time.sleep(0.05)
