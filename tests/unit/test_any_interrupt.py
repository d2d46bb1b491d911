"""Any interrupt value, any answer: how frames describe interrupts and how answers are admitted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langgraph.types import Command, Interrupt

from chat_runtime.admission import Admitted, Answers, Dismiss, Rejected, Resume, admit
from chat_runtime.engine import graph_input
from chat_runtime.interrupts import pending_interrupt
from chat_runtime.protocol import (
    ErrorCode,
    InterruptResponseFrame,
    MessageFrame,
    ProtocolError,
    encode_frame,
    parse_client_frame,
)
from chat_runtime.sessions import PendingInterrupt, SessionRecord, ThreadStatus

QUESTION = PendingInterrupt("q1", kind="input", value="What is your name?", question="What is your name?")
APPROVAL = PendingInterrupt("a1", "book_flight", "Book it?", {"flight": "LX 318"})


def waiting(*pending: PendingInterrupt) -> SessionRecord:
    return SessionRecord("t", ThreadStatus.AWAITING_APPROVAL, pending, 1.0, 1.0, 10**12)


def response(**fields: Any) -> InterruptResponseFrame:
    parsed = parse_client_frame(json.dumps({"type": "interrupt_response", "thread_id": "t", **fields}))
    assert isinstance(parsed, InterruptResponseFrame), parsed
    return parsed


@pytest.mark.parametrize(
    ("value", "question"),
    [
        ("What is your name?", "What is your name?"),
        ({"question": "Window or aisle?", "options": ["window", "aisle"]}, "Window or aisle?"),
        (["pick", "one"], None),
        ({"action": ""}, None),  # an empty action names no approval
    ],
)
def test_a_value_that_names_no_action_asks_for_an_answer_and_travels_unchanged(
    value: Any, question: Any
) -> None:
    pending = pending_interrupt(Interrupt(value=value, id="i9"))
    frame = json.loads(encode_frame(pending.to_frame("t")))
    assert (frame["kind"], frame["value"], frame.get("question")) == ("input", value, question)
    assert "action" not in frame and "description" not in frame


def test_an_object_with_an_action_is_an_approval_with_its_fields() -> None:
    value = {"action": "refund", "amount": 20, "editable": ["amount"], "kind": "sneaky", "value": 1}
    frame = json.loads(encode_frame(pending_interrupt(Interrupt(value=value, id="i9")).to_frame("t")))
    assert frame["kind"] == "approval" and frame["action"] == "refund" and frame["amount"] == 20
    assert frame["description"] == "Approve refund (amount 20, editable ['amount'])?"
    assert "value" not in frame  # reserved keys of the frame are never overwritten by the value's


def test_a_plain_message_answers_the_one_pending_question_with_its_text() -> None:
    admitted = admit(MessageFrame(type="message", thread_id="t", content="Ada"), waiting(QUESTION), 5.0)
    assert admitted == Admitted(Answers((("q1", "Ada"),)))
    assert graph_input(Answers((("q1", "Ada"),))) == Command(resume="Ada")


def test_any_json_value_reaches_the_graph_unchanged_null_included() -> None:
    for value in ["Ada", {"first": "Ada"}, [1, 2], 3.5, None, False]:
        admitted = admit(response(value=value), waiting(QUESTION), 5.0)
        assert isinstance(admitted, Admitted) and isinstance(admitted.turn_input, Answers)
        assert graph_input(admitted.turn_input) == Command(resume=value)


def test_several_pending_interrupts_are_answered_by_id_in_one_frame() -> None:
    frame = response(
        answers=[{"interrupt_id": "a1", "approved": True}, {"interrupt_id": "q1", "value": "aisle"}]
    )
    admitted = admit(frame, waiting(APPROVAL, QUESTION), 5.0)
    assert isinstance(admitted, Admitted)
    assert graph_input(admitted.turn_input) == Command(resume={"a1": True, "q1": "aisle"})


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"value": "aisle"}, ErrorCode.INVALID_FIELD),  # two pending: which one?
        ({"answers": [{"interrupt_id": "zz", "value": 1}]}, ErrorCode.UNKNOWN_INTERRUPT),
        (
            {"answers": [{"interrupt_id": "q1", "value": 1}, {"interrupt_id": "q1", "value": 2}]},
            ErrorCode.INVALID_FIELD,
        ),
        (
            {
                "answers": [
                    {"interrupt_id": "q1", "cancelled": True},
                    {"interrupt_id": "a1", "approved": True},
                ]
            },
            ErrorCode.INVALID_FIELD,
        ),
    ],
)
def test_answers_that_cannot_be_used_are_refused_and_the_interrupts_sent_again(
    fields: dict[str, Any], code: ErrorCode
) -> None:
    refused = admit(response(**fields), waiting(APPROVAL, QUESTION), 5.0)
    assert isinstance(refused, Rejected) and refused.error.code is code
    assert [f.interrupt_id for f in refused.resend] == ["a1", "q1"]


def test_dismissing_closes_every_pending_interrupt_without_running_the_graph() -> None:
    assert admit(response(cancelled=True), waiting(APPROVAL, QUESTION), 5.0) == Admitted(
        Dismiss(("a1", "q1"))
    )
    with pytest.raises(ValueError, match="does not run the graph"):
        graph_input(Dismiss(("a1",)))


def test_an_approval_answered_as_before_resumes_as_before() -> None:
    assert admit(response(approved=False), waiting(APPROVAL), 5.0) == Admitted(Resume(False, "a1"))
    edited = admit(response(approved=True, edits={"flight": "LX 320"}), waiting(APPROVAL), 5.0)
    assert isinstance(edited, Admitted)
    assert graph_input(edited.turn_input) == Command(resume={"approved": True, "edits": {"flight": "LX 320"}})


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({}, "needs approved (true or false), a value, or cancelled"),
        ({"approved": True, "value": 1}, "one of approved, value or cancelled"),
        ({"answers": [{"value": 1}]}, "each of answers needs its interrupt_id"),
        ({"answers": [], "value": 1}, "answers"),
        ({"value": 1, "answers": [{"interrupt_id": "q1", "value": 2}]}, "not both"),
    ],
)
def test_malformed_answers_get_a_clear_invalid_field_error(fields: dict[str, Any], words: str) -> None:
    refused = parse_client_frame(json.dumps({"type": "interrupt_response", "thread_id": "t", **fields}))
    assert isinstance(refused, ProtocolError) and refused.code is ErrorCode.INVALID_FIELD
    assert words in refused.message.lower() and refused.thread_id == "t"


def test_a_queued_answer_keeps_exactly_what_was_sent() -> None:
    """The AWS path serializes frames into SQS: an answer without a value must not come back with `null`."""
    for fields in ({"approved": True}, {"value": None}, {"answers": [{"interrupt_id": "q1", "value": None}]}):
        frame = response(**fields)
        again = InterruptResponseFrame.model_validate_json(frame.model_dump_json())
        assert [a.resume_value() for a in again.all_answers()] == [
            a.resume_value() for a in frame.all_answers()
        ]
        assert [("value" in a.model_fields_set) for a in again.all_answers()] == [
            ("value" in a.model_fields_set) for a in frame.all_answers()
        ]
