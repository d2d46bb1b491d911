export { AGUI_SUBPROTOCOL, WebSocketAgent, type WebSocketAgentConfig } from "./websocket-agent.js";
export { ChatClient, type ServerFrame } from "./chat-client.js";
export { type ConnectionStatus, LiveConnection, type LiveConnectionOptions } from "./live-connection.js";
