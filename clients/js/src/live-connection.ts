/** A connection to `/ws` for pages and long-lived clients: it reconnects by itself and queues frames sent while down. */
import { OPEN, openSocket, type Socket, text } from "./socket.js";

/** `connecting`, `online` or `offline`, with a sentence a person can read. */
export type ConnectionStatus = "connecting" | "online" | "offline";

export interface LiveConnectionOptions {
  /** The `/ws` URL. */
  url: string;
  /** A JWT sent as `?token=` when the server checks tokens. */
  token?: string;
  /** Every JSON frame the server sends (frames that are not JSON are dropped). */
  onFrame: (frame: Record<string, unknown>) => void;
  /** Each change of the connection's state. */
  onStatus: (status: ConnectionStatus, text: string) => void;
  /** After every (re)connection, before the queued frames go out: e.g. `resume` each thread. */
  onOpen?: () => void;
}

const FIRST_DELAY_MS = 500;
const LONGEST_DELAY_MS = 8000;

/** One socket at a time; after a close it tries again, waiting 0.5 s, then twice as long each time, up to 8 s. */
export class LiveConnection {
  private socket: Socket | undefined;
  private readonly queue: Array<Record<string, unknown>> = [];
  private delay = FIRST_DELAY_MS;
  private closed = false;

  constructor(private readonly options: LiveConnectionOptions) {
    this.open();
  }

  /** The address connected to: the URL with `?token=` when there is a token. */
  address(): string {
    if (!this.options.token) return this.options.url;
    const url = new URL(this.options.url);
    url.searchParams.set("token", this.options.token);
    return url.toString();
  }

  /** Send a frame now, or as soon as the connection is back. */
  send(frame: Record<string, unknown>): void {
    if (this.socket && this.socket.readyState === OPEN) this.socket.send(JSON.stringify(frame));
    else this.queue.push(frame);
  }

  /** Close for good (no reconnect). */
  close(): void {
    this.closed = true;
    this.socket?.close();
  }

  private open(): void {
    const { onFrame, onStatus, onOpen } = this.options;
    onStatus("connecting", "Connecting…");
    const socket = openSocket(this.address());
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.delay = FIRST_DELAY_MS;
      onStatus("online", "Connected");
      onOpen?.();
      for (const frame of this.queue.splice(0)) socket.send(JSON.stringify(frame));
    });
    socket.addEventListener("message", ({ data }) => {
      let frame: unknown;
      try {
        frame = JSON.parse(text(data));
      } catch {
        return;
      }
      if (frame && typeof frame === "object") onFrame(frame as Record<string, unknown>);
    });
    socket.addEventListener("close", () => {
      if (this.closed || this.socket !== socket) return;
      const seconds = Math.round(this.delay / 100) / 10;
      onStatus("offline", `Disconnected. Reconnecting in ${seconds} s…`);
      setTimeout(() => this.open(), this.delay);
      this.delay = Math.min(this.delay * 2, LONGEST_DELAY_MS);
    });
  }
}
