// WebSocketAgent after its socket closed under it: the next run opens a new one.
import assert from "node:assert/strict";
import { test } from "node:test";
import { EventType } from "@ag-ui/client";
import { WebSocketAgent } from "../dist/index.js";
import { startServer } from "./servers.mjs";

test("a run after the server restarted opens a new connection", async () => {
  let server = await startServer();
  const port = Number(new URL(server.url).port);
  const agent = new WebSocketAgent({ url: server.url, threadId: `agui-reconnect-${Date.now()}` });
  agent.addMessage({ id: "u1", role: "user", content: "What is the status of order 1042?" });
  await agent.runAgent();
  await server.stop();
  server = await startServer("local_server", {}, port);
  try {
    agent.addMessage({ id: "u2", role: "user", content: "What is the status of order 1043?" });
    const events = [];
    const run = agent.runAgent({}, { onEvent: ({ event }) => events.push(event) });
    const outcome = await Promise.race([run, new Promise((r) => setTimeout(() => r("no answer in 15 s"), 15000))]);
    assert.notEqual(outcome, "no answer in 15 s");
    assert.equal(events.at(-1).type, EventType.RUN_FINISHED);
    assert.ok(agent.messages.some((m) => m.role === "assistant" && String(m.content).includes("1043")));
  } finally {
    agent.close();
    await server.stop();
  }
});
