/** The browser build (`npm run build:browser`): what the chat page imports, as one ES module. */
export { type ConnectionStatus, LiveConnection, type LiveConnectionOptions } from "./live-connection.js";
