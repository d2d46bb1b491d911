"""The per-connection codec a transport picks at connect: our own protocol, or AG-UI."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Protocol

from chat_runtime.agui.decode import DecodedRun, decode_agui
from chat_runtime.agui.encode import AguiEncoder
from chat_runtime.protocol import AnyClientFrame, ProtocolError, ServerFrame, encode_frame, parse_client_frame

AGUI_SUBPROTOCOL = "ag-ui"


class FrameCodec(Protocol):
    """Reads a connection's client frames and writes its server frames, in the connection's protocol."""

    subprotocol: str | None

    def decode(self, raw: str | bytes) -> AnyClientFrame | ProtocolError:
        """Parse one client frame; never raises."""
        ...

    def encode(self, frame: ServerFrame) -> list[str]:
        """The texts to send for one server frame."""
        ...

    def end_turn(self, thread_id: str) -> list[str]:
        """The texts to send once a turn of `thread_id` has sent its last frame."""
        ...


class OwnCodec:
    """Our `/ws` protocol: one JSON frame in, one JSON frame out."""

    subprotocol: str | None = None

    def decode(self, raw: str | bytes) -> AnyClientFrame | ProtocolError:
        """Parse with :func:`parse_client_frame`."""
        return parse_client_frame(raw)

    def encode(self, frame: ServerFrame) -> list[str]:
        """The frame's JSON."""
        return [encode_frame(frame)]

    def end_turn(self, thread_id: str) -> list[str]:
        """Nothing: our protocol's turn ends with its own frames."""
        return []


class AguiCodec:
    """AG-UI: RunAgentInput in (and `cancel`/`resume`/`get_state` of ours), one AG-UI event per frame out."""

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

    def end_turn(self, thread_id: str) -> list[str]:
        """RUN_FINISHED (and the legacy `on_interrupt` events) for a turn that ended with interrupts."""
        return [json.dumps(event) for event in self._encoder.end_turn(thread_id)]


def choose_codec(subprotocols: Sequence[str], query: Mapping[str, str]) -> FrameCodec:
    """The codec a connection asked for: the `ag-ui` subprotocol or `?protocol=ag-ui`, else our own."""
    if AGUI_SUBPROTOCOL in subprotocols:
        return AguiCodec(AGUI_SUBPROTOCOL)
    if query.get("protocol") == AGUI_SUBPROTOCOL:
        return AguiCodec(None)
    return OwnCodec()
