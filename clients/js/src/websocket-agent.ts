/** An AG-UI agent over one WebSocket: a RunAgentInput frame out, one JSON frame per AG-UI event back. */
import { AbstractAgent, type AgentConfig, type BaseEvent, EventType, type RunAgentInput } from "@ag-ui/client";
import { Observable } from "rxjs";
import { OPEN, openSocket, type Socket, text } from "./socket.js";

export const AGUI_SUBPROTOCOL = "ag-ui";

export interface WebSocketAgentConfig extends AgentConfig {
  /** The runtime's `/ws` URL, with `?token=` when it checks tokens. */
  url: string;
}

const TERMINAL = new Set<string>([EventType.RUN_FINISHED, EventType.RUN_ERROR]);

/**
 * Speaks AG-UI to the runtime's `/ws` (subprotocol `ag-ui`); one socket serves all of the agent's runs.
 * Runs in Node (with `ws`) and in browsers (with their own WebSocket).
 */
export class WebSocketAgent extends AbstractAgent {
  readonly url: string;
  private socket: Socket | undefined;
  private opening: Promise<Socket> | undefined;

  constructor(config: WebSocketAgentConfig) {
    super(config);
    this.url = config.url;
  }

  /** Send `input` and stream the run's events until RUN_FINISHED or RUN_ERROR. */
  run(input: RunAgentInput): Observable<BaseEvent> {
    return new Observable<BaseEvent>((subscriber) => {
      let socket: Socket | undefined;
      const onMessage = ({ data }: { data: unknown }): void => {
        const event = JSON.parse(text(data)) as BaseEvent & { threadId?: string; runId?: string };
        if (event.type === EventType.RUN_STARTED && event.runId !== input.runId) return;
        subscriber.next(event);
        if (TERMINAL.has(event.type)) {
          socket?.removeEventListener("message", onMessage);
          subscriber.complete();
        }
      };
      const onClose = (): void => subscriber.error(new Error("the connection closed during the run"));
      this.connection()
        .then((open) => {
          socket = open;
          open.addEventListener("message", onMessage);
          open.addEventListener("close", onClose, { once: true });
          open.send(JSON.stringify(input));
        })
        .catch((error: unknown) => subscriber.error(error));
      return () => {
        socket?.removeEventListener("message", onMessage);
        socket?.removeEventListener("close", onClose);
      };
    });
  }

  /** Stop the running turn (our `cancel`): the run ends with RUN_FINISHED, outcome `cancelled`. */
  abortRun(): void {
    this.socket?.send(JSON.stringify({ type: "cancel", thread_id: this.threadId }));
    super.abortRun();
  }

  /** Close the socket. */
  close(): void {
    this.socket?.close();
    this.socket = undefined;
    this.opening = undefined;
  }

  private connection(): Promise<Socket> {
    if (this.socket?.readyState === OPEN) return Promise.resolve(this.socket);
    if (this.socket) this.close(); // it closed under us (the server went away): open a new one
    this.opening ??= new Promise<Socket>((resolve, reject) => {
      const socket = openSocket(this.url, [AGUI_SUBPROTOCOL]);
      const onError = (): void => {
        this.opening = undefined;
        reject(new Error(`could not connect to ${this.url.split("?")[0]}`)); // never the token
      };
      socket.addEventListener("open", () => {
        socket.removeEventListener("error", onError);
        this.socket = socket;
        resolve(socket);
      }, { once: true });
      socket.addEventListener("error", onError, { once: true });
    });
    return this.opening;
  }
}
