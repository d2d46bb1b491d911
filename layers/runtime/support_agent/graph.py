"""The support agent's graph: a router, two specialists, and an approval gate before every write action.

```
START -> router --(route_request)--> order_info <-> order_info_tools   (read tools, policies, hand-off)
               \\--(route_request)--> order_actions <-> action (one task per tool call, via Send)
               \\--(answers small talk itself)--> END
```

`action` asks for approval with `interrupt()` before a write tool runs. Tool calls of one model message run
as parallel `action` tasks, so several approvals are pending at once and each is answered by its id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, TypedDict, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, SystemMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.constants import TAG_NOSTREAM
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode
from langgraph.types import Command, Send, interrupt
from pydantic import BaseModel, Field, ValidationError
from pydantic_core import ErrorDetails

from support_agent.help_desk import build_help_tools
from support_agent.orders.model import Action, Order, refusal
from support_agent.orders.store import OrderStore
from support_agent.policies import load_policies
from support_agent.prompts import ORDER_ACTIONS_PROMPT, ORDER_INFO_PROMPT, ROUTER_PROMPT
from support_agent.state import SupportState
from support_agent.tools import EDITABLE_FIELDS, ShopTools, build_tools, customer_id_of, idempotency_key

SPECIALISTS = ("order_info", "order_actions")
_FIELD_LABELS = {"order_id": "order number", "new_address": "new address", "reason": "reason"}
ROUTE_TOOL_NAME = "route_request"
NOT_UNDERSTOOD = (
    "I'm sorry, I didn't understand that. I can check an order's status, track a shipment, list your "
    "orders, cancel an order, request a refund or change a shipping address."
)


class RouteRequest(BaseModel):
    """Hand the customer's request to the specialist that can answer it."""

    specialist: Literal["order_info", "order_actions"] = Field(
        description="order_info: questions about orders (status, tracking, lists). "
        "order_actions: changes (cancel, refund, new shipping address)."
    )


RouteRequest.__name__ = ROUTE_TOOL_NAME


class ActionTask(TypedDict):
    """The input of one `action` task: the tool call it gates."""

    tool_call: ToolCall


def build_support_graph(
    model: BaseChatModel,
    store: OrderStore,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    policies: Mapping[str, str] | None = None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Build the support agent.

    Args:
        model: Any chat model with tool calling (the offline model, Bedrock, ...).
        store: Where orders (and support tickets) live.
        checkpointer: Where threads are saved (needed for approvals to resume).
        policies: The shop's policies by topic (the packaged demo policies by default).

    Returns:
        The compiled graph.
    """
    tools = build_tools(store)
    info_tools = [*tools.read, *build_help_tools(store, load_policies() if policies is None else policies)]
    router_model = model.bind_tools([RouteRequest]).with_config(tags=[TAG_NOSTREAM])
    info_model = model.bind_tools(info_tools)
    actions_model = model.bind_tools(
        [*tools.write, tools.by_name["get_order_status"], tools.by_name["list_orders"]]
    )

    def router(state: SupportState, config: RunnableConfig) -> Command[Any]:
        reply = router_model.invoke([SystemMessage(ROUTER_PROMPT), *state["messages"]], config)
        for call in getattr(reply, "tool_calls", []):
            if call["name"] == ROUTE_TOOL_NAME and call["args"].get("specialist") in SPECIALISTS:
                return Command(goto=call["args"]["specialist"])
        text = reply.text if isinstance(reply, AIMessage) and reply.text else NOT_UNDERSTOOD
        return Command(goto=END, update={"messages": [AIMessage(content=text, name="router")]})

    def order_info(state: SupportState, config: RunnableConfig) -> dict[str, Any]:
        reply = info_model.invoke([SystemMessage(ORDER_INFO_PROMPT), *state["messages"]], config)
        return {"messages": [_named(reply, "order_info")]}

    def order_actions(state: SupportState, config: RunnableConfig) -> dict[str, Any]:
        reply = actions_model.invoke([SystemMessage(ORDER_ACTIONS_PROMPT), *state["messages"]], config)
        return {"messages": [_named(reply, "order_actions")]}

    def after_order_info(state: SupportState) -> Literal["order_info_tools", "__end__"]:
        return "order_info_tools" if _tool_calls(state) else "__end__"

    def after_order_actions(state: SupportState) -> list[Send] | Literal["__end__"]:
        calls = _tool_calls(state)
        return [Send("action", ActionTask(tool_call=call)) for call in calls] if calls else "__end__"

    def action(task: ActionTask, config: RunnableConfig) -> dict[str, Any]:
        return {"messages": [_gated_call(tools, store, task["tool_call"], config)]}

    builder = StateGraph(SupportState)
    builder.add_node("router", router, destinations=(*SPECIALISTS, END))
    builder.add_node("order_info", order_info)
    builder.add_node("order_info_tools", ToolNode(info_tools))
    builder.add_node("order_actions", order_actions)
    # A `Send` payload, not the graph state, is this node's input.
    builder.add_node("action", cast(Any, action), input_schema=ActionTask)
    builder.add_edge(START, "router")
    builder.add_conditional_edges("order_info", after_order_info)
    builder.add_edge("order_info_tools", "order_info")
    builder.add_conditional_edges("order_actions", after_order_actions, ["action", END])
    builder.add_edge("action", "order_actions")
    return builder.compile(checkpointer=checkpointer)


def _named(reply: Any, agent: str) -> Any:
    if isinstance(reply, AIMessage) and not reply.name:
        reply.name = agent
    return reply


def _tool_calls(state: SupportState) -> list[ToolCall]:
    last = state["messages"][-1]
    return list(last.tool_calls) if isinstance(last, AIMessage) else []


def _tool_message(call: ToolCall, data: dict[str, Any]) -> ToolMessage:
    return ToolMessage(
        content=json.dumps(data, ensure_ascii=False), tool_call_id=call["id"] or "", name=call["name"]
    )


def _gated_call(tools: ShopTools, store: OrderStore, call: ToolCall, config: RunnableConfig) -> ToolMessage:
    """Run one tool call; a write action runs only after the customer approves it."""
    tool = tools.by_name.get(call["name"])
    if tool is None:
        return _tool_message(call, {"ok": False, "message": f"There is no tool called {call['name']}."})
    if call["name"] not in EDITABLE_FIELDS:
        return _invoke(tool, call, config)
    action = Action(call["name"])
    args = _validated(tool, call["args"])
    if isinstance(args, str):
        return _tool_message(call, {"ok": False, "action": action.value, "message": args})
    customer = customer_id_of(config)
    order = store.get(customer, args["order_id"]) if customer else None
    if order is None:
        # Unknown or someone else's: the tool says so in the same words, without asking for approval.
        return _invoke(tool, {**call, "args": args}, config)
    if idempotency_key(config, call["id"] or "") in order.applied_actions:
        # This very call already ran (a retried worker replays it): report it, never ask twice.
        return _invoke(tool, {**call, "args": args}, config)
    reason = refusal(action, order)
    if reason is not None:
        return _tool_message(
            call, {"ok": False, "action": action.value, "order_id": order.order_id, "message": reason}
        )
    request = {
        "action": action.value,
        **args,
        "description": describe(action, args, order),
        "editable": list(EDITABLE_FIELDS[action]),
    }
    while True:
        approved, edits = _decode_answer(interrupt(request))
        if not approved:
            return _tool_message(
                call,
                {
                    "ok": False,
                    "declined": True,
                    "action": action.value,
                    "order_id": order.order_id,
                    "message": "The customer declined; nothing was changed.",
                },
            )
        if not edits:
            return _invoke(tool, {**call, "args": args}, config)
        edited = _edited(tool, action, args, edits)
        if isinstance(edited, dict):
            return _invoke(tool, {**call, "args": edited}, config)
        # The same approval again, saying what was wrong with the edit: nothing is lost, nothing runs.
        request = {**request, "problem": edited}


def _edited(
    tool: BaseTool, action: Action, args: dict[str, Any], edits: dict[str, Any]
) -> dict[str, Any] | str:
    """The arguments with the customer's edits applied, or what is wrong with the edits, in plain words."""
    editable = EDITABLE_FIELDS[action]
    not_editable = [name for name in edits if name not in editable]
    if not_editable:
        can = f" You can change the {' and the '.join(map(field_label, editable))}." if editable else ""
        cannot = " and the ".join(map(field_label, not_editable))
        return f"The {cannot} can't be changed here.{can}"
    cleaned = {name: value.strip() if isinstance(value, str) else value for name, value in edits.items()}
    return _validated(tool, {**args, **cleaned})


def describe(action: Action, args: dict[str, Any], order: Order) -> str:
    """The approval question shown to the customer."""
    items = ", ".join(item.name for item in order.items)
    oid = order.order_id
    if action is Action.CANCEL_ORDER:
        return f"Cancel order {oid} ({items}, total {order.total})?"
    if action is Action.REQUEST_REFUND:
        return f"Request a refund of {order.total} for order {oid} ({items})?"
    if action is Action.REPORT_MISSING_PARCEL:
        delivered = f", marked delivered {order.delivered_at}" if order.delivered_at else ""
        return f"Open a missing-parcel claim for order {oid} ({items}{delivered})?"
    return (
        f"Change the shipping address of order {oid} from {order.shipping_address} to {args['new_address']}?"
    )


def _decode_answer(answer: Any) -> tuple[bool, dict[str, Any] | None]:
    if isinstance(answer, dict):
        edits = answer.get("edits")
        return answer.get("approved") is True, edits if isinstance(edits, dict) else None
    return answer is True, None


def _validated(tool: BaseTool, args: Any) -> dict[str, Any] | str:
    """The arguments re-validated against the tool's schema, or what is wrong with them, in plain words."""
    schema = tool.tool_call_schema
    if not isinstance(schema, type) or not issubclass(schema, BaseModel):
        return dict(args) if isinstance(args, dict) else "Those details are not complete."
    try:
        return schema.model_validate(args).model_dump()
    except ValidationError as error:
        return " ".join(dict.fromkeys(_problem(error) for error in error.errors()))


def field_label(name: str) -> str:
    """How a tool argument is called when talking to the customer."""
    return _FIELD_LABELS.get(name, name.replace("_", " "))


def _problem(error: ErrorDetails) -> str:
    """One validation error as a sentence for the customer (never the validation library's wording)."""
    name = str(error["loc"][0]) if error["loc"] else ""
    label = field_label(name)
    kind = error["type"]
    limit = error.get("ctx", {}).get("max_length")
    if kind == "missing":
        return f"The {label} is missing."
    if kind == "string_too_short":
        if name == "new_address":
            return "That address is too short: please give the full address, with street, town and postcode."
        return f"The {label} is too short."
    if kind == "string_too_long" and limit:
        return f"The {label} is too long: please keep it under {limit} characters."
    return f"The {label} doesn't look right: please check it."


def _invoke(tool: BaseTool, call: ToolCall, config: RunnableConfig) -> ToolMessage:
    result = tool.invoke({**call, "type": "tool_call"}, config)
    assert isinstance(result, ToolMessage)
    return result
