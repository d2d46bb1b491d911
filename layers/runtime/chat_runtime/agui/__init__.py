"""AG-UI on the `/ws` socket: RunAgentInput in, AG-UI events out, over the same turns as our own protocol.

A connection picks AG-UI when it connects (the `ag-ui` WebSocket subprotocol, or `?protocol=ag-ui`);
:class:`AguiCodec` then decodes its frames into our client frames and encodes our server frames as AG-UI
events, keeping per-run state (open messages, queued run ids, interrupts awaiting the run's end).
"""

from chat_runtime.agui.codec import AGUI_SUBPROTOCOL, AguiCodec, FrameCodec, OwnCodec, choose_codec

__all__ = ["AGUI_SUBPROTOCOL", "AguiCodec", "FrameCodec", "OwnCodec", "choose_codec"]
