"""Where a thread's checkpoints and writes sit in the table: one partition per thread, sorted for one `Query`.

Partition key `THREAD#{thread_id}`. Sort keys, within a namespace (prefixed by its length, so that no
namespace's prefix is another's):

- `{len:04d}:{ns}#{checkpoint_id}#C`: a checkpoint (its value, metadata and parent's id);
- `{len:04d}:{ns}#{checkpoint_id}#W#{task_id}#{idx}`: a write stored against it;
- `{item's key}#P#{n:05d}`: the n-th part of a value too big for one item.

Checkpoint ids (uuid6) sort by time, and `#` sorts below every character of an id, so a descending `Query` of
a namespace returns its checkpoints newest first, each one's writes and parts just before the checkpoint
itself: a checkpoint with its writes, or with every ancestor back to a snapshot, is one request.
"""

from __future__ import annotations

from typing import NamedTuple

PARTITION_PREFIX = "THREAD#"
MAX_INLINE_BYTES = 300_000
"""A value above this is stored in parts (DynamoDB's item limit is 400 KB, keys and attributes included)."""
COMPRESS_FROM_BYTES = 1024


class SortKey(NamedTuple):
    """A sort key taken apart."""

    namespace: str
    checkpoint_id: str
    kind: str
    """`C` (a checkpoint), `W` (a write) or `P` (a part of either)."""


def partition(thread_id: str) -> str:
    """The partition key of a thread."""
    return f"{PARTITION_PREFIX}{thread_id}"


def namespace_prefix(namespace: str) -> str:
    """The sort-key prefix every item of a namespace starts with."""
    return f"{len(namespace):04d}:{namespace}#"


def checkpoint_prefix(namespace: str, checkpoint_id: str) -> str:
    """The sort-key prefix of a checkpoint's items (itself, its writes and parts)."""
    return f"{namespace_prefix(namespace)}{checkpoint_id}#"


def checkpoint_key(namespace: str, checkpoint_id: str) -> str:
    """The sort key of a checkpoint."""
    return f"{checkpoint_prefix(namespace, checkpoint_id)}C"


def write_key(namespace: str, checkpoint_id: str, task_id: str, idx: int) -> str:
    """The sort key of one write of a task."""
    return f"{checkpoint_prefix(namespace, checkpoint_id)}W#{task_id}#{idx}"


def part_key(key: str, number: int) -> str:
    """The sort key of the `number`-th part of the value of the item at `key`."""
    return f"{key}#P#{number:05d}"


def parse(sort_key: str) -> SortKey:
    """Take a sort key apart."""
    length, rest = sort_key.split(":", 1)
    namespace, rest = rest[: int(length)], rest[int(length) + 1 :]
    checkpoint_id, tail = rest.split("#", 1)
    kind = "P" if "#P#" in tail else tail[0]
    return SortKey(namespace, checkpoint_id, kind)
