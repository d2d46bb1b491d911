/**
 * A minimal AG-UI frontend: @ag-ui/client's event pipeline (runAgent, its verifier, subscribers) over the
 * runtime's `/ws` through WebSocketAgent. The page's address says where the server is:
 * `?server=ws://127.0.0.1:8000/ws` (the default), `&token=<JWT>` (or `#token=`) when it checks tokens.
 */
import { WebSocketAgent } from "../../../clients/js/dist/index.js";
import { type Answer, type Interrupt, Log } from "./view.js";

const DEFAULT_SERVER = "ws://127.0.0.1:8000/ws";

/** The `/ws` address to connect to, from the page's own address. */
export function serverAddress(page: URL): string {
  const server = new URL(page.searchParams.get("server") ?? DEFAULT_SERVER);
  const token = page.searchParams.get("token") ?? new URLSearchParams(page.hash.slice(1)).get("token");
  if (token) server.searchParams.set("token", token);
  return server.toString();
}

function newId(prefix: string): string {
  const random = globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(16).slice(2)}`;
  return `${prefix}-${random}`;
}

function required<T extends HTMLElement>(selector: string): T {
  const node = document.querySelector<T>(selector);
  if (!node) throw new Error(`the page has no ${selector}`);
  return node;
}

/** Wire the page to one agent (one thread): send, stream, answer interrupts, stop. */
function start(): void {
  const page = new URL(location.href);
  const agent = new WebSocketAgent({
    url: serverAddress(page),
    threadId: page.searchParams.get("thread") ?? newId("agui"),
  });
  const log = new Log(required("#log"));
  const form = required<HTMLFormElement>("#composer");
  const input = required<HTMLInputElement>("#message");
  const send = required<HTMLButtonElement>("#send");
  const stop = required<HTMLButtonElement>("#stop");
  const status = required<HTMLElement>("#status");
  const answers = new Map<string, Answer>();

  const show = (state: string, text: string): void => {
    status.dataset.state = state;
    status.textContent = text;
  };
  const busy = (running: boolean, waiting = false): void => {
    input.disabled = send.disabled = running || waiting;
    stop.hidden = !running;
    input.placeholder = waiting ? "Answer the card above first" : "Ask about an order";
  };

  agent.subscribe({
    onRunStartedEvent: () => show("working", "Working…"),
    onTextMessageStartEvent: ({ event }) => void log.assistant(event.messageId, (event as { name?: string }).name),
    // The buffer is the text before this event's delta.
    onTextMessageContentEvent: ({ event, textMessageBuffer }) => log.text(event.messageId, textMessageBuffer + event.delta),
    onTextMessageEndEvent: ({ event }) => log.end(event.messageId),
    onToolCallStartEvent: ({ event }) => log.toolCall(event.toolCallId, event.toolCallName),
    onToolCallEndEvent: ({ event, toolCallName, toolCallArgs }) => log.toolCall(event.toolCallId, toolCallName, toolCallArgs),
    onToolCallResultEvent: ({ event }) => log.toolDone(event.toolCallId),
    onRunFinishedEvent: (params) => {
      if (params.outcome === "cancelled") log.note("Stopped.");
    },
    onRunErrorEvent: ({ event }) => log.note(`${event.message}${event.code ? ` (${event.code})` : ""}`, "error"),
  });

  /** Run the agent once (a new message, or the answers to every open interrupt), then show what is open. */
  const run = async (resume?: Parameters<WebSocketAgent["runAgent"]>[0]): Promise<void> => {
    busy(true);
    try {
      await agent.runAgent(resume);
    } catch (error) {
      log.note(`The run failed: ${error instanceof Error ? error.message : String(error)}`, "error");
    }
    const open = agent.pendingInterrupts;
    busy(false, open.length > 0);
    if (open.length) {
      show("waiting", "Waiting for you");
      for (const interrupt of open) log.card(interrupt, (answer) => answered(interrupt, answer));
    } else {
      show("ready", "Ready");
      input.focus();
    }
  };

  /** Keep one card's answer; once every open interrupt has one, resume the run with all of them. */
  const answered = (interrupt: Interrupt, answer: Answer): void => {
    answers.set(interrupt.id, answer);
    const open = agent.pendingInterrupts;
    if (!open.every((pending) => answers.has(pending.id))) return;
    const resume = open.map((pending) => ({ interruptId: pending.id, ...(answers.get(pending.id) as Answer) }));
    answers.clear();
    void run({ resume });
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const content = input.value.trim();
    if (!content || agent.isRunning) return;
    input.value = "";
    log.user(content);
    agent.addMessage({ id: newId("user"), role: "user", content });
    void run();
  });
  stop.addEventListener("click", () => agent.abortRun());
  show("ready", "Ready");
  busy(false);
}

start();
