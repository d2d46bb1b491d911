/** A client for the runtime's own `/ws` protocol: send, answer interrupts, cancel, reconnect with resume. */
import { openSocket, type Socket, text } from "./socket.js";

export interface ServerFrame {
  type: string;
  thread_id?: string;
  seq?: number;
  [field: string]: unknown;
}

const TURN_ENDS = new Set(["message_complete", "error", "interrupt"]);

/** One connection to `/ws`, remembering each thread's last `seq` so a reconnect skips what it saw. */
export class ChatClient {
  private socket: Socket | undefined;
  private readonly lastSeq = new Map<string, number>();
  private readonly waiting: Array<(frame: ServerFrame) => void> = [];
  private readonly inbox: ServerFrame[] = [];

  /** @param url the `/ws` URL; @param token a JWT sent as `?token=` when the server checks tokens. */
  constructor(
    private readonly url: string,
    private readonly token?: string,
  ) {}

  /** Open (or reopen) the connection. */
  async connect(): Promise<void> {
    const url = this.token ? `${this.url}${this.url.includes("?") ? "&" : "?"}token=${this.token}` : this.url;
    const socket = openSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error(`could not connect to ${this.url}`)), { once: true });
    });
    socket.addEventListener("message", ({ data }) => this.receive(JSON.parse(text(data)) as ServerFrame));
    this.socket = socket;
  }

  /** Close the connection (turns keep running on the server). */
  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }

  /** Send a user message. */
  send(threadId: string, content: string, extra: Record<string, unknown> = {}): void {
    this.frame({ type: "message", thread_id: threadId, content, ...extra });
  }

  /** Approve or reject the pending approval (with `edits` to change its fields). */
  approve(threadId: string, approved: boolean, edits?: Record<string, unknown>, interruptId?: string): void {
    this.frame({ type: "interrupt_response", thread_id: threadId, approved, edits, interrupt_id: interruptId });
  }

  /** Answer a pending question with any JSON value. */
  answer(threadId: string, value: unknown, interruptId?: string): void {
    this.frame({ type: "interrupt_response", thread_id: threadId, value, interrupt_id: interruptId });
  }

  /** Stop the thread's running turn. */
  cancel(threadId: string, action: "interrupt" | "rollback" = "interrupt"): void {
    this.frame({ type: "cancel", thread_id: threadId, action });
  }

  /** After a reconnect: ask for the thread's frames after the last one this client saw. */
  resume(threadId: string): void {
    this.frame({ type: "resume", thread_id: threadId, after_seq: this.lastSeq.get(threadId) ?? 0 });
  }

  /** The next frame (waiting up to `timeoutMs`). */
  next(timeoutMs = 20000): Promise<ServerFrame> {
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no frame in time")), timeoutMs);
      this.waiting.push((frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
  }

  /** Frames up to and including the turn's end (`message_complete`, `error` or an `interrupt`). */
  async turn(timeoutMs = 20000): Promise<ServerFrame[]> {
    const frames: ServerFrame[] = [];
    for (;;) {
      const frame = await this.next(timeoutMs);
      frames.push(frame);
      if (TURN_ENDS.has(frame.type)) return frames;
    }
  }

  private frame(frame: Record<string, unknown>): void {
    if (!this.socket) throw new Error("not connected: call connect() first");
    this.socket.send(JSON.stringify(frame));
  }

  private receive(frame: ServerFrame): void {
    if (frame.thread_id !== undefined && frame.seq !== undefined) {
      if (frame.seq <= (this.lastSeq.get(frame.thread_id) ?? 0)) return;
      this.lastSeq.set(frame.thread_id, frame.seq);
    }
    const waiter = this.waiting.shift();
    if (waiter) waiter(frame);
    else this.inbox.push(frame);
  }
}
