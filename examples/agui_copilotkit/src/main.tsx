/**
 * CopilotKit's React chat on the runtime's `/ws`, with no CopilotKit Runtime: our WebSocketAgent is handed to the
 * provider as a local agent. Approvals and questions are drawn by `useInterrupt` from the run's RUN_FINISHED
 * interrupt outcome and answered with AG-UI's `resume`. The page's address says where the server is:
 * `?server=ws://127.0.0.1:8000/ws` (the default), `&token=<JWT>` (or `#token=`) when it checks tokens.
 */
import { type AbstractAgent, CopilotChat, CopilotKitProvider, useInterrupt } from "@copilotkit/react-core/v2";
import "@copilotkit/react-core/v2/styles.css";
import { type FormEvent, useState } from "react";
import { createRoot } from "react-dom/client";
import { WebSocketAgent } from "../../../clients/js/dist/index.js";

/** The `/ws` address to connect to, from the page's own address. */
function serverAddress(page: URL): string {
  const server = new URL(page.searchParams.get("server") ?? "ws://127.0.0.1:8000/ws");
  const token = page.searchParams.get("token") ?? new URLSearchParams(page.hash.slice(1)).get("token");
  if (token) server.searchParams.set("token", token);
  return server.toString();
}

const page = new URL(location.href);
const agent = new WebSocketAgent({
  url: serverAddress(page),
  threadId: page.searchParams.get("thread") ?? `copilotkit-${Date.now()}`,
});
// CopilotKit 1.74.0 is built on @ag-ui/client 0.0.59, our package on 1.0.0: the same agent, two classes to TypeScript.
const agents = { default: agent as unknown as AbstractAgent };

interface Interrupt {
  id: string;
  reason?: string;
  message?: string;
}

/** One interrupt's card: Approve/Reject for an approval, a text box for a question. */
function InterruptCard(props: { interrupt: Interrupt; resolve: (payload: unknown) => void; cancel: () => void }) {
  const { interrupt, resolve, cancel } = props;
  const [answer, setAnswer] = useState("");
  const approval = interrupt.reason?.startsWith("approval:") ?? false;
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    if (answer.trim()) resolve(answer.trim());
  };
  return (
    <section className={approval ? "card approval" : "card question"} data-interrupt-id={interrupt.id}>
      <h2>{approval ? "Approval needed" : "A question for you"}</h2>
      <p className="what">{interrupt.message ?? interrupt.reason}</p>
      {approval ? (
        <div className="actions">
          <button type="button" onClick={() => resolve({ approved: true })}>Approve</button>
          <button type="button" onClick={() => resolve({ approved: false })}>Reject</button>
        </div>
      ) : (
        <form className="actions" onSubmit={submit}>
          <input aria-label="Your answer" value={answer} onChange={(event) => setAnswer(event.target.value)} />
          <button type="submit">Answer</button>
          <button type="button" onClick={cancel}>Dismiss</button>
        </form>
      )}
    </section>
  );
}

function Interrupts(): null {
  useInterrupt({
    render: ({ interrupt, resolve, cancel }) => (
      <InterruptCard interrupt={interrupt as Interrupt} resolve={resolve} cancel={cancel} />
    ),
  });
  return null;
}

function App() {
  return (
    <CopilotKitProvider agents__unsafe_dev_only={agents}>
      <Interrupts />
      <CopilotChat labels={{ chatInputPlaceholder: "Ask about an order" }} />
    </CopilotKitProvider>
  );
}

const root = document.getElementById("root");
if (!root) throw new Error("the page has no #root");
createRoot(root).render(<App />);
