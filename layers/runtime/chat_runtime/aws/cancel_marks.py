"""Cancelling a turn on AWS: the route handler marks the thread's session, the worker running it watches.

The route handler cannot reach the worker's process. It writes `cancel_mode` and `cancel_turn` (the running
turn's `turn_first_seq`) on the session item, only while the session says `running`; the worker polls the
item while its turn runs and stops the turn when the mark names it. The session's next write removes the
mark (`DynamoDBSessionManager.touch`), so a late mark never reaches a later turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from chat_runtime.control import CancelMode, TurnControl

logger = logging.getLogger(__name__)

CANCEL_POLL_SECONDS = 0.4
"""How often a running turn's worker reads its session for a cancel mark (one `GetItem` each time)."""
MARK_ATTRIBUTES = ("cancel_mode", "cancel_turn")


class CancelMarks:
    """Cancel marks on the sessions table (the item of the thread's owner-scoped key)."""

    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self._client = client

    def request(self, thread_key: str, mode: CancelMode) -> bool:
        """Ask the thread's running turn to stop; False when no turn is running."""
        from botocore.exceptions import ClientError

        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={"thread_id": {"S": thread_key}},
                UpdateExpression="SET cancel_mode = :mode, cancel_turn = turn_first_seq",
                ConditionExpression="#status = :running",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":mode": {"S": mode.value}, ":running": {"S": "running"}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def pending(self, thread_key: str) -> CancelMode | None:
        """The cancel asked for the thread's running turn, if any."""
        item = (
            self._client.get_item(
                TableName=self.table_name,
                Key={"thread_id": {"S": thread_key}},
                ProjectionExpression="cancel_mode, cancel_turn, turn_first_seq, #status",
                ExpressionAttributeNames={"#status": "status"},
                ConsistentRead=True,
            ).get("Item")
            or {}
        )
        mode = item.get("cancel_mode", {}).get("S")
        running = item.get("status", {}).get("S") == "running"
        same_turn = item.get("cancel_turn", {}).get("N") == item.get("turn_first_seq", {}).get("N")
        return CancelMode(mode) if mode and running and same_turn else None


@contextlib.asynccontextmanager
async def watching(
    marks: CancelMarks, thread_key: str, control: TurnControl, interval: float = CANCEL_POLL_SECONDS
) -> AsyncIterator[None]:
    """While the block runs, a cancel mark on the thread cancels `control`."""

    async def watch() -> None:
        while not control.cancelled:
            await asyncio.sleep(interval)
            try:
                mode = await asyncio.to_thread(marks.pending, thread_key)
            except Exception as error:  # a missed poll only delays the cancel
                logger.warning("could not read the cancel mark: %s", type(error).__name__)
                continue
            if mode is not None:
                logger.info("a cancel mark stops the running turn (%s)", mode.value)
                control.cancel(mode)

    task = asyncio.create_task(watch())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
