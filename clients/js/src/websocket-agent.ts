/** An AG-UI agent over one WebSocket: a RunAgentInput frame out, one JSON frame per AG-UI event back. */
import { AbstractAgent, type AgentConfig, type BaseEvent, EventType, type RunAgentInput } from "@ag-ui/client";
import { Observable } from "rxjs";
import WebSocket from "ws";

export const AGUI_SUBPROTOCOL = "ag-ui";

export interface WebSocketAgentConfig extends AgentConfig {
  /** The runtime's `/ws` URL, with `?token=` when it checks tokens. */
  url: string;
}

const TERMINAL = new Set<string>([EventType.RUN_FINISHED, EventType.RUN_ERROR]);

/** Speaks AG-UI to the runtime's `/ws` (subprotocol `ag-ui`); one socket serves all of the agent's runs. */
export class WebSocketAgent extends AbstractAgent {
  readonly url: string;
  private socket: WebSocket | undefined;
  private opening: Promise<WebSocket> | undefined;

  constructor(config: WebSocketAgentConfig) {
    super(config);
    this.url = config.url;
  }

  /** Send `input` and stream the run's events until RUN_FINISHED or RUN_ERROR. */
  run(input: RunAgentInput): Observable<BaseEvent> {
    return new Observable<BaseEvent>((subscriber) => {
      let socket: WebSocket | undefined;
      const onMessage = (data: WebSocket.RawData): void => {
        const event = JSON.parse(data.toString()) as BaseEvent & { threadId?: string; runId?: string };
        if (event.type === EventType.RUN_STARTED && event.runId !== input.runId) return;
        subscriber.next(event);
        if (TERMINAL.has(event.type)) {
          socket?.off("message", onMessage);
          subscriber.complete();
        }
      };
      const onClose = (): void => subscriber.error(new Error("the connection closed during the run"));
      this.connection()
        .then((open) => {
          socket = open;
          open.on("message", onMessage);
          open.once("close", onClose);
          open.send(JSON.stringify(input));
        })
        .catch((error: unknown) => subscriber.error(error));
      return () => {
        socket?.off("message", onMessage);
        socket?.off("close", onClose);
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

  private connection(): Promise<WebSocket> {
    if (this.socket?.readyState === WebSocket.OPEN) return Promise.resolve(this.socket);
    this.opening ??= new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(this.url, [AGUI_SUBPROTOCOL]);
      socket.once("open", () => {
        this.socket = socket;
        resolve(socket);
      });
      socket.once("error", (error) => {
        this.opening = undefined;
        reject(error);
      });
    });
    return this.opening;
  }
}
