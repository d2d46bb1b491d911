"""Checkpoints and writes as DynamoDB items, and back.

A value (a checkpoint, its metadata, a write's value) is serialized by the saver's serializer, compressed
with zlib from 1 KB, and stored in the item itself, or, above `MAX_INLINE_BYTES`, in parts, each an item of
its own that the item names by count. `ThreadTable.put` stores parts in requests before the items naming
them, and an item whose parts are not all there is read as not stored.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from langgraph.checkpoint.base import WRITES_IDX_MAP, Checkpoint, CheckpointMetadata, writes_sort_key
from langgraph.checkpoint.serde.base import SerializerProtocol

from chat_runtime.aws.thread_saver.layout import (
    COMPRESS_FROM_BYTES,
    MAX_INLINE_BYTES,
    checkpoint_key,
    parse,
    part_key,
    partition,
    write_key,
)

Item = dict[str, Any]
"""An item in DynamoDB's attribute-value form."""


@dataclass
class StoredWrite:
    """One write as stored: LangGraph's `PendingWrite` with what orders it (`writes_sort_key`)."""

    task_id: str
    channel: str
    value: Any
    task_path: str
    idx: int

    @property
    def pending(self) -> tuple[str, str, Any]:
        """LangGraph's `PendingWrite`."""
        return (self.task_id, self.channel, self.value)


@dataclass
class StoredCheckpoint:
    """A checkpoint's items read back: the checkpoint, its metadata, its parent's id and its writes."""

    namespace: str
    checkpoint_id: str
    checkpoint: Checkpoint | None
    """None: writes stored against a checkpoint that is not in this layout."""
    metadata: CheckpointMetadata | None
    parent_id: str | None
    writes: list[StoredWrite] = field(default_factory=list)


def _encode(payload: bytes) -> tuple[bytes, bool]:
    if len(payload) < COMPRESS_FROM_BYTES:
        return payload, False
    return zlib.compress(payload, 6), True


def _with_value(key: Item, attributes: Item, payload: bytes) -> list[Item]:
    """The item (and its parts first, when the value is too big for it, the item's other attributes
    counted)."""
    data, compressed = _encode(payload)
    item = {**key, **attributes, "z": {"BOOL": compressed}}
    others = sum(len(name) + _size(next(iter(value.values()))) for name, value in item.items())
    if others > MAX_INLINE_BYTES:
        raise ValueError(f"a checkpoint's metadata or key of {others} bytes does not fit in a DynamoDB item")
    if len(data) + others <= MAX_INLINE_BYTES:
        return [{**item, "v": {"B": data}}]
    chunks = [data[start : start + MAX_INLINE_BYTES] for start in range(0, len(data), MAX_INLINE_BYTES)]
    parts = [
        {"PK": key["PK"], "SK": {"S": part_key(key["SK"]["S"], n)}, "v": {"B": chunk}, **_ttl_of(attributes)}
        for n, chunk in enumerate(chunks)
    ]
    return [*parts, {**item, "parts": {"N": str(len(chunks))}}]


def _size(value: Any) -> int:
    return len(value) if isinstance(value, bytes | str) else len(str(value))


def _ttl_of(attributes: Item) -> Item:
    return {"ttl": attributes["ttl"]} if "ttl" in attributes else {}


def checkpoint_items(
    serde: SerializerProtocol,
    thread_id: str,
    namespace: str,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    parent_id: str | None,
    ttl: int | None,
) -> list[Item]:
    """The items that store one checkpoint."""
    kind, payload = serde.dumps_typed(checkpoint)
    meta_kind, meta = serde.dumps_typed(metadata)
    attributes: Item = {"t": {"S": kind}, "mt": {"S": meta_kind}, "m": {"B": meta}}
    if parent_id:
        attributes["parent"] = {"S": parent_id}
    if ttl is not None:
        attributes["ttl"] = {"N": str(ttl)}
    key = {"PK": {"S": partition(thread_id)}, "SK": {"S": checkpoint_key(namespace, checkpoint["id"])}}
    return _with_value(key, attributes, payload)


def write_items(
    serde: SerializerProtocol,
    thread_id: str,
    namespace: str,
    checkpoint_id: str,
    writes: Iterable[tuple[str, Any]],
    task_id: str,
    task_path: str,
    ttl: int | None,
) -> list[Item]:
    """The items that store a task's writes against a checkpoint (LangGraph's indices: special channels)."""
    items: list[Item] = []
    for number, (channel, value) in enumerate(writes):
        idx = WRITES_IDX_MAP.get(channel, number)
        kind, payload = serde.dumps_typed(value)
        attributes: Item = {
            "task": {"S": task_id},
            "path": {"S": task_path},
            "idx": {"N": str(idx)},
            "ch": {"S": channel},
            "t": {"S": kind},
        }
        if ttl is not None:
            attributes["ttl"] = {"N": str(ttl)}
        key = {
            "PK": {"S": partition(thread_id)},
            "SK": {"S": write_key(namespace, checkpoint_id, task_id, idx)},
        }
        items.extend(_with_value(key, attributes, payload))
    return items


def _value(item: Item, parts: dict[str, bytes]) -> bytes:
    count = int(item.get("parts", {}).get("N", "0"))
    if count:
        key = item["SK"]["S"]
        data = b"".join(parts[part_key(key, n)] for n in range(count))
    else:
        data = item["v"]["B"]
    return zlib.decompress(data) if item.get("z", {}).get("BOOL") else data


def groups(serde: SerializerProtocol, items: Iterable[Item]) -> Iterator[StoredCheckpoint]:
    """The checkpoints in `items`, a namespace's items in descending sort-key order (a `Query`'s pages).

    A checkpoint's writes and parts come before it, so each is complete when its own item arrives. Writes
    whose checkpoint is not in this layout (stored against a thread's checkpoint of the previous layout, or
    before their checkpoint) come as a `StoredCheckpoint` whose `checkpoint` is None. An item missing a part
    (stored by a put that then failed: parts are stored first, but a batch is not applied in order) is not
    there.
    """
    parts: dict[str, bytes] = {}
    writes: list[StoredWrite] = []
    current: tuple[str, str] | None = None
    for item in items:
        key = parse(item["SK"]["S"])
        if current != (key.namespace, key.checkpoint_id):
            if current is not None and writes:
                yield _writes_alone(current, writes)
            current, parts, writes = (key.namespace, key.checkpoint_id), {}, []
        if key.kind == "P":
            parts[item["SK"]["S"]] = item["v"]["B"]
        elif key.kind == "W" and _has_parts(item, parts):
            writes.append(
                StoredWrite(
                    task_id=item["task"]["S"],
                    channel=item["ch"]["S"],
                    value=serde.loads_typed((item["t"]["S"], _value(item, parts))),
                    task_path=item["path"]["S"],
                    idx=int(item["idx"]["N"]),
                )
            )
        elif _has_parts(item, parts):  # else a put failed after its head was stored: not stored, then
            yield StoredCheckpoint(
                namespace=key.namespace,
                checkpoint_id=key.checkpoint_id,
                checkpoint=serde.loads_typed((item["t"]["S"], _value(item, parts))),
                metadata=serde.loads_typed((item["mt"]["S"], item["m"]["B"])),
                parent_id=item.get("parent", {}).get("S"),
                writes=_ordered(writes),
            )
            writes = []
    if current is not None and writes:
        yield _writes_alone(current, writes)


def _has_parts(item: Item, parts: dict[str, bytes]) -> bool:
    count = int(item.get("parts", {}).get("N", "0"))
    return all(part_key(item["SK"]["S"], n) in parts for n in range(count))


def _ordered(writes: list[StoredWrite]) -> list[StoredWrite]:
    return sorted(writes, key=lambda write: writes_sort_key(write.task_path, write.task_id, write.idx))


def _writes_alone(current: tuple[str, str], writes: list[StoredWrite]) -> StoredCheckpoint:
    return StoredCheckpoint(current[0], current[1], None, None, None, _ordered(writes))
