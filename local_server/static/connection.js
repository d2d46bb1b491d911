// A WebSocket that reconnects by itself and queues frames sent while it is down.

export class Connection {
  constructor({ url, token, onFrame, onStatus, onOpen }) {
    this.url = url;
    this.token = token;
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.onOpen = onOpen;
    this.queue = [];
    this.delay = 500;
    this.closed = false;
    this.open();
  }

  address() {
    if (!this.token) return this.url;
    const url = new URL(this.url);
    url.searchParams.set("token", this.token);
    return url.toString();
  }

  open() {
    this.onStatus("connecting", "Connecting…");
    const socket = new WebSocket(this.address());
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.delay = 500;
      this.onStatus("online", "Connected");
      if (this.onOpen) this.onOpen();
      for (const frame of this.queue.splice(0)) socket.send(JSON.stringify(frame));
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.onFrame(frame);
    });
    socket.addEventListener("close", () => {
      if (this.closed || this.socket !== socket) return;
      const seconds = Math.round(this.delay / 100) / 10;
      this.onStatus("offline", `Disconnected. Reconnecting in ${seconds} s…`);
      setTimeout(() => this.open(), this.delay);
      this.delay = Math.min(this.delay * 2, 8000);
    });
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
    } else {
      this.queue.push(frame);
    }
  }

  close() {
    this.closed = true;
    this.socket?.close();
  }
}
