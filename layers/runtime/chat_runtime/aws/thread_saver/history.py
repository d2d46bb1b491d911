"""A checkpoint's delta-channel history from its ancestors, as `BaseCheckpointSaver.get_delta_channel_history`
defines it: per channel, the writes stored against each ancestor (oldest first, each checkpoint's in
`writes_sort_key` order) back to the nearest ancestor that stores a value for the channel (the seed)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from langgraph.checkpoint.base import CheckpointTuple, DeltaChannelHistory

from chat_runtime.aws.thread_saver.items import StoredCheckpoint


class Walk:
    """The walk up one checkpoint's parent chain, fed the thread's checkpoints newest first."""

    def __init__(self, parent_id: str | None, channels: Sequence[str]) -> None:
        self.wanted = parent_id
        self.remaining = set(channels)
        self._writes: dict[str, list[list[Any]]] = {channel: [] for channel in channels}
        self._seeds: dict[str, Any] = {}
        self._writes_elsewhere: dict[str, list[Any]] = {}
        self.broken: str | None = None
        """The id of an ancestor the chain named and no saver had (expired?), if any."""

    @property
    def done(self) -> bool:
        """Whether every channel has its seed, or the chain its root."""
        return self.wanted is None or not self.remaining

    def visit(self, stored: StoredCheckpoint) -> None:
        """Take in a checkpoint of the namespace (ignored unless it is the next ancestor)."""
        if stored.checkpoint_id != self.wanted:
            return  # another branch (a fork) or a descendant
        if stored.checkpoint is None:  # the ancestor is in the previous layout; these writes are its too
            self._writes_elsewhere[stored.checkpoint_id] = [write.pending for write in stored.writes]
            return
        self._take(
            [write.pending for write in stored.writes], stored.checkpoint["channel_values"], stored.parent_id
        )

    def visit_tuple(self, found: CheckpointTuple) -> None:
        """Take in an ancestor read from elsewhere (a thread stored by an older saver)."""
        parent = found.parent_config["configurable"]["checkpoint_id"] if found.parent_config else None
        stored_here = self._writes_elsewhere.pop(str(found.config["configurable"]["checkpoint_id"]), [])
        self._take([*(found.pending_writes or []), *stored_here], found.checkpoint["channel_values"], parent)

    def continue_with(self, read: Callable[[str], CheckpointTuple | None]) -> None:
        """Walk the rest of the chain through `read` (one checkpoint by id at a time)."""
        while not self.done:
            assert self.wanted is not None
            found = read(self.wanted)
            if found is None:
                self.broken, self.wanted = self.wanted, None
                return
            self.visit_tuple(found)

    def _take(self, writes: Iterable[Any], values: dict[str, Any], parent_id: str | None) -> None:
        for channel in self.remaining:
            self._writes[channel].append([write for write in writes if write[1] == channel])
        for channel in list(self.remaining):
            if channel in values:
                self._seeds[channel] = values[channel]
                self.remaining.discard(channel)
        self.wanted = parent_id

    def history(self) -> dict[str, DeltaChannelHistory]:
        """What the walk found, per channel."""
        result: dict[str, DeltaChannelHistory] = {}
        for channel, blocks in self._writes.items():
            entry: DeltaChannelHistory = {"writes": [write for block in reversed(blocks) for write in block]}
            if channel in self._seeds:
                entry["seed"] = self._seeds[channel]
            result[channel] = entry
        return result
