export { AGUI_SUBPROTOCOL, WebSocketAgent, type WebSocketAgentConfig } from "./websocket-agent.js";
export { ChatClient, type ServerFrame } from "./chat-client.js";
