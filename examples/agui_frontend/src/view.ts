/** The page's DOM: message bubbles, tool-call lines, and the cards that answer a run's interrupts. */
import type { WebSocketAgent } from "../../../clients/js/dist/index.js";

/** AG-UI's `Interrupt`, as the agent keeps it in `pendingInterrupts`. */
export type Interrupt = WebSocketAgent["pendingInterrupts"][number];

/** What a card answers: `resolved` with a payload, or `cancelled`. */
export type Answer = { status: "resolved"; payload: unknown } | { status: "cancelled" };

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The message list: appends bubbles and keeps the newest in view. */
export class Log {
  private readonly bubbles = new Map<string, HTMLElement>();
  private readonly tools = new Map<string, HTMLElement>();

  constructor(private readonly root: HTMLElement) {}

  /** A bubble of the customer's words. */
  user(text: string): void {
    this.add(element("div", "msg user", text));
  }

  /** Open (or find) the assistant bubble of `messageId`; `name` is the agent that writes it. */
  assistant(messageId: string, name?: string): HTMLElement {
    let bubble = this.bubbles.get(messageId);
    if (!bubble) {
      bubble = element("div", "msg assistant streaming");
      bubble.dataset.messageId = messageId;
      if (name) bubble.append(element("span", "who", name));
      bubble.append(element("span", "text"));
      this.bubbles.set(messageId, bubble);
      this.add(bubble);
    }
    return bubble;
  }

  /** Show the text streamed so far into `messageId`'s bubble. */
  text(messageId: string, text: string): void {
    const target = this.assistant(messageId).querySelector(".text");
    if (target) target.textContent = text;
    this.scroll();
  }

  /** The message is complete. */
  end(messageId: string): void {
    this.bubbles.get(messageId)?.classList.remove("streaming");
  }

  /** A tool call (shown once, even when a later run announces it again). */
  toolCall(toolCallId: string, name: string, args?: Record<string, unknown>): void {
    let line = this.tools.get(toolCallId);
    if (!line) {
      line = element("div", "tool");
      this.tools.set(toolCallId, line);
      this.add(line);
    }
    const shown = args && Object.keys(args).length ? ` ${JSON.stringify(args)}` : "";
    line.textContent = `⚙ ${name}${shown}`;
  }

  /** The tool call's result arrived. */
  toolDone(toolCallId: string): void {
    this.tools.get(toolCallId)?.classList.add("done");
  }

  /** A line saying what happened to the run (stopped, failed). */
  note(text: string, kind: "info" | "error" = "info"): void {
    this.add(element("div", `note ${kind}`, text));
  }

  /**
   * A card for one interrupt: Approve/Reject for an approval (`reason` `approval:<action>`), a text box
   * (and Dismiss) for a question. `onAnswer` gets the answer once; the card then says what was chosen.
   */
  card(interrupt: Interrupt, onAnswer: (answer: Answer) => void): HTMLElement {
    const approval = interrupt.reason?.startsWith("approval:") ?? false;
    const card = element("section", approval ? "card approval" : "card question");
    card.dataset.interruptId = interrupt.id;
    card.append(element("h2", "title", approval ? "Approval needed" : "A question for you"));
    card.append(element("p", "what", interrupt.message ?? interrupt.reason ?? "The agent is waiting for you."));
    const fields = (interrupt.metadata as { fields?: Record<string, unknown> } | undefined)?.fields ?? {};
    const shown = Object.entries(fields).filter(([, value]) => typeof value === "string" || typeof value === "number");
    if (approval && shown.length) {
      const list = element("dl", "fields");
      for (const [name, value] of shown) list.append(element("dt", "", name.replaceAll("_", " ")), element("dd", "", String(value)));
      card.append(list);
    }
    const actions = element("div", "actions");
    const settle = (answer: Answer, label: string): void => {
      actions.remove();
      card.classList.add("answered");
      card.append(element("p", "outcome", label));
      onAnswer(answer);
    };
    if (approval) {
      const approve = element("button", "approve", "Approve");
      const reject = element("button", "reject", "Reject");
      approve.type = reject.type = "button";
      approve.onclick = () => settle({ status: "resolved", payload: { approved: true } }, "Approved");
      reject.onclick = () => settle({ status: "resolved", payload: { approved: false } }, "Rejected");
      actions.append(approve, reject);
    } else {
      const form = element("form", "reply");
      const input = element("input", "");
      input.setAttribute("aria-label", "Your answer");
      const send = element("button", "send", "Answer");
      const dismiss = element("button", "dismiss", "Dismiss");
      dismiss.type = "button";
      form.onsubmit = (event) => {
        event.preventDefault();
        if (input.value.trim()) settle({ status: "resolved", payload: input.value.trim() }, `Answered: ${input.value.trim()}`);
      };
      dismiss.onclick = () => settle({ status: "cancelled" }, "Dismissed");
      form.append(input, send, dismiss);
      actions.append(form);
    }
    card.append(actions);
    this.add(card);
    return card;
  }

  private add(node: HTMLElement): void {
    this.root.append(node);
    this.scroll();
  }

  private scroll(): void {
    this.root.scrollTop = this.root.scrollHeight;
  }
}
