// Our own protocol's ChatClient through whole conversations, against a real `python -m local_server` and
// `python -m local_server.emulator`: an approval, a rejection, a free-text question, a cancel.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ChatClient } from "../dist/index.js";
import { FEATURES, SERVERS, startServer } from "./servers.mjs";

const said = (frames) => frames.filter((f) => f.type === "token").map((f) => f.content).join("");

async function connected(server) {
  const client = new ChatClient(server.plainUrl, server.token);
  await client.connect();
  return client;
}

for (const module of SERVERS) {
describe(`ChatClient with the demo agent (python -m ${module})`, () => {
  let server;
  before(async () => (server = await startServer(module)));
  after(async () => server.stop());

  test("an approval: the turn ends in an approval interrupt, approving it runs the action once", async () => {
    const thread = `own-approve-${Date.now()}`;
    const client = await connected(server);
    client.send(thread, "Cancel order 1043");
    const asked = await client.turn(60000);
    const interrupt = asked.at(-1);
    assert.equal(interrupt.type, "interrupt");
    assert.equal(interrupt.kind, "approval");
    assert.equal(interrupt.action, "cancel_order");
    assert.ok(asked.some((f) => f.type === "tool_call" && f.tool === "cancel_order"));
    client.approve(thread, true, undefined, interrupt.interrupt_id);
    const done = await client.turn(60000);
    assert.equal(done.at(-1).type, "message_complete");
    assert.match(said(done), /cancel/i);
    client.approve(thread, true, undefined, interrupt.interrupt_id); // a second answer runs nothing
    const again = await client.turn(60000);
    assert.equal(again.at(-1).type, "error");
    client.send(thread, "What is the status of order 1043?");
    assert.match(said(await client.turn(60000)), /cancelled/i);
    client.close();
  });

  test("a rejection: the action does not run and the order is unchanged", async () => {
    const thread = `own-reject-${Date.now()}`;
    const client = await connected(server);
    client.send(thread, "What is the status of order 1046?");
    const before = said(await client.turn(60000));
    assert.match(before, /is pending/);
    client.send(thread, "Cancel order 1046");
    const interrupt = (await client.turn(60000)).at(-1);
    assert.equal(interrupt.kind, "approval");
    client.approve(thread, false, undefined, interrupt.interrupt_id);
    const done = await client.turn(60000);
    assert.equal(done.at(-1).type, "message_complete");
    assert.ok(!done.some((f) => f.type === "tool_result"));
    client.send(thread, "What is the status of order 1046?");
    assert.match(said(await client.turn(60000)), /is pending/);
    client.close();
  });
});

describe(`ChatClient with a free-text question (GRAPH=question, ${module})`, () => {
  let server;
  before(async () => (server = await startServer(module, { LANGGRAPH_CONFIG: FEATURES, GRAPH: "question" })));
  after(async () => server.stop());

  test("the question is an input interrupt, and the graph gets exactly the answer", async () => {
    const thread = `own-question-${Date.now()}`;
    const client = await connected(server);
    client.send(thread, "hi");
    const interrupt = (await client.turn(60000)).at(-1);
    assert.equal(interrupt.kind, "input");
    assert.equal(interrupt.question, "What is your name?");
    client.answer(thread, "Ada", interrupt.interrupt_id);
    const done = await client.turn(60000);
    assert.equal(done.at(-1).type, "message_complete");
    assert.match(said(done), /Ada/);
    client.close();
  });
});

describe(`ChatClient cancelling a long answer (GRAPH=essay, ${module})`, () => {
  let server;
  before(async () => (server = await startServer(module, { LANGGRAPH_CONFIG: FEATURES, GRAPH: "essay" })));
  after(async () => server.stop());

  test("cancel ends the running turn with one message_complete, status cancelled", async () => {
    const thread = `own-cancel-${Date.now()}`;
    const client = await connected(server);
    client.send(thread, "write an essay");
    assert.equal((await client.next(60000)).type, "token");
    client.cancel(thread);
    const rest = await client.turn(60000);
    const end = rest.at(-1);
    assert.equal(end.type, "message_complete");
    assert.equal(end.status, "cancelled");
    assert.equal(rest.filter((f) => f.type === "message_complete").length, 1);
    client.close();
  });
});
}
