"""The terminal client shows quick replies (a `custom` frame, as the runtime sends it) as a numbered list."""

from __future__ import annotations

import io
from typing import Any, cast

from local_server.client import TerminalChat

FRAME = {
    "type": "custom",
    "thread_id": "t1",
    "agent": "router",
    "value": {
        "type": "quick_replies",
        "choices": [
            {"label": "Track an order", "message": "Where is my order?"},
            {"label": "Talk to a person", "message": "I want to talk to a person"},
        ],
    },
    "seq": 3,
}


def test_choices_are_numbered_and_a_number_sends_that_choice() -> None:
    out = io.StringIO()
    chat = TerminalChat(cast(Any, None), out, thread_id="t1")
    chat.show_choices(FRAME["value"])
    assert "  1) Track an order\n  2) Talk to a person\n" in out.getvalue()
    assert chat.chosen("2") == "I want to talk to a person"
    assert chat.chosen("2") == "2"  # the choices were for the turn they came with


def test_other_input_and_other_custom_values_pass_through() -> None:
    chat = TerminalChat(cast(Any, None), io.StringIO(), thread_id="t1")
    chat.show_choices(FRAME["value"])
    assert chat.chosen("9") == "9" and chat.chosen("where is 1042?") == "where is 1042?"
    chat.show_choices({"type": "progress", "value": 3})
    chat.show_choices("not a dict")
    assert chat.choices == []
