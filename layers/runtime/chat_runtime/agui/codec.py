"""The per-connection codec a transport picks at connect: our own protocol, or AG-UI."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from chat_runtime.agui.decode import DecodedRun, decode_agui
from chat_runtime.agui.encode import AguiEncoder
from chat_runtime.protocol import (
    AnyClientFrame,
    ProtocolError,
    ServerFrame,
    StateFrame,
    encode_frame,
    parse_client_frame,
)

AGUI_SUBPROTOCOL = "ag-ui"
"""The WebSocket subprotocol (and `?protocol=` value) that chooses AG-UI; also the name stored with an
AWS connection."""


class FrameCodec(Protocol):
    """Reads a connection's client frames and writes its server frames, in the connection's protocol."""

    subprotocol: str | None
    protocol: str | None
    """The protocol's name as a connection stores it (None: our own)."""
    state_at_interrupts: bool
    """Whether a turn that ends in interrupts is followed by the thread's `state` (AG-UI's snapshots)."""

    def decode(self, raw: str | bytes) -> AnyClientFrame | ProtocolError:
        """Parse one client frame; never raises."""
        ...

    def encode(self, frame: ServerFrame) -> list[str]:
        """The texts to send for one server frame."""
        ...

    def end_turn(self, thread_id: str, state: StateFrame | None = None) -> list[str]:
        """The texts to send once a turn of `thread_id` has sent its last frame (with its state, if read)."""
        ...

    def wants_state(self, thread_id: str) -> bool:
        """Whether the turn just ended on `thread_id` should be followed by the thread's `state` frame."""
        ...

    def begin_run(self, thread_id: str, run_id: str | None) -> None:
        """The next turn of `thread_id` answers the client's run `run_id` (None: no run id was given)."""
        ...

    def queued_run(self, thread_id: str) -> str | None:
        """The client's id of the run the next turn of `thread_id` answers (decoded from its frame)."""
        ...

    def prime(self, frames: Iterable[ServerFrame]) -> None:
        """Take in frames the client already received from elsewhere (a replay), sending nothing."""
        ...


class OwnCodec:
    """Our `/ws` protocol: one JSON frame in, one JSON frame out."""

    subprotocol: str | None = None
    protocol: str | None = None
    state_at_interrupts = False

    def decode(self, raw: str | bytes) -> AnyClientFrame | ProtocolError:
        """Parse with :func:`parse_client_frame`."""
        return parse_client_frame(raw)

    def encode(self, frame: ServerFrame) -> list[str]:
        """The frame's JSON."""
        return [encode_frame(frame)]

    def end_turn(self, thread_id: str, state: StateFrame | None = None) -> list[str]:
        """Nothing: our protocol's turn ends with its own frames."""
        return []

    def wants_state(self, thread_id: str) -> bool:
        """Never: a `state` frame is only the answer to `get_state`."""
        return False

    def begin_run(self, thread_id: str, run_id: str | None) -> None:
        """Nothing: our protocol has no run ids."""

    def queued_run(self, thread_id: str) -> str | None:
        """None: our protocol has no run ids."""
        return None

    def prime(self, frames: Iterable[ServerFrame]) -> None:
        """Nothing: every frame stands alone."""


class AguiCodec:
    """AG-UI: RunAgentInput in (and `cancel`/`resume`/`get_state` of ours), one AG-UI event per frame out."""

    protocol: str | None = AGUI_SUBPROTOCOL
    state_at_interrupts = True

    def __init__(self, subprotocol: str | None = AGUI_SUBPROTOCOL) -> None:
        self.subprotocol = subprotocol
        self._encoder = AguiEncoder()

    def decode(self, raw: str | bytes) -> AnyClientFrame | ProtocolError:
        """Decode a frame; a RunAgentInput (refused or not) queues its run id for the thread's next run."""
        decoded = decode_agui(raw)
        if isinstance(decoded, DecodedRun):
            self._encoder.begin_run(decoded.frame.thread_id, decoded.run_id)
            return decoded.frame
        if isinstance(decoded, tuple):
            refusal, run_id = decoded
            if run_id is not None and refusal.thread_id is not None:
                self._encoder.begin_run(refusal.thread_id, run_id)
            return refusal
        return decoded

    def encode(self, frame: ServerFrame) -> list[str]:
        """The frame's AG-UI events, one JSON text each."""
        return [json.dumps(event) for event in self._encoder.encode(frame)]

    def end_turn(self, thread_id: str, state: StateFrame | None = None) -> list[str]:
        """RUN_FINISHED (after the snapshots and the legacy `on_interrupt` events) for a turn that ended
        with interrupts."""
        return [json.dumps(event) for event in self._encoder.end_turn(thread_id, state)]

    def wants_state(self, thread_id: str) -> bool:
        """True while the thread's run waits for its snapshots and RUN_FINISHED (it ended in interrupts)."""
        return self._encoder.awaits_state(thread_id)

    def begin_run(self, thread_id: str, run_id: str | None) -> None:
        """Queue the client's run id for the thread's next run."""
        if run_id is not None:
            self._encoder.begin_run(thread_id, run_id)

    def queued_run(self, thread_id: str) -> str | None:
        """The run id the thread's next run will carry."""
        return self._encoder.queued_run(thread_id)

    def prime(self, frames: Iterable[ServerFrame]) -> None:
        """Encode frames and drop the events: the encoder then stands where the client's replay left it."""
        for frame in frames:
            self._encoder.encode(frame)


def requested_protocol(subprotocols: Sequence[str], query: Mapping[str, str]) -> str | None:
    """The protocol a connection asks for: `ag-ui` (as a subprotocol or `?protocol=ag-ui`), else None."""
    if AGUI_SUBPROTOCOL in subprotocols or query.get("protocol") == AGUI_SUBPROTOCOL:
        return AGUI_SUBPROTOCOL
    return None


def subprotocols_in(header: str | None) -> list[str]:
    """The subprotocols a `Sec-WebSocket-Protocol` header lists (comma-separated)."""
    return [part.strip() for part in (header or "").split(",") if part.strip()]


def codec_for(protocol: str | None, subprotocol: str | None = None) -> FrameCodec:
    """A fresh codec for a connection that chose `protocol` (as :func:`requested_protocol` names it)."""
    return AguiCodec(subprotocol) if protocol == AGUI_SUBPROTOCOL else OwnCodec()


def choose_codec(subprotocols: Sequence[str], query: Mapping[str, str]) -> FrameCodec:
    """The codec a connection asked for: the `ag-ui` subprotocol or `?protocol=ag-ui`, else our own."""
    subprotocol = AGUI_SUBPROTOCOL if AGUI_SUBPROTOCOL in subprotocols else None
    return codec_for(requested_protocol(subprotocols, query), subprotocol)
