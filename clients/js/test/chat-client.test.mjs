// Our own protocol's client against a real `python -m local_server` and `python -m local_server.emulator`.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ChatClient } from "../dist/index.js";
import { FEATURES, SERVERS, startServer } from "./servers.mjs";

for (const module of SERVERS) {
describe(`our own protocol (python -m ${module})`, () => {
let server;
before(async () => (server = await startServer(module, { LANGGRAPH_CONFIG: FEATURES, GRAPH: "essay" })));
after(async () => server.stop());

test("a reconnect mid-answer resumes after the last seq seen, with no frame twice", async () => {
  const thread = `own-reconnect-${Date.now()}`;
  const client = new ChatClient(server.plainUrl, server.token);
  await client.connect();
  client.send(thread, "write an essay");
  const seen = [];
  while (seen.length < 3) seen.push(await client.next());
  assert.ok(seen.every((f) => f.type === "token"));
  client.close();
  await client.connect();
  client.resume(thread);
  const rest = await client.turn(60000);
  const seqs = [...seen, ...rest].filter((f) => f.seq !== undefined).map((f) => f.seq);
  assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b));
  assert.equal(rest.at(-1).type, "message_complete");
  client.close();
});
});
}
