"""The AG-UI codec alone: RunAgentInput in, our frames out as events AG-UI's client accepts."""

from __future__ import annotations

import json
from typing import Any

from chat_runtime.agui import (
    AguiCodec,
    OwnCodec,
    choose_codec,
    codec_for,
    requested_protocol,
    subprotocols_in,
)
from chat_runtime.agui.snapshots import agui_message
from chat_runtime.protocol import (
    ErrorCode,
    ErrorFrame,
    InterruptFrame,
    InterruptResponseFrame,
    MessageCompleteFrame,
    MessageFrame,
    ProtocolError,
    ResumedFrame,
    ResumeFrame,
    ServerFrame,
    StateFrame,
    TokenFrame,
    ToolCallFrame,
    ToolResultFrame,
    UpdateFrame,
)
from tests.support.agui_rules import agui_violations

THREAD = "t1"


def run_input(run_id: str = "run-1", content: str = "Cancel order 1043", **extra: Any) -> str:
    message = {"id": f"m-{run_id}", "role": "user", "content": content}
    data = {
        "threadId": THREAD,
        "runId": run_id,
        "messages": [message],
        "state": {},
        "tools": [],
        "context": [],
        "forwardedProps": {},
        **extra,
    }
    return json.dumps(data)


def events(codec: AguiCodec, frames: list[ServerFrame]) -> list[dict[str, Any]]:
    return [json.loads(text) for frame in frames for text in codec.encode(frame)]


def approval(seq: int | None = 2) -> InterruptFrame:
    return InterruptFrame(
        seq=seq,
        thread_id=THREAD,
        interrupt_id="i1",
        action="update_shipping_address",
        description="Change the address?",
        order_id="1046",
        new_address="12 Oak Street, Springfield",
        editable=["new_address"],
    )


STATE = StateFrame(
    thread_id=THREAD,
    state="awaiting_approval",
    messages=[
        {"id": "h1", "role": "user", "content": "Change the address"},
        {
            "id": "a1",
            "role": "assistant",
            "content": "",
            "name": "order_actions",
            "tool_calls": [{"id": "c1", "name": "update_shipping_address", "args": {"order_id": "1046"}}],
        },
    ],
    values={"customer": "demo"},
    interrupts=[approval(None)],
)


def test_a_run_that_ends_in_an_approval_carries_the_client_run_id_snapshots_and_the_interrupt() -> None:
    codec = AguiCodec()
    decoded = codec.decode(run_input())
    assert isinstance(decoded, MessageFrame) and decoded.content == "Cancel order 1043"
    assert set(decoded.stream) == {"tool_results", "updates"}
    call = ToolCallFrame(
        seq=1,
        thread_id=THREAD,
        tool="update_shipping_address",
        args={"order_id": "1046"},
        agent="order_actions",
    )
    stream = events(codec, [call.model_copy(update={"call_id": "c1"}), approval()])
    assert codec.wants_state(THREAD)
    stream += [json.loads(text) for text in codec.end_turn(THREAD, STATE)]
    assert agui_violations(stream) == []
    assert [e["type"] for e in stream] == [
        "RUN_STARTED",
        "STEP_STARTED",
        "TOOL_CALL_START",
        "TOOL_CALL_ARGS",
        "TOOL_CALL_END",
        "STEP_FINISHED",
        "STATE_SNAPSHOT",
        "MESSAGES_SNAPSHOT",
        "CUSTOM",
        "RUN_FINISHED",
    ]
    assert stream[0]["runId"] == stream[-1]["runId"] == "run-1"
    [interrupt] = stream[-1]["outcome"]["interrupts"]
    assert interrupt["reason"] == "approval:update_shipping_address"
    assert interrupt["toolCallId"] == "c1"  # the call the approval gates
    edits = interrupt["responseSchema"]["properties"]["edits"]["properties"]
    assert edits == {"new_address": {"type": "string"}}  # only the editable field, not order_id
    assert stream[6]["snapshot"] == {"customer": "demo"}
    assert [m["role"] for m in stream[7]["messages"]] == ["user", "assistant"]
    assert stream[7]["messages"][1]["toolCalls"][0]["function"]["name"] == "update_shipping_address"
    assert not codec.wants_state(THREAD) and codec.end_turn(THREAD) == []


def test_steps_follow_the_root_graph_nodes_and_close_before_the_run_finishes() -> None:
    codec = AguiCodec()
    codec.decode(run_input(content="Where is order 1042?"))
    frames: list[ServerFrame] = [
        TokenFrame(seq=1, thread_id=THREAD, content="Let me look. ", agent="router"),
        UpdateFrame(seq=2, thread_id=THREAD, node="router", value={}),
        ToolCallFrame(seq=3, thread_id=THREAD, tool="get_order", args={}, agent="order_info", call_id="c9"),
        TokenFrame(seq=4, thread_id=THREAD, content="inner ", agent="lookup", namespace=["order_info"]),
        UpdateFrame(seq=5, thread_id=THREAD, node="lookup", namespace=["order_info"]),
        ToolResultFrame(seq=6, thread_id=THREAD, tool="get_order", call_id="c9", content="{}", agent="tools"),
        TokenFrame(seq=7, thread_id=THREAD, content="It shipped.", agent="order_info"),
        MessageCompleteFrame(seq=8, thread_id=THREAD),
    ]
    stream = events(codec, frames)
    assert agui_violations(stream) == []
    steps = [(e["type"], e["stepName"]) for e in stream if e["type"].startswith("STEP")]
    assert steps == [
        ("STEP_STARTED", "router"),
        ("STEP_FINISHED", "router"),
        ("STEP_STARTED", "order_info"),  # the subgraph's node stays inside its parent's step
        ("STEP_FINISHED", "order_info"),
        ("STEP_STARTED", "tools"),
        ("STEP_FINISHED", "tools"),
        ("STEP_STARTED", "order_info"),
        ("STEP_FINISHED", "order_info"),
    ]
    assert stream[-1] == {
        "type": "RUN_FINISHED",
        "threadId": THREAD,
        "runId": "run-1",
        "outcome": {"type": "success"},
    }


def test_several_runs_on_one_socket_each_start_and_finish_with_their_own_run_id() -> None:
    codec = AguiCodec()
    stream: list[dict[str, Any]] = []
    for n, seq in ((1, 1), (2, 3)):
        codec.decode(run_input(f"run-{n}", content=f"question {n}"))
        stream += events(
            codec,
            [
                TokenFrame(seq=seq, thread_id=THREAD, content=f"answer {n}", agent="order_info"),
                MessageCompleteFrame(seq=seq + 1, thread_id=THREAD),
            ],
        )
    assert agui_violations(stream) == []
    assert [(e["type"], e.get("runId")) for e in stream if e["type"].startswith("RUN")] == [
        ("RUN_STARTED", "run-1"),
        ("RUN_FINISHED", "run-1"),
        ("RUN_STARTED", "run-2"),
        ("RUN_FINISHED", "run-2"),
    ]
    message_ids = {e["messageId"] for e in stream if e["type"] == "TEXT_MESSAGE_START"}
    assert message_ids == {"run-1-msg-1", "run-2-msg-1"}


def test_refusals_are_run_errors_with_our_codes_and_never_a_started_run_left_open() -> None:
    codec = AguiCodec()
    refused = codec.decode(
        run_input(tools=[{"name": "x", "description": "a frontend tool", "parameters": {}}])
    )
    assert isinstance(refused, ProtocolError) and refused.code is ErrorCode.INVALID_FIELD
    stream = events(codec, [refused.to_frame()])
    assert [e["type"] for e in stream] == ["RUN_STARTED", "RUN_ERROR"]
    assert stream[0]["runId"] == "run-1" and stream[1]["code"] == "invalid_field"
    garbled = codec.decode("{not json")
    assert isinstance(garbled, ProtocolError)
    assert events(codec, [garbled.to_frame()]) == [
        {"type": "RUN_ERROR", "message": garbled.message, "code": "invalid_json"}
    ]
    no_text = codec.decode(run_input(messages=[{"id": "a", "role": "assistant", "content": "hi"}]))
    assert isinstance(no_text, ProtocolError) and no_text.code is ErrorCode.EMPTY_CONTENT
    assert agui_violations(stream) == []


def test_an_error_mid_run_closes_the_open_message_and_nothing_follows_it() -> None:
    codec = AguiCodec()
    codec.decode(run_input())
    stream = events(
        codec,
        [
            TokenFrame(seq=1, thread_id=THREAD, content="Sure", agent="order_actions"),
            ErrorFrame(seq=2, thread_id=THREAD, code=ErrorCode.AGENT_ERROR, message="Sorry."),
        ],
    )
    assert [e["type"] for e in stream][-3:] == ["TEXT_MESSAGE_END", "STEP_FINISHED", "RUN_ERROR"]
    assert stream[-1]["code"] == "agent_error" and agui_violations(stream) == []


def test_a_cancelled_turn_finishes_cancelled_with_its_message_closed() -> None:
    codec = AguiCodec()
    codec.decode(run_input())
    stream = events(
        codec,
        [
            TokenFrame(seq=1, thread_id=THREAD, content="word1 ", agent="write"),
            MessageCompleteFrame(seq=2, thread_id=THREAD, status="cancelled"),
        ],
    )
    assert [e["type"] for e in stream][-3:] == ["TEXT_MESSAGE_END", "STEP_FINISHED", "RUN_FINISHED"]
    assert stream[-1]["outcome"] == {"type": "cancelled"} and agui_violations(stream) == []


def test_resume_answers_map_to_our_answers() -> None:
    codec = AguiCodec()
    resume = [
        {
            "interruptId": "i1",
            "status": "resolved",
            "payload": {"approved": True, "edits": {"new_address": "x"}},
        },
        {"interruptId": "i2", "status": "resolved", "payload": "window"},
        {"interruptId": "i3", "status": "cancelled"},
    ]
    decoded = codec.decode(run_input("run-2", resume=resume))
    assert isinstance(decoded, InterruptResponseFrame) and decoded.answers is not None
    answers = [a.model_dump(exclude_defaults=True) for a in decoded.answers]
    assert answers == [
        {"interrupt_id": "i1", "approved": True, "edits": {"new_address": "x"}},
        {"interrupt_id": "i2", "value": "window"},
        {"interrupt_id": "i3", "cancelled": True},
    ]
    assert codec.queued_run(THREAD) == "run-2"


def test_a_replay_is_a_whole_run_whose_ids_any_transport_derives_alike() -> None:
    """A resume replays the latest run from its start (AG-UI events carry no seq); a codec primed with what
    a replay held goes on exactly as the codec that sent the replay (the AWS worker's follower)."""
    resume = AguiCodec().decode(json.dumps({"type": "resume", "thread_id": THREAD, "after_seq": 7}))
    assert isinstance(resume, ResumeFrame) and resume.after_seq == 0
    frames: list[ServerFrame] = [
        TokenFrame(seq=5, thread_id=THREAD, content="Order ", agent="order_info"),
        TokenFrame(seq=6, thread_id=THREAD, content="1042 ", agent="order_info"),
        ToolCallFrame(seq=7, thread_id=THREAD, tool="t", args={}, agent="order_info", call_id="c1"),
        TokenFrame(seq=8, thread_id=THREAD, content="shipped.", agent="order_info"),
        MessageCompleteFrame(seq=9, thread_id=THREAD),
    ]
    replayer = AguiCodec()
    replayed = events(replayer, frames[:2])
    live_rest = events(replayer, frames[2:])
    follower = AguiCodec()
    follower.prime(frames[:2])
    assert events(follower, frames[2:]) == live_rest
    assert replayed[0] == {"type": "RUN_STARTED", "threadId": THREAD, "runId": f"{THREAD}-run-5"}
    assert agui_violations(replayed + live_rest) == []


def test_a_replay_of_a_pending_approval_ends_its_run_with_the_interrupt() -> None:
    codec = AguiCodec()
    stream = events(codec, [approval(None), ResumedFrame(thread_id=THREAD, state="awaiting_approval")])
    assert [e["type"] for e in stream] == ["RUN_STARTED", "CUSTOM", "RUN_FINISHED"]
    assert stream[-1]["outcome"]["interrupts"][0]["id"] == "i1"


def test_get_state_is_a_run_of_snapshots_that_finishes_as_the_thread_stands() -> None:
    codec = AguiCodec()
    pending = events(codec, [STATE])
    assert [e["type"] for e in pending] == [
        "RUN_STARTED",
        "STATE_SNAPSHOT",
        "MESSAGES_SNAPSHOT",
        "CUSTOM",
        "RUN_FINISHED",
    ]
    assert pending[-1]["outcome"]["type"] == "interrupt"
    idle = events(codec, [STATE.model_copy(update={"state": "idle", "interrupts": []})])
    assert idle[-1]["outcome"] == {"type": "success"}
    assert agui_violations(pending + idle) == []


def test_an_input_interrupt_keeps_its_value_and_its_own_ag_ui_fields() -> None:
    codec = AguiCodec()
    codec.decode(run_input())
    schema = {"type": "string", "enum": ["window", "aisle"]}
    asked = InterruptFrame(
        seq=1,
        thread_id=THREAD,
        interrupt_id="i9",
        kind="input",
        question="Window or aisle?",
        value={"question": "Window or aisle?", "reason": "seat", "response_schema": schema},
    )
    events(codec, [asked])
    [legacy, finished] = [json.loads(text) for text in codec.end_turn(THREAD)]
    assert legacy["name"] == "on_interrupt" and json.loads(legacy["value"])["reason"] == "seat"
    [interrupt] = finished["outcome"]["interrupts"]
    assert (interrupt["reason"], interrupt["message"], interrupt["responseSchema"]) == (
        "seat",
        "Window or aisle?",
        schema,
    )


def test_snapshot_messages_take_ag_ui_shapes() -> None:
    assert agui_message({"id": "t1", "role": "tool", "content": "{}", "tool_call_id": "c1"}) == {
        "id": "t1",
        "role": "tool",
        "content": "{}",
        "toolCallId": "c1",
    }
    assert agui_message({"role": "user", "content": "no id"}) is None
    assert agui_message({"id": "x", "role": "function", "content": ""}) is None


def test_the_protocol_is_chosen_by_subprotocol_or_query_and_ours_stays_the_default() -> None:
    assert subprotocols_in("ag-ui, other") == ["ag-ui", "other"] and subprotocols_in(None) == []
    assert requested_protocol(["ag-ui"], {}) == requested_protocol([], {"protocol": "ag-ui"}) == "ag-ui"
    assert requested_protocol(["graphql-ws"], {"protocol": "x"}) is None
    assert isinstance(codec_for(None), OwnCodec) and isinstance(codec_for("ag-ui"), AguiCodec)
    assert choose_codec(["ag-ui"], {}).subprotocol == "ag-ui"
    assert choose_codec([], {"protocol": "ag-ui"}).subprotocol is None
    own = OwnCodec()
    assert not own.wants_state(THREAD) and own.end_turn(THREAD, STATE) == []
