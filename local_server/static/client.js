// Generated from clients/js (npm run build:browser): the chat page's connection. Do not edit.
var __create = Object.create;
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __getProtoOf = Object.getPrototypeOf;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __defNormalProp = (obj, key, value) => key in obj ? __defProp(obj, key, { enumerable: true, configurable: true, writable: true, value }) : obj[key] = value;
var __commonJS = (cb, mod) => function __require() {
  try {
    return mod || (0, cb[__getOwnPropNames(cb)[0]])((mod = { exports: {} }).exports, mod), mod.exports;
  } catch (e) {
    throw mod = 0, e;
  }
};
var __copyProps = (to, from, except, desc) => {
  if (from && typeof from === "object" || typeof from === "function") {
    for (let key of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
  }
  return to;
};
var __toESM = (mod, isNodeMode, target) => (target = mod != null ? __create(__getProtoOf(mod)) : {}, __copyProps(
  // If the importer is in node compatibility mode or this is not an ESM
  // file that has been converted to a CommonJS file using a Babel-
  // compatible transform (i.e. "__esModule" has not been set), then set
  // "default" to the CommonJS "module.exports" for node compatibility.
  isNodeMode || !mod || !mod.__esModule ? __defProp(target, "default", { value: mod, enumerable: true }) : target,
  mod
));
var __publicField = (obj, key, value) => __defNormalProp(obj, typeof key !== "symbol" ? key + "" : key, value);

// node_modules/ws/browser.js
var require_browser = __commonJS({
  "node_modules/ws/browser.js"(exports, module) {
    "use strict";
    module.exports = function() {
      throw new Error(
        "ws does not work in the browser. Browser clients must use the native WebSocket object"
      );
    };
  }
});

// src/socket.ts
var import_ws = __toESM(require_browser(), 1);
var OPEN = 1;
function openSocket(url, protocols) {
  const native = globalThis.WebSocket;
  const Impl = native ?? import_ws.default;
  return new Impl(url, protocols);
}
function text(data) {
  return typeof data === "string" ? data : String(data);
}

// src/live-connection.ts
var FIRST_DELAY_MS = 500;
var LONGEST_DELAY_MS = 8e3;
var LiveConnection = class {
  constructor(options) {
    __publicField(this, "options", options);
    __publicField(this, "socket");
    __publicField(this, "queue", []);
    __publicField(this, "delay", FIRST_DELAY_MS);
    __publicField(this, "closed", false);
    this.open();
  }
  /** The address connected to: the URL with `?token=` when there is a token. */
  address() {
    if (!this.options.token) return this.options.url;
    const url = new URL(this.options.url);
    url.searchParams.set("token", this.options.token);
    return url.toString();
  }
  /** Send a frame now, or as soon as the connection is back. */
  send(frame) {
    if (this.socket && this.socket.readyState === OPEN) this.socket.send(JSON.stringify(frame));
    else this.queue.push(frame);
  }
  /** Close for good (no reconnect). */
  close() {
    this.closed = true;
    this.socket?.close();
  }
  open() {
    const { onFrame, onStatus, onOpen } = this.options;
    onStatus("connecting", "Connecting\u2026");
    const socket = openSocket(this.address());
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.delay = FIRST_DELAY_MS;
      onStatus("online", "Connected");
      onOpen?.();
      for (const frame of this.queue.splice(0)) socket.send(JSON.stringify(frame));
    });
    socket.addEventListener("message", ({ data }) => {
      let frame;
      try {
        frame = JSON.parse(text(data));
      } catch {
        return;
      }
      if (frame && typeof frame === "object") onFrame(frame);
    });
    socket.addEventListener("close", () => {
      if (this.closed || this.socket !== socket) return;
      const seconds = Math.round(this.delay / 100) / 10;
      onStatus("offline", `Disconnected. Reconnecting in ${seconds} s\u2026`);
      setTimeout(() => this.open(), this.delay);
      this.delay = Math.min(this.delay * 2, LONGEST_DELAY_MS);
    });
  }
};
export {
  LiveConnection
};
