"""Every parse rule of the `/ws` protocol, and a property: nothing ever raises out of the parser."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chat_runtime.protocol import (
    MAX_FRAME_BYTES,
    ErrorCode,
    ErrorFrame,
    InterruptFrame,
    InterruptResponseFrame,
    MessageFrame,
    ProtocolError,
    ResumeFrame,
    TokenFrame,
    encode_frame,
    parse_client_frame,
)


def refusal(raw: str | bytes) -> ProtocolError:
    result = parse_client_frame(raw)
    assert isinstance(result, ProtocolError), result
    return result


def test_a_valid_message() -> None:
    frame = parse_client_frame('{"type": "message", "thread_id": "t-1", "content": "hi"}')
    assert frame == MessageFrame(type="message", thread_id="t-1", content="hi")


def test_a_valid_interrupt_response_with_edits() -> None:
    raw = {"type": "interrupt_response", "thread_id": "a.b:c_d", "approved": False, "interrupt_id": "i1"}
    frame = parse_client_frame(json.dumps({**raw, "edits": {"order_id": "1"}}))
    assert isinstance(frame, InterruptResponseFrame)
    assert (frame.approved, frame.interrupt_id, frame.edits) == (False, "i1", {"order_id": "1"})


def test_bytes_frames_are_parsed_as_utf8_text() -> None:
    assert isinstance(
        parse_client_frame(b'{"type":"message","thread_id":"t","content":"\xc3\xa9"}'), MessageFrame
    )
    assert refusal(b"\xff\xfe").code is ErrorCode.INVALID_JSON


def test_size_is_checked_before_parsing() -> None:
    assert refusal("x" * (MAX_FRAME_BYTES + 1)).code is ErrorCode.MESSAGE_TOO_LARGE
    padded = json.dumps(
        {"type": "message", "thread_id": "t", "content": "é" * (MAX_FRAME_BYTES // 2)}, ensure_ascii=False
    )
    assert len(padded) < MAX_FRAME_BYTES < len(padded.encode())
    error = refusal(padded)
    assert error.code is ErrorCode.MESSAGE_TOO_LARGE and "too large" in error.message.lower()
    head, tail = '{"type":"message","thread_id":"t","content":"', '"}'
    exactly = head + "a" * (MAX_FRAME_BYTES - len(head) - len(tail)) + tail
    assert len(exactly) == MAX_FRAME_BYTES
    assert isinstance(parse_client_frame(exactly), MessageFrame)


@pytest.mark.parametrize(
    ("raw", "code", "words"),
    [
        ("not valid json", ErrorCode.INVALID_JSON, "Invalid JSON"),
        ("", ErrorCode.INVALID_JSON, "Invalid JSON"),
        ("[1, 2]", ErrorCode.INVALID_FRAME, "JSON object"),
        ('"message"', ErrorCode.INVALID_FRAME, "JSON object"),
        ('{"thread_id": "t"}', ErrorCode.UNKNOWN_TYPE, "Unknown frame type"),
        ('{"type": "shout", "thread_id": "t"}', ErrorCode.UNKNOWN_TYPE, "'shout'"),
        ('{"type": 7}', ErrorCode.UNKNOWN_TYPE, "'7'"),
        ('{"type": "message", "content": "hello"}', ErrorCode.INVALID_THREAD_ID, "thread_id is required"),
        ('{"type": "message", "thread_id": "", "content": "x"}', ErrorCode.INVALID_THREAD_ID, "thread_id"),
        ('{"type": "message", "thread_id": "a b", "content": "x"}', ErrorCode.INVALID_THREAD_ID, "thread_id"),
        ('{"type": "message", "thread_id": 12, "content": "x"}', ErrorCode.INVALID_THREAD_ID, "thread_id"),
        ('{"type": "message", "thread_id": "t", "content": ""}', ErrorCode.EMPTY_CONTENT, "content"),
        ('{"type": "message", "thread_id": "t", "content": " \\n "}', ErrorCode.EMPTY_CONTENT, "content"),
        ('{"type": "message", "thread_id": "t"}', ErrorCode.EMPTY_CONTENT, "content"),
        ('{"type": "message", "thread_id": "t", "content": 5}', ErrorCode.INVALID_FIELD, "content"),
        ('{"type": "interrupt_response", "thread_id": "t"}', ErrorCode.INVALID_FIELD, "approved"),
        (
            '{"type": "interrupt_response", "thread_id": "t", "approved": "yes"}',
            ErrorCode.INVALID_FIELD,
            "approved",
        ),
        (
            '{"type": "interrupt_response", "thread_id": "t", "approved": 1}',
            ErrorCode.INVALID_FIELD,
            "approved",
        ),
        (
            '{"type": "interrupt_response", "thread_id": "t", "approved": true, "edits": [1]}',
            ErrorCode.INVALID_FIELD,
            "edits",
        ),
    ],
)
def test_each_rule_has_its_code_and_a_clear_message(raw: str, code: ErrorCode, words: str) -> None:
    error = refusal(raw)
    assert error.code is code
    assert words in error.message


def test_thread_id_limits() -> None:
    def frame(thread_id: str) -> str:
        return json.dumps({"type": "message", "thread_id": thread_id, "content": "x"})

    assert isinstance(parse_client_frame(frame("A" * 128)), MessageFrame)
    assert refusal(frame("A" * 129)).code is ErrorCode.INVALID_THREAD_ID
    assert refusal(frame("t\n")).code is ErrorCode.INVALID_THREAD_ID


def test_a_refusal_names_the_thread_when_it_is_valid() -> None:
    assert refusal('{"type": "message", "thread_id": "t-9", "content": ""}').thread_id == "t-9"
    assert refusal('{"type": "message", "thread_id": "bad id", "content": ""}').thread_id is None
    frame = refusal('{"type": "message", "thread_id": "t-9", "content": ""}').to_frame()
    assert json.loads(encode_frame(frame)) == {
        "type": "error",
        "code": "empty_content",
        "message": "content must not be empty.",
        "thread_id": "t-9",
    }


def test_server_frames_serialize_without_empty_fields_and_interrupts_flatten_their_data() -> None:
    assert json.loads(encode_frame(ErrorFrame(code=ErrorCode.INVALID_JSON, message="m"))) == {
        "type": "error",
        "code": "invalid_json",
        "message": "m",
    }
    interrupt = InterruptFrame(
        thread_id="t", interrupt_id="i", action="cancel_order", description="d", order_id="1042"
    )
    assert json.loads(encode_frame(interrupt))["order_id"] == "1042"
    assert json.loads(encode_frame(TokenFrame(thread_id="t", content="x", agent="a")))["agent"] == "a"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
frame_like = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["message", "interrupt_response", "resume", "shout", ""]) | json_values,
        "thread_id": st.from_regex(r"[A-Za-z0-9._:-]{1,12}", fullmatch=True) | json_values,
        "content": st.text(max_size=30) | json_values,
        "approved": st.booleans() | json_values,
        "interrupt_id": st.text(max_size=10) | json_values,
        "edits": st.dictionaries(st.text(max_size=5), json_values, max_size=3) | json_values,
    },
)


def assert_total(result: Any) -> None:
    if isinstance(result, ProtocolError):
        encode_frame(result.to_frame())  # every refusal can be sent
    else:
        assert isinstance(result, MessageFrame | InterruptResponseFrame | ResumeFrame)


@settings(max_examples=500)
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_arbitrary_text_never_raises(raw: str | bytes) -> None:
    assert_total(parse_client_frame(raw))


@settings(max_examples=1000)
@given(json_values | frame_like)
def test_arbitrary_json_never_raises(value: Any) -> None:
    assert_total(parse_client_frame(json.dumps(value)))
