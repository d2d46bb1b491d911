"""A checkpoint's delta-channel history carried from parent to child, so that the worker that wrote a
checkpoint can answer `get_delta_channel_history` for it without reading anything.

A checkpoint's history is, per `DeltaChannel`, the writes stored against its ancestors (oldest first, each
checkpoint's in `writes_sort_key` order) back to the nearest ancestor that stores a value for the channel
(`BaseCheckpointSaver.get_delta_channel_history`). So a child's history is its parent's history followed by
the writes stored against the parent, or, when the parent stores the channel's value (a snapshot), that value
and the parent's writes alone. `LatestCheckpoints` keeps a `Lineage` for a checkpoint whose history it knows
(read with it, or derived) and whose writes it has seen every one of; everything is kept serialized and
handed out deserialized afresh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import WRITES_IDX_MAP, DeltaChannelHistory, writes_sort_key
from langgraph.checkpoint.serde.base import SerializerProtocol

Serialized = tuple[str, bytes]


@dataclass(frozen=True)
class CapturedWrite:
    """One write stored against a checkpoint, as `put_writes` was given it."""

    task_path: str
    task_id: str
    idx: int
    channel: str
    value: Serialized


@dataclass
class ChannelHistory:
    """One channel's history: its writes (task id, serialized value) and its seed, if any."""

    writes: list[tuple[str, Serialized]] = field(default_factory=list)
    seed: Serialized | None = None


@dataclass
class Lineage:
    """What a remembered checkpoint's child needs: the checkpoint's history, the delta channels' values it
    stores (snapshots) and every write stored against it."""

    histories: dict[str, ChannelHistory]
    values: dict[str, Serialized]
    writes: list[CapturedWrite] = field(default_factory=list)

    def child(self) -> dict[str, ChannelHistory]:
        """The history of a checkpoint whose parent is this one."""
        latest: dict[tuple[str, str, int], CapturedWrite] = {}
        for write in self.writes:  # stored again under one task and index: the last one stands, as stored
            latest[(write.task_path, write.task_id, write.idx)] = write
        ordered = [latest[key] for key in sorted(latest, key=lambda key: writes_sort_key(*key))]
        histories = {}
        for channel, history in self.histories.items():
            own = [(write.task_id, write.value) for write in ordered if write.channel == channel]
            if channel in self.values:
                histories[channel] = ChannelHistory(writes=own, seed=self.values[channel])
            else:
                histories[channel] = ChannelHistory(writes=[*history.writes, *own], seed=history.seed)
        return histories


def captured(
    serde: SerializerProtocol, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str
) -> list[CapturedWrite]:
    """`put_writes`'s arguments as `CapturedWrite`s (LangGraph's indices for special channels)."""
    return [
        CapturedWrite(task_path, task_id, WRITES_IDX_MAP.get(channel, idx), channel, serde.dumps_typed(value))
        for idx, (channel, value) in enumerate(writes)
    ]


def root_histories(channels: Sequence[str]) -> dict[str, ChannelHistory]:
    """The history of a checkpoint without a parent: nothing."""
    return {channel: ChannelHistory() for channel in channels}


def stored_values(
    serde: SerializerProtocol, channel_values: Mapping[str, Any], channels: Sequence[str]
) -> dict[str, Serialized]:
    """The delta channels' values a checkpoint stores (a snapshot, or a value from before the channel was
    a `DeltaChannel`)."""
    return {
        channel: serde.dumps_typed(channel_values[channel])
        for channel in channels
        if channel in channel_values
    }


def known_histories(
    serde: SerializerProtocol, histories: Mapping[str, DeltaChannelHistory]
) -> dict[str, ChannelHistory]:
    """Histories read from a saver, kept serialized."""
    kept = {}
    for channel, history in histories.items():
        kept[channel] = ChannelHistory(
            writes=[(write[0], serde.dumps_typed(write[2])) for write in history["writes"]],
            seed=serde.dumps_typed(history["seed"]) if "seed" in history else None,
        )
    return kept


def handed_out(
    serde: SerializerProtocol, histories: Mapping[str, ChannelHistory], channels: Sequence[str]
) -> dict[str, DeltaChannelHistory]:
    """What `get_delta_channel_history` returns, deserialized afresh."""
    result: dict[str, DeltaChannelHistory] = {}
    for channel in channels:
        history = histories[channel]
        entry: DeltaChannelHistory = {
            "writes": [(task_id, channel, serde.loads_typed(value)) for task_id, value in history.writes]
        }
        if history.seed is not None:
            entry["seed"] = serde.loads_typed(history.seed)
        result[channel] = entry
    return result


def history_turns(graph: Any) -> int:
    """How many turns a `DeltaChannel`'s history can span: its snapshot frequency, for a channel every turn
    writes (a conversation: the turn's input), the largest of the graph's (0 without one)."""
    channels = getattr(graph, "channels", {}).values()
    return max(
        (channel.snapshot_frequency for channel in channels if isinstance(channel, DeltaChannel)), default=0
    )


def delta_channels_of(graph: Any) -> tuple[str, ...]:
    """The names of a compiled graph's `DeltaChannel`s."""
    return tuple(
        name for name, channel in getattr(graph, "channels", {}).items() if isinstance(channel, DeltaChannel)
    )
