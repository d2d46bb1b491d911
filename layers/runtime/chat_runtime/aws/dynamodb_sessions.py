"""Sessions in DynamoDB: the same `SessionManager` contract as the in-memory one.

Item: `thread_id` (partition key), `status`, `pending_interrupts` (JSON), `owner`, `created_at`,
`last_active_at`, `expires_at`, and `ttl` (DynamoDB TTL): `expires_at` plus a grace period, so an expired
thread stays known as expired (never silently restarted) for longer than its checkpoints live. A client that
resumes a running turn sets `follower` (its connection) and then `follower_after` (the last `seq` replayed).

`last_seq` is the thread's one counter of `seq` numbers: the worker numbers a turn from it (its turn-start
write fails with `SessionChanged` when a number was taken since it read the session), route handlers take
numbers for refusals with an atomic increment (`reserve_seq`), and the worker's and the dead-letter
function's refusals store it only if it is still the value they numbered after. `recover` (set by the
dead-letter function's `settle`) says the last turn's end is unknown: the next turn rebuilds the session from
the checkpoint, and route handlers leave every decision on the thread to the worker.
`checkpoint_id` is the thread's latest checkpoint as its last turn left it (`chat_runtime.checkpoint_cache`).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from decimal import Decimal
from typing import Any, NamedTuple

from chat_runtime.sessions import (
    DEFAULT_SESSION_TTL_SECONDS,
    Clock,
    PendingInterrupt,
    SessionRecord,
    ThreadStatus,
    slide,
)

TOMBSTONE_GRACE_SECONDS = 7 * 24 * 3600


class SessionChanged(RuntimeError):
    """The session changed since it was read (a `seq` was taken meanwhile): read it again and retry."""


class Follower(NamedTuple):
    """The connection a resumed turn continues on, and the `seq` its replay went up to (None: the replay
    is still being sent, so the live frames wait)."""

    connection_id: str
    caught_up_to: int | None


class DynamoDBSessionManager:
    """A `SessionManager` on a DynamoDB table keyed by `thread_id`."""

    def __init__(
        self,
        table_name: str,
        ttl_seconds: int = DEFAULT_SESSION_TTL_SECONDS,
        *,
        client: Any = None,
        clock: Clock = time.time,
    ) -> None:
        if ttl_seconds < 0:
            raise ValueError("ttl_seconds must be zero or positive")
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.ttl_seconds = ttl_seconds
        self.table_name = table_name
        self._client = client
        self._clock = clock

    @property
    def client(self) -> Any:
        """The DynamoDB client the manager uses (the cancel marks share the table and the client)."""
        return self._client

    def get_state(self, thread_id: str) -> SessionRecord | None:
        """Return the thread's record (expired or not), or None for a thread never seen."""
        item = self._client.get_item(
            TableName=self.table_name, Key={"thread_id": {"S": thread_id}}, ConsistentRead=True
        ).get("Item")
        return None if item is None else _record(item)

    def touch(self, record: SessionRecord) -> SessionRecord:
        """Store `record` and slide its expiry from now."""
        stored = slide(record, self._clock(), self.ttl_seconds)
        # An update, not a put: attributes the record does not hold (the `follower` a resuming client set
        # while this turn ran) must survive the turn's last write.
        fields = {name: value for name, value in _item(stored).items() if name != "thread_id"}
        names = {f"#a{index}": name for index, name in enumerate(fields)}
        values = {f":v{index}": value for index, value in enumerate(fields.values())}
        condition: dict[str, Any] = {}
        condition_names: dict[str, str] = {}
        if stored.status is ThreadStatus.RUNNING:
            # A turn's start: it numbers after `last_seq`, so no number may have been taken since it read;
            # and the thread must not be running: not by a live attempt (a second delivery of the same job
            # at the same time), nor by one that died (the worker rebuilds such a session first, so a
            # claim that finds `running` was decided on a session read before that attempt claimed).
            # Every other change of a session raises `last_seq`.
            values[":first"] = {"N": str(stored.turn_first_seq)}
            values[":running"] = {"S": ThreadStatus.RUNNING.value}
            condition["ConditionExpression"] = (
                "(attribute_not_exists(last_seq) OR last_seq < :first)"
                " AND (attribute_not_exists(#status_now) OR #status_now <> :running)"
            )
            condition_names["#status_now"] = "status"
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={"thread_id": {"S": stored.thread_id}},
                # A cancel mark belongs to the turn it was set for: any new state of the thread removes it,
                # and so does the recovery it needed.
                UpdateExpression="SET "
                + ", ".join(f"{alias} = :v{index}" for index, alias in enumerate(names))
                + " REMOVE cancel_mode, cancel_turn, recover"
                + ("" if stored.checkpoint_id else ", checkpoint_id")
                + ("" if stored.lease_until is not None else ", lease_until"),
                ExpressionAttributeNames={**names, **condition_names},
                ExpressionAttributeValues=values,
                **condition,
            )
        except Exception as error:
            if _condition_failed(error):
                raise SessionChanged("the session changed since it was read") from error
            raise
        return stored

    def release_lease(self, thread_key: str, lease_until: float) -> None:
        """Give up the lease an attempt took (`lease_until`), once it has failed: its redelivery need not wait
        for the lease to run out. Nothing happens if another lease, or none, is held now."""
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={"thread_id": {"S": thread_key}},
                UpdateExpression="REMOVE lease_until",
                ConditionExpression="lease_until = :mine",
                ExpressionAttributeValues={":mine": _number(lease_until)},
            )
        except Exception as error:
            if not _condition_failed(error):
                raise

    def reserve_seq(self, thread_key: str) -> int | None:
        """Take the thread's next `seq` for a refusal, atomically; None for a thread never seen, one whose
        turn runs (its worker numbers alone) or one awaiting recovery (the worker decides there)."""
        try:
            item = self._client.update_item(
                TableName=self.table_name,
                Key={"thread_id": {"S": thread_key}},
                UpdateExpression="SET last_seq = if_not_exists(last_seq, :zero) + :one",
                ConditionExpression="attribute_exists(thread_id) AND #status <> :running "
                "AND attribute_not_exists(recover)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                    ":running": {"S": ThreadStatus.RUNNING.value},
                },
                ReturnValues="UPDATED_NEW",
            )
        except Exception as error:
            if _condition_failed(error):
                return None
            raise
        return int(item["Attributes"]["last_seq"]["N"])

    def settle(self, record: SessionRecord, previous_seq: int) -> None:
        """End a turn that failed every delivery (the dead-letter function): `record`'s status, `last_seq`,
        `ended_requests` and `ending`, with `recover` set and the turn's cancel mark and follower removed.

        Raises `SessionChanged` unless the session still runs `record.request_id`'s turn at `previous_seq`.
        """
        item = _item(record)
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={"thread_id": {"S": record.thread_id}},
                UpdateExpression="SET #status = :status, pending_interrupts = :pending, last_seq = :seq, "
                "ended_requests = :ended, ending = :ending, recover = :true "
                "REMOVE cancel_mode, cancel_turn, follower, follower_after, checkpoint_id",
                ConditionExpression="#status = :running AND request_id = :request AND last_seq = :previous",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":status": item["status"],
                    ":pending": item["pending_interrupts"],
                    ":seq": item["last_seq"],
                    ":ended": item["ended_requests"],
                    ":ending": item["ending"],
                    ":true": {"BOOL": True},
                    ":running": {"S": ThreadStatus.RUNNING.value},
                    ":request": {"S": record.request_id or ""},
                    ":previous": {"N": str(previous_seq)},
                },
            )
        except Exception as error:
            if _condition_failed(error):
                raise SessionChanged("the session changed since it was read") from error
            raise

    def raise_last_seq(self, thread_key: str, seq: int) -> None:
        """Raise the thread's `last_seq` to `seq` (never lower it): numbers up to `seq` are taken."""
        from botocore.exceptions import ClientError

        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={"thread_id": {"S": thread_key}},
                UpdateExpression="SET last_seq = :seq",
                ConditionExpression="attribute_exists(thread_id) AND "
                "(attribute_not_exists(last_seq) OR last_seq < :seq)",
                ExpressionAttributeValues={":seq": {"N": str(seq)}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def mark_ended(self, record: SessionRecord, previous_seq: int | None = None) -> None:
        """Store `record`'s `last_seq`, `ended_requests` and `ending` only (a refusal: nothing else changes,
        the expiry does not slide).

        With `previous_seq` (the `last_seq` the refusal was numbered after), raises `SessionChanged` when a
        number was taken meanwhile.
        """
        item = _item(record)
        values = {":seq": item["last_seq"], ":ended": item["ended_requests"], ":ending": item["ending"]}
        condition = "attribute_exists(thread_id)"
        if previous_seq is not None:
            values[":previous"] = {"N": str(previous_seq)}
            condition += " AND (attribute_not_exists(last_seq) OR last_seq = :previous)"
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={"thread_id": {"S": record.thread_id}},
                UpdateExpression="SET last_seq = :seq, ended_requests = :ended, ending = :ending",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except Exception as error:
            if previous_seq is not None and _condition_failed(error):
                raise SessionChanged("the session changed since it was read") from error
            raise

    def set_follower(self, thread_key: str, connection_id: str) -> None:
        """Ask the thread's running turn to continue on `connection_id` (after a reconnect), once the
        replay there is done (`follower_caught_up`): until then the worker holds the frames it has."""
        self._client.update_item(
            TableName=self.table_name,
            Key={"thread_id": {"S": thread_key}},
            UpdateExpression="SET follower = :connection REMOVE follower_after",
            ExpressionAttributeValues={":connection": {"S": connection_id}},
        )

    def follower_caught_up(self, thread_key: str, connection_id: str, seq: int) -> None:
        """The replay on `connection_id` went up to `seq`: the worker sends it the frames after `seq`.

        Nothing changes when a later resume has taken the thread to another connection.
        """
        from botocore.exceptions import ClientError

        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={"thread_id": {"S": thread_key}},
                UpdateExpression="SET follower_after = :seq",
                ConditionExpression="follower = :connection",
                ExpressionAttributeValues={":seq": {"N": str(seq)}, ":connection": {"S": connection_id}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def follower(self, thread_key: str) -> Follower | None:
        """The connection a client resumed the thread's running turn on, if any."""
        item = self._client.get_item(
            TableName=self.table_name,
            Key={"thread_id": {"S": thread_key}},
            ProjectionExpression="follower, follower_after",
            ConsistentRead=True,
        ).get("Item")
        connection = None if item is None else item.get("follower", {}).get("S")
        if connection is None:
            return None
        after = item.get("follower_after", {}).get("N") if item is not None else None
        return Follower(connection, None if after is None else int(after))

    def count_threads(self, owner: str) -> int:
        """How many live (unexpired) threads `owner` has, from the `by_owner_live` index."""
        now = _number(self._clock())
        total, query = (
            0,
            {
                "TableName": self.table_name,
                "IndexName": "by_owner_live",
                "KeyConditionExpression": "#owner = :owner",
                # The negation of `SessionRecord.is_expired`: expired threads wait for DynamoDB's TTL.
                "FilterExpression": "expires_at > :now OR last_active_at >= :now",
                "ExpressionAttributeNames": {"#owner": "owner"},
                "ExpressionAttributeValues": {":owner": {"S": owner}, ":now": now},
                "Select": "COUNT",
            },
        )
        while True:
            page = self._client.query(**query)
            total += int(page["Count"])
            if "LastEvaluatedKey" not in page:
                return total
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def now(self) -> float:
        """The manager's clock."""
        return self._clock()


def session_item(record: SessionRecord) -> dict[str, Any]:
    """The record as its DynamoDB item (what `record_of` reads back), e.g. to hand a read on with a job."""
    item = _item(record)
    if record.needs_recovery:
        item["recover"] = {"BOOL": True}
    return item


def record_of(item: dict[str, Any]) -> SessionRecord:
    """The record a DynamoDB item of the sessions table holds."""
    return _record(item)


def _condition_failed(error: Exception) -> bool:
    """Whether a DynamoDB write failed its condition."""
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code == "ConditionalCheckFailedException"


def _number(value: float) -> dict[str, str]:
    return {"N": str(Decimal(repr(value)))}


def _item(record: SessionRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        "thread_id": {"S": record.thread_id},
        "status": {"S": record.status.value},
        "pending_interrupts": {"S": json.dumps([asdict(p) for p in record.pending_interrupts])},
        "created_at": _number(record.created_at),
        "last_active_at": _number(record.last_active_at),
        "expires_at": _number(record.expires_at),
        "ttl": {"N": str(int(record.expires_at) + TOMBSTONE_GRACE_SECONDS)},
        "last_seq": {"N": str(record.last_seq)},
        "turn_first_seq": {"N": str(record.turn_first_seq)},
        "ended_requests": {"S": json.dumps(record.ended_requests)},
        "ending": {"S": json.dumps(record.ending)},
    }
    if record.owner is not None:
        item["owner"] = {"S": record.owner}
    if record.request_id is not None:
        item["request_id"] = {"S": record.request_id}
    if record.checkpoint_id:
        item["checkpoint_id"] = {"S": record.checkpoint_id}
    if record.lease_until is not None:
        item["lease_until"] = _number(record.lease_until)
    return item


def _record(item: dict[str, Any]) -> SessionRecord:
    pending = tuple(
        PendingInterrupt(**{**p, "namespace": tuple(p.get("namespace") or ())})
        for p in json.loads(item["pending_interrupts"]["S"])
    )
    return SessionRecord(
        thread_id=item["thread_id"]["S"],
        status=ThreadStatus(item["status"]["S"]),
        pending_interrupts=pending,
        created_at=float(item["created_at"]["N"]),
        last_active_at=float(item["last_active_at"]["N"]),
        expires_at=float(item["expires_at"]["N"]),
        owner=item.get("owner", {}).get("S"),
        last_seq=int(item.get("last_seq", {}).get("N", "0")),
        turn_first_seq=int(item.get("turn_first_seq", {}).get("N", "1")),
        request_id=item.get("request_id", {}).get("S"),
        ended_requests=tuple(json.loads(item.get("ended_requests", {}).get("S", "[]"))),
        ending=tuple(json.loads(item.get("ending", {}).get("S", "[]"))),
        needs_recovery=bool(item.get("recover", {}).get("BOOL", False)),
        checkpoint_id=item.get("checkpoint_id", {}).get("S"),
        lease_until=float(item["lease_until"]["N"]) if "lease_until" in item else None,
    )
