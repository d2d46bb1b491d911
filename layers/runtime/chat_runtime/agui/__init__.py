"""AG-UI on the `/ws` socket: RunAgentInput in, AG-UI events out, over the same turns as our own protocol.

A connection picks AG-UI when it connects (the `ag-ui` WebSocket subprotocol, or `?protocol=ag-ui`);
:class:`AguiCodec` then decodes its frames into our client frames and encodes our server frames as AG-UI
events, keeping per-run state (open messages and steps, queued run ids, interrupts awaiting the run's end).
On AWS the choice is stored with the connection, and each Lambda builds the codec again with
:func:`codec_for`.
"""

from chat_runtime.agui.codec import (
    AGUI_SUBPROTOCOL,
    AguiCodec,
    FrameCodec,
    OwnCodec,
    choose_codec,
    codec_for,
    requested_protocol,
    subprotocols_in,
)

__all__ = [
    "AGUI_SUBPROTOCOL",
    "AguiCodec",
    "FrameCodec",
    "OwnCodec",
    "choose_codec",
    "codec_for",
    "requested_protocol",
    "subprotocols_in",
]
