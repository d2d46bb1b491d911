// Real `python -m local_server` and `python -m local_server.emulator` (API Gateway, Lambda handlers, moto)
// processes for the tests, on a free port, and JSONL recording of AG-UI streams.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, "../../..");
const PYTHON = process.env.PYTHON ?? resolve(ROOT, ".venv/bin/python");
export const FEATURES = resolve(ROOT, "examples/langgraph_features/langgraph.json");
export const STREAMS = resolve(here, "streams");

function freePort() {
  return new Promise((ok) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/** The servers every test runs against: the local server, and the emulated AWS path. */
export const SERVERS = ["local_server", "local_server.emulator"];

/**
 * Start `python -m <module>` with `env` (on `port`, or a free one); resolves to { url, token, stop } once
 * /api/health answers. The emulator checks tokens: `url` then carries the development token it prints
 * (`token` alone too).
 */
export async function startServer(module = "local_server", env = {}, port = undefined) {
  port ??= await freePort();
  const child = spawn(PYTHON, ["-m", module, "--host", "127.0.0.1", "--port", String(port)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  let printed = "";
  child.stderr.on("data", (chunk) => (log += chunk));
  child.stdout.on("data", (chunk) => (printed += chunk));
  const deadline = Date.now() + 90000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited: ${log}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/health`);
      if (response.ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`server did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const token = /--token (\S+)/.exec(printed)?.[1];
  if (module.endsWith("emulator") && !token) throw new Error(`the emulator printed no token: ${printed}`);
  return {
    url: `ws://127.0.0.1:${port}/ws${token ? `?token=${token}` : ""}`,
    plainUrl: `ws://127.0.0.1:${port}/ws`,
    token,
    stop: () =>
      new Promise((ok) => {
        child.once("exit", ok);
        child.kill("SIGTERM");
      }),
  };
}

/** Write a run's events, one JSON object a line, for ag-ui-validate. */
export function record(name, events) {
  mkdirSync(STREAMS, { recursive: true });
  writeFileSync(resolve(STREAMS, `${name}.jsonl`), events.map((e) => JSON.stringify(e)).join("\n") + "\n");
}
