"""A one-node assistant with one approval-gated tool: the smallest graph the runtime serves besides ours.

It keeps notes. "note: buy milk" asks for approval (LangGraph `interrupt()`), then saves the note; "notes"
lists them; anything else gets a short answer. The model is a tiny deterministic one, so the example runs
offline; replace `respond` with a chat model (`init_chat_model(os.environ["MODEL"])`) for real use.

The runtime's contract, as this graph meets it:
- `make_graph(config)` returns an uncompiled `StateGraph`; the runtime compiles it with its own checkpointer.
- `interrupt({...})` values with `action` and `description` become `interrupt` frames; their other keys travel
  as frame fields, and `editable` names the ones the customer may change. The resume value is `True`,
  `False` or `{"approved": True, "edits": {...}}`.
- `config["configurable"]` carries `thread_id` (the client's), `customer_id` (from the token) and
  `checkpoint_thread_id` (the runtime's storage key; leave it alone).
"""

from __future__ import annotations

import os
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import interrupt


class NotesState(TypedDict):
    """The conversation and the notes saved so far."""

    messages: Annotated[list[AnyMessage], add_messages]
    notes: list[str]


def respond(state: NotesState, config: RunnableConfig) -> dict[str, Any]:
    """Answer the latest message; saving a note waits for the customer's approval."""
    text = next((m.text for m in reversed(state["messages"]) if isinstance(m, HumanMessage)), "").strip()
    notes = list(state.get("notes") or [])
    if text.lower().startswith("note:"):
        if len(notes) >= int(os.environ.get("NOTES_LIMIT", "10")):
            return {"messages": [AIMessage("You have as many notes as you may keep.", name="assistant")]}
        note = text[5:].strip()
        answer = interrupt(
            {
                "action": "save_note",
                "description": f"Save the note \u201c{note}\u201d?",
                "note": note,
                "editable": ["note"],
            }
        )
        approved = answer is True or (isinstance(answer, dict) and answer.get("approved") is True)
        if not approved:
            return {"messages": [AIMessage("Not saved.", name="assistant")]}
        edits = answer.get("edits") if isinstance(answer, dict) else None
        if isinstance(edits, dict) and isinstance(edits.get("note"), str) and edits["note"].strip():
            note = edits["note"].strip()
        return {"notes": [*notes, note], "messages": [AIMessage(f"Saved: {note}", name="assistant")]}
    if text.lower() == "notes":
        listed = "; ".join(notes) if notes else "none yet"
        return {"messages": [AIMessage(f"Your notes: {listed}", name="assistant")]}
    customer = config.get("configurable", {}).get("customer_id", "there")
    limit = os.environ.get("NOTES_LIMIT", "10")  # set by langgraph.json's "env"
    reply = f"Hi {customer}! Write 'note: ...' to save a note (up to {limit})."
    return {"messages": [AIMessage(reply, name="assistant")]}


def make_graph(config: RunnableConfig | None = None) -> StateGraph[NotesState]:
    """The graph, uncompiled: the runtime adds its checkpointer."""
    builder = StateGraph(NotesState)
    builder.add_node("assistant", respond)
    builder.add_edge(START, "assistant")
    builder.add_edge("assistant", END)
    return builder
