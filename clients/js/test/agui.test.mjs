// AG-UI through @ag-ui/client's own pipeline (runAgent: its verifier and event application) against real servers.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { EventType } from "@ag-ui/client";
import { WebSocketAgent } from "../dist/index.js";
import { FEATURES, SERVERS, record, startServer } from "./servers.mjs";

/** Run the agent once through runAgent, keeping every event it saw. */
async function runOnce(agent, name, params = {}, onEvent = () => {}) {
  const events = [];
  const result = await agent.runAgent(params, {
    onEvent: ({ event }) => {
      events.push(event);
      onEvent(event, agent);
    },
  });
  record(name, events);
  return { events, result, finished: events.at(-1) };
}

function userMessage(agent, content) {
  agent.addMessage({ id: `u-${Date.now()}-${Math.random()}`, role: "user", content });
}

for (const module of SERVERS) {
const path = module === "local_server" ? "local" : "aws";
const run = (agent, name, params, onEvent) => runOnce(agent, `${path}-${name}`, params, onEvent);

describe(`the demo agent (python -m ${module})`, () => {
  let server;
  before(async () => (server = await startServer(module)));
  after(async () => server.stop());

  test("an approval: the run ends in an interrupt, resume approves it, the action runs", async () => {
    const agent = new WebSocketAgent({ url: server.url, threadId: `agui-approve-${Date.now()}` });
    userMessage(agent, "Cancel order 1043");
    const first = await run(agent, "approval-1");
    assert.equal(first.events[0].type, EventType.RUN_STARTED);
    assert.equal(first.finished.type, EventType.RUN_FINISHED);
    assert.equal(first.finished.outcome.type, "interrupt");
    const [interrupt] = first.finished.outcome.interrupts;
    assert.match(interrupt.reason, /^approval:/);
    assert.equal(interrupt.responseSchema.properties.approved.type, "boolean");
    assert.ok(first.events.some((e) => e.type === EventType.CUSTOM && e.name === "on_interrupt"));
    const types = first.events.map((e) => e.type);
    // The thread's state comes before the run ends in its interrupt, and each graph node is a step.
    assert.deepEqual(types.slice(-4, -1), [EventType.STATE_SNAPSHOT, EventType.MESSAGES_SNAPSHOT, EventType.CUSTOM]);
    assert.ok(types.includes(EventType.STEP_STARTED) && types.includes(EventType.STEP_FINISHED));
    assert.equal(interrupt.toolCallId, first.events.find((e) => e.toolCallName === "cancel_order").toolCallId);
    assert.ok(agent.messages.some((m) => m.role === "user" && m.content === "Cancel order 1043"));
    const second = await run(agent, "approval-2", {
      resume: [{ interruptId: interrupt.id, status: "resolved", payload: { approved: true } }],
    });
    assert.deepEqual(second.finished.outcome, { type: "success" });
    const text = agent.messages.filter((m) => m.role === "assistant").map((m) => m.content ?? "").join(" ");
    assert.match(text, /cancel/i);
    agent.close();
  });

  test("a rejection: the action does not run", async () => {
    const agent = new WebSocketAgent({ url: server.url, threadId: `agui-reject-${Date.now()}` });
    userMessage(agent, "Cancel order 1046");
    const first = await run(agent, "rejection-1");
    const [interrupt] = first.finished.outcome.interrupts;
    const second = await run(agent, "rejection-2", {
      resume: [{ interruptId: interrupt.id, status: "resolved", payload: { approved: false } }],
    });
    assert.deepEqual(second.finished.outcome, { type: "success" });
    assert.ok(!second.events.some((e) => e.type === EventType.RUN_ERROR));
    agent.close();
  });

  test("bad input gets RUN_ERROR with our code, and the socket stays open", async () => {
    const agent = new WebSocketAgent({ url: server.url, threadId: `agui-bad-${Date.now()}` });
    userMessage(agent, "hello");
    const { events } = await run(agent, "refused-tools", {
      tools: [{ name: "x", description: "a frontend tool", parameters: {} }],
    });
    assert.deepEqual(events.map((e) => e.type), [EventType.RUN_STARTED, EventType.RUN_ERROR]);
    assert.equal(events[1].code, "invalid_field");
    const again = await run(agent, "after-refusal");
    assert.deepEqual(again.finished.outcome, { type: "success" });
    agent.close();
  });
});

describe(`a free-text question (GRAPH=question, ${module})`, () => {
  let server;
  before(async () => (server = await startServer(module, { LANGGRAPH_CONFIG: FEATURES, GRAPH: "question" })));
  after(async () => server.stop());

  test("the question comes as an input interrupt, and the answer reaches the graph", async () => {
    const agent = new WebSocketAgent({ url: server.url, threadId: `agui-question-${Date.now()}` });
    userMessage(agent, "hi");
    const first = await run(agent, "question-1");
    const [interrupt] = first.finished.outcome.interrupts;
    assert.equal(interrupt.reason, "input");
    assert.equal(interrupt.message, "What is your name?");
    const second = await run(agent, "question-2", {
      resume: [{ interruptId: interrupt.id, status: "resolved", payload: "Ada" }],
    });
    assert.deepEqual(second.finished.outcome, { type: "success" });
    assert.ok(agent.messages.some((m) => m.role === "assistant" && String(m.content).includes("Ada")));
    agent.close();
  });
});

describe(`a cancel (GRAPH=essay, ${module})`, () => {
  let server;
  before(async () => (server = await startServer(module, { LANGGRAPH_CONFIG: FEATURES, GRAPH: "essay" })));
  after(async () => server.stop());

  test("abortRun stops the turn: RUN_FINISHED with outcome cancelled, the open message closed first", async () => {
    const agent = new WebSocketAgent({ url: server.url, threadId: `agui-cancel-${Date.now()}` });
    userMessage(agent, "write an essay");
    let aborted = false;
    const { events, finished } = await run(agent, "cancel", {}, (event, a) => {
      if (!aborted && event.type === EventType.TEXT_MESSAGE_CONTENT) {
        aborted = true;
        a.abortRun();
      }
    });
    assert.ok(aborted);
    assert.deepEqual(finished.outcome, { type: "cancelled" });
    // The open message and the node's step are closed before the run ends.
    assert.deepEqual(events.slice(-3, -1).map((e) => e.type), [EventType.TEXT_MESSAGE_END, EventType.STEP_FINISHED]);
    agent.close();
  });
});
}
