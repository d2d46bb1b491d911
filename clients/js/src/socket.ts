/** A WebSocket in Node (the `ws` package) and in the browser (its own WebSocket), behind one small interface. */
import NodeWebSocket from "ws";

/** The part of the WebSocket API both the browser's WebSocket and `ws` implement, and the clients use. */
export interface Socket {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener(type: "open" | "close" | "error", listener: () => void, options?: { once?: boolean }): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  removeEventListener(type: "open" | "close" | "error", listener: () => void): void;
  removeEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
}

type SocketConstructor = new (url: string, protocols?: string[]) => Socket;

/** `WebSocket.OPEN`, the same in both. */
export const OPEN = 1;

/**
 * Open a socket to `url`: the platform's WebSocket when there is one (browsers, Node 22+), else `ws`.
 *
 * Args:
 *   url: the `ws://` or `wss://` address.
 *   protocols: the subprotocols to ask for (`Sec-WebSocket-Protocol`).
 */
export function openSocket(url: string, protocols?: string[]): Socket {
  const native = (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
  const Impl = native ?? (NodeWebSocket as unknown as SocketConstructor);
  return new Impl(url, protocols);
}

/** A text frame's data as a string (`ws` hands text frames to `addEventListener` as strings too). */
export function text(data: unknown): string {
  return typeof data === "string" ? data : String(data);
}
