"""The offline chat model: deterministic, no network, real token streaming and real tool calls.

It plays whichever role its bound tools give it (the router, `order_info`, `order_actions`), understands the
shop's common English requests, and words its answers from the tool results in the conversation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, ToolCall, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool

from support_agent.models import choices, replies
from support_agent.models.advice import advise
from support_agent.models.streaming import ReplyingChatModel, stream_reply
from support_agent.models.understanding import (
    READ_INTENTS,
    WRITE_INTENTS,
    Intent,
    Request,
    advice_intent,
    conversation_summary,
    current_turn,
    describes_an_order,
    earlier_human_text,
    last_human_text,
    looks_like_address,
    order_under_discussion,
    policy_topics,
    previous_agent_question,
    read_request,
    refund_reason,
    resolve_order,
)

_ACTION_TOOLS = {
    Intent.CANCEL: "cancel_order",
    Intent.REFUND: "request_refund",
    Intent.CHANGE_ADDRESS: "update_shipping_address",
    Intent.MISSING_PARCEL: "report_missing_parcel",
}
_ASK_ORDER = {
    Intent.CANCEL: "Which order would you like to cancel? Please give me the order number.",
    Intent.REFUND: "Which order would you like a refund for? Please give me the order number.",
    Intent.CHANGE_ADDRESS: "Which order's shipping address should I change? Please give me the order number.",
    Intent.MISSING_PARCEL: "Which order never arrived? Please give me the order number.",
}
_ASK_WHICH = "Which order do you mean? Please give me the order number."
_UNSURE = "I'm not sure I understood. Did you mean one of these? I can also put you in touch with a person."


class OfflineSupportModel(ReplyingChatModel):
    """A rule-based support model for local use and tests; swap in any tool-calling model for production."""

    bound_tools: tuple[str, ...] = ()

    @property
    def _llm_type(self) -> str:
        return "offline-support"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"bound_tools": self.bound_tools}

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        """A copy of the model that knows the tools' names; its role follows from them."""
        names = tuple(convert_to_openai_tool(tool)["function"]["name"] for tool in tools)
        return self.model_copy(update={"bound_tools": names})

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self.reply(messages)
        choices.publish(choices.take(reply))
        return ChatResult(generations=[ChatGeneration(message=reply)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        reply = self.reply(messages)
        offered = choices.take(reply)
        yield from stream_reply(reply, self.args_piece)
        choices.publish(offered)  # after the text, so the choices follow the message they belong to

    def reply(self, messages: Sequence[BaseMessage]) -> AIMessage:
        """The whole reply to `messages`, in the role the bound tools give the model.

        Quick replies to offer ride on the reply (see `choices.attach`) until it has streamed.
        """
        if "route_request" in self.bound_tools:
            return self._route(messages)
        if "cancel_order" in self.bound_tools:
            return self._act(messages)
        if "get_order_status" in self.bound_tools:
            return self._inform(messages)
        return AIMessage(content=replies.NOT_UNDERSTOOD)

    def _route(self, messages: Sequence[BaseMessage]) -> AIMessage:
        request = read_request(last_human_text(messages))
        intent = request.main_intent
        asked = previous_agent_question(messages)
        if intent in WRITE_INTENTS or (
            intent is None and asked is not None and asked.name == "order_actions"
        ):
            return _call("route_request", {"specialist": "order_actions"}, messages)
        if intent in READ_INTENTS or request.order_ids or (asked is not None and asked.name == "order_info"):
            return _call("route_request", {"specialist": "order_info"}, messages)
        if intent is Intent.GREETING:
            return AIMessage(content=replies.GREETING)
        if intent is Intent.THANKS:
            return AIMessage(content=replies.THANKS)
        if intent is Intent.HELP:
            return choices.attach(AIMessage(content=replies.HELP), choices.for_intents(choices.EVERYDAY))
        text = _UNSURE if request.confidence >= choices.CLOSE else replies.NOT_UNDERSTOOD
        return choices.attach(
            AIMessage(content=text), choices.for_intents(choices.offered(request), request.order_ids)
        )

    def _inform(self, messages: Sequence[BaseMessage]) -> AIMessage:
        results = _results(messages)
        text = last_human_text(messages)
        request = read_request(text)
        listed = _listed(results)
        advised = advice_intent(request)
        if advised is not None:
            advice = advise(advised, request, text, messages, results, listed)
            return advice if isinstance(advice, AIMessage) else _calls(advice, messages)
        if results and (listed is None or Intent.LIST in request.intents):
            price = request.main_intent is Intent.PRICE
            # A list shown to find the order meant is not part of the answer.
            shown = [(t, r) for t, r in results if t != "list_orders" or Intent.LIST in request.intents]
            reply = AIMessage(
                content=" ".join(replies.answer_lookup(tool, result, price) for tool, result in shown)
            )
            return choices.attach(reply, choices.for_late_orders(result for _, result in shown))
        if request.main_intent is Intent.HUMAN:
            discussed = order_under_discussion(messages)
            order = {"order_id": discussed} if discussed else {}
            return _call("hand_off_to_human", {"summary": conversation_summary(messages), **order}, messages)
        if request.main_intent is Intent.POLICY:
            return _calls([("get_policy", {"topic": topic}) for topic in policy_topics(text)], messages)
        if Intent.LIST in request.intents:
            return _call("list_orders", {}, messages)
        target = _target_orders(request, text, messages, listed, _ASK_WHICH)
        if isinstance(target, AIMessage):
            return target
        tool = "track_shipment" if request.main_intent is Intent.TRACK else "get_order_status"
        return _calls([(tool, {"order_id": order_id}) for order_id in target], messages)

    def _act(self, messages: Sequence[BaseMessage]) -> AIMessage:
        results = _results(messages)
        listed = _listed(results)
        if results and listed is None:
            # The orders listed to find the one meant are not part of the answer.
            answers = [(tool, result) for tool, result in results if tool != "list_orders"]
            return AIMessage(
                content=" ".join(replies.answer_action(tool, result) for tool, result in answers)
            )
        text = last_human_text(messages)
        request = read_request(text)
        intent = next((i for i in request.intents if i in WRITE_INTENTS), None)
        asked = previous_agent_question(messages)
        if intent is None and asked is not None:
            # The customer answers the question the agent asked last turn: what they asked before it
            # (the action, the new address) still holds.
            intent = _intent_of(asked.text)
            before = read_request(earlier_human_text(messages))
            order_ids = request.order_ids or read_request(asked.text.splitlines()[-1]).order_ids
            address = text.strip() if looks_like_address(text) else before.new_address
            request = Request(request.intents, order_ids, address)
        if intent is None:
            return AIMessage(content=replies.NOT_UNDERSTOOD)
        if intent is Intent.MISSING_PARCEL and listed:
            # A parcel that never arrived is one marked delivered.
            listed = [order for order in listed if order.get("status") == "delivered"] or listed
        target = _target_orders(request, text, messages, listed, _ASK_ORDER[intent])
        if isinstance(target, AIMessage):
            return target
        order_ids = target
        if intent is Intent.CHANGE_ADDRESS:
            if not request.new_address:
                return AIMessage(content=f"What should the new shipping address for order {order_ids[0]} be?")
            return _call(
                "update_shipping_address",
                {"order_id": order_ids[0], "new_address": request.new_address},
                messages,
            )
        args: dict[str, Any] = {}
        if intent is Intent.REFUND:
            args = {"reason": refund_reason(text) or refund_reason(earlier_human_text(messages))}
        elif intent is Intent.MISSING_PARCEL:
            args = {"details": " ".join(text.split())[:300]}
        return _calls([(_ACTION_TOOLS[intent], {"order_id": oid, **args}) for oid in order_ids], messages)


def _target_orders(
    request: Request,
    text: str,
    messages: Sequence[BaseMessage],
    listed: list[dict[str, Any]] | None,
    question: str,
) -> tuple[str, ...] | AIMessage:
    """The orders the customer means, from order data: never digits that merely appear in the text.

    A number the customer typed is an order number; "it" is the order the conversation is about; "the yoga
    mat order" or "my last order" is resolved against the customer's orders, listed first with a tool call.
    """
    if request.order_ids:
        return request.order_ids
    discussed = order_under_discussion(messages)
    if listed is None:
        if discussed and not describes_an_order(text):
            return (discussed,)
        return _call("list_orders", {}, messages)
    resolved = resolve_order(text, listed) or discussed
    if resolved is None and len(listed) == 1:
        resolved = str(listed[0]["order_id"])
    if resolved is not None:
        return (resolved,)
    if not listed:
        return AIMessage(content="I couldn't find any orders on your account.")
    reply = AIMessage(content=f"{replies.describe_orders(listed)}\n{question}")
    return choices.attach(reply, choices.for_orders(listed))


def _listed(results: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]] | None:
    """The customer's orders when this turn's only tool result is a `list_orders` one."""
    if len(results) == 1 and results[0][0] == "list_orders" and "orders" in results[0][1]:
        orders: list[dict[str, Any]] = results[0][1]["orders"]
        return orders
    return None


def _intent_of(question: str) -> Intent | None:
    lowered = question.splitlines()[-1].lower()  # the question itself, after any list of orders
    for intent, word in (
        (Intent.MISSING_PARCEL, "never arrived"),
        (Intent.CANCEL, "cancel"),
        (Intent.REFUND, "refund"),
        (Intent.CHANGE_ADDRESS, "address"),
    ):
        if word in lowered:
            return intent
    return None


def _results(messages: Sequence[BaseMessage]) -> list[tuple[str, dict[str, Any]]]:
    """This turn's tool results, in call order."""
    return [
        (m.name or "", replies.parse_result(m.text))
        for m in current_turn(messages)
        if isinstance(m, ToolMessage)
    ]


def _call(name: str, args: dict[str, Any], messages: Sequence[BaseMessage]) -> AIMessage:
    return _calls([(name, args)], messages)


def _calls(calls: list[tuple[str, dict[str, Any]]], messages: Sequence[BaseMessage]) -> AIMessage:
    """Tool calls with ids that are unique per thread and stable for the same conversation."""
    seed = hashlib.sha256("|".join(f"{m.type}:{m.text}" for m in messages).encode()).hexdigest()[:12]
    tool_calls = [
        ToolCall(name=name, args=args, id=f"call_{seed}_{index}", type="tool_call")
        for index, (name, args) in enumerate(calls)
    ]
    return AIMessage(content="", tool_calls=tool_calls)
