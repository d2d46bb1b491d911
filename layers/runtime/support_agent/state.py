"""The support agent's state: its conversation as LangGraph's `DeltaChannel`, so each message is stored once.

With `add_messages` (LangGraph's `MessagesState`) every checkpoint holds the whole conversation, and a turn's
checkpoint bytes grow with the conversation's length; a `DeltaChannel` checkpoint holds only what the turn
wrote, and the channel is rebuilt from the stored writes back to its last snapshot (every
`SNAPSHOT_EVERY_UPDATES` supersteps that wrote it). `DynamoDBThreadSaver` reads that history in the same
request as the checkpoint. See docs/performance.md (checkpoint bytes per turn).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.channels.delta import DeltaChannel
from langgraph.graph.message import add_messages

SNAPSHOT_EVERY_UPDATES = 100
"""LangGraph's default: a simple turn writes the conversation in about four supersteps."""


def add_message_batches(messages: list[AnyMessage], batches: Sequence[Any]) -> list[AnyMessage]:
    """`add_messages` over a batch of writes, in order: the reducer `DeltaChannel` calls."""
    return functools.reduce(add_messages, batches, messages)  # type: ignore[arg-type]


class SupportState(TypedDict):
    """What the support graph keeps per thread."""

    messages: Annotated[
        list[AnyMessage], DeltaChannel(add_message_batches, snapshot_frequency=SNAPSHOT_EVERY_UPDATES)
    ]
