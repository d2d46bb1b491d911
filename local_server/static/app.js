// The chat page: conversations, streamed answers, tool calls, approval cards, errors, reconnect.
import { LiveConnection } from "./client.js";
import { SHOP, loadPageTexts } from "./page_texts.js";
import { progressLine, progressOf } from "./progress.js";
import { answerInputId, button, questionCard } from "./questions.js";

const STORE = "support.v1";
const $ = (selector) => document.querySelector(selector);

const defaultUrl = () => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
const newThreadId = () => `web-${crypto.randomUUID().slice(0, 13)}`;

// `make run-aws` prints the page's address with a development token after `#` (never sent to a server).
function takeTokenFromAddress() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (!token) return;
  state.settings = { url: defaultUrl(), token };
  save();
  history.replaceState(null, "", location.pathname + location.search);
}

function loadState() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE));
    if (saved && Array.isArray(saved.threads) && saved.threads.length) return saved;
  } catch {
    // fall through to a fresh state
  }
  const id = newThreadId();
  return { settings: { url: defaultUrl(), token: "" }, threads: [{ id, title: freshTitle(), items: [] }], current: id };
}

const state = loadState();
const save = () => localStorage.setItem(STORE, JSON.stringify(state));
takeTokenFromAddress();
const thread = (id) => state.threads.find((t) => t.id === id);
const current = () => thread(state.current) ?? state.threads[0];

// ------------------------------------------------------------------ frames in

function onFrame(frame) {
  const target = thread(frame.thread_id) ?? current();
  if (typeof frame.seq === "number") {
    // seq 1 starts a thread's first turn: a server that forgot the thread (a restarted in-memory one).
    if (frame.seq <= (target.lastSeq ?? 0) && frame.seq !== 1) return; // already shown (replayed)
    target.lastSeq = frame.seq;
  }
  const items = target.items;
  const last = items[items.length - 1];
  const heard = turnHeard(target, frame);
  if (stopping.has(target.id) && STOPPED_DROPS.has(frame.type)) return; // asked to stop: show no more of it
  if (TURN_ENDS.has(frame.type)) turnEnded(target);
  switch (frame.type) {
    case "token":
      if (last && last.kind === "agent" && last.agent === frame.agent && !last.done) {
        last.text += frame.content;
        save();
        if (target === current()) heard ? renderLog() : updateLast(last);
        return;
      }
      closeAgent(items); // another agent speaks: the previous one has finished
      items.push({ kind: "agent", agent: frame.agent, text: frame.content, done: false });
      break;
    case "tool_call":
      closeAgent(items);
      items.push({ kind: "tool", tool: frame.tool, args: frame.args });
      break;
    case "interrupt": {
      closeAgent(items);
      const kind = frame.kind === "input" ? "question" : "approval";
      if (!items.some((i) => i.kind === kind && i.frame.interrupt_id === frame.interrupt_id && !i.answer)) {
        if (frame.problem) markEditRefused(items, frame);
        items.push({ kind, frame, answer: null });
      }
      break;
    }
    case "message_complete":
      closeAgent(items);
      if (frame.status === "cancelled" || frame.status === "rolled_back") markStopped(items);
      if (frame.status === "dismissed") dismissOpenCards(items);
      break;
    case "error":
      closeAgent(items);
      items.push({ kind: "error", code: frame.code, message: frame.message });
      break;
    case "custom":
      if (!addQuickReplies(items, frame)) {
        const progress = progressOf(frame.value);
        if (!progress || !running.has(target.id)) return; // other custom values are the graph's own business
        target.progress = progress;
      }
      break;
    case "resumed":
      if (frame.state === "running") running.add(target.id);
      else turnEnded(target);
      // The server lost this conversation (it expired, or a local server restarted): say so, once.
      if (frame.state !== "new" || !items.length || items[items.length - 1].kind === "notice") return;
      target.lastSeq = 0; // its numbering starts again
      closeAgent(items);
      items.push({ kind: "notice", text: FORGOTTEN });
      break;
    default:
      return;
  }
  save();
  if (target === current()) renderLog();
}

// The same approval asked again because an edit was refused: the earlier card's answer did not apply.
function markEditRefused(items, frame) {
  const earlier = items.findLast(
    (i) => i.kind === "approval" && i.answer === "approved" && i.frame.action === frame.action &&
      i.frame.order_id === frame.order_id,
  );
  if (earlier) earlier.answer = "refused";
}

// Threads whose turn was asked for and has sent nothing yet: they show a typing indicator.
const waiting = new Set();
const TURN_FRAMES = new Set(["token", "tool_call", "interrupt", "message_complete", "error", "custom"]);
// Threads with a turn running (from sending until the frame that ends it): they show the stop button.
const running = new Set();
const TURN_ENDS = new Set(["interrupt", "message_complete", "error"]);
// Threads whose running turn the customer stopped: what it still streams is not shown.
const stopping = new Set();
const STOPPED_DROPS = new Set(["token", "tool_call", "custom"]);

function expectTurn(threadId) {
  waiting.add(threadId);
  running.add(threadId);
}

function turnEnded(target) {
  running.delete(target.id);
  stopping.delete(target.id);
  delete target.progress;
}

// A stopped turn: its last answer says so (or a note does, when it had not answered yet).
function markStopped(items) {
  const last = items[items.length - 1];
  if (last && last.kind === "agent") last.stopped = true;
  else items.push({ kind: "notice", text: "Stopped." });
}

// Dismissing answers every pending interrupt of the thread at once.
function dismissOpenCards(items) {
  for (const item of items) {
    if ((item.kind === "approval" || item.kind === "question") && !item.answer) item.answer = "dismissed";
  }
}

// True when `frame` is the first one of the turn `target` was waiting for (its indicator goes away).
function turnHeard(target, frame) {
  return TURN_FRAMES.has(frame.type) && waiting.delete(target.id);
}

function typingIndicator() {
  const li = document.createElement("li");
  li.className = "typing";
  li.innerHTML = `<span class="visually-hidden">The assistant is answering…</span><span></span><span></span><span></span>`;
  return li;
}

function closeAgent(items) {
  const last = items[items.length - 1];
  if (last && last.kind === "agent") last.done = true;
}

// ------------------------------------------------------------------ rendering

const TOOL_WORDS = {
  get_order_status: "Looking up",
  track_shipment: "Tracking",
  list_orders: "Listing your orders",
  cancel_order: "Preparing to cancel",
  request_refund: "Preparing a refund for",
  update_shipping_address: "Preparing an address change for",
  report_missing_parcel: "Preparing a missing-parcel claim for",
  get_policy: "Reading our policies",
  hand_off_to_human: "Handing you over to a person on our team",
};

function renderItem(item) {
  const li = document.createElement("li");
  li.className = `item ${item.kind}`;
  if (item.kind === "user") {
    li.innerHTML = `<span class="who">You</span>`;
    li.append(paragraph(item.text));
  } else if (item.kind === "agent") {
    li.innerHTML = `<span class="who">${escapeHtml(agentName(item.agent))}</span>`;
    li.append(paragraph(item.text));
    li.classList.toggle("streaming", !item.done);
    if (item.stopped) {
      const note = document.createElement("span");
      note.className = "stopped";
      note.textContent = "Stopped";
      li.append(note);
    }
  } else if (item.kind === "tool") {
    const handoff = item.tool === "hand_off_to_human";
    const order = item.args && item.args.order_id && !handoff ? ` order ${item.args.order_id}` : "";
    li.textContent = `${TOOL_WORDS[item.tool] ?? `Calling ${item.tool}`}${order}…`;
    li.classList.toggle("handoff", handoff);
  } else if (item.kind === "notice") {
    li.textContent = item.text;
  } else if (item.kind === "error") {
    li.setAttribute("role", "alert");
    li.textContent = item.message;
  } else if (item.kind === "approval") {
    li.append(approvalCard(item));
  } else if (item.kind === "question") {
    li.append(questionCard(item, { onAnswer: answerQuestion, onDismiss: dismiss }));
  } else if (item.kind === "choices") {
    li.append(quickReplies(item));
  }
  return li;
}

// Quick replies: a `custom` frame whose value is {type: "quick_replies", choices: [{label, message}]} shows
// its choices as buttons under the agent's message; one click sends that choice's message, once.
function addQuickReplies(items, frame) {
  const value = frame.value;
  if (!value || value.type !== "quick_replies" || !Array.isArray(value.choices)) return false;
  const choices = value.choices.filter((c) => c && typeof c.message === "string" && c.message);
  if (!choices.length) return false;
  closeAgent(items);
  items.push({ kind: "choices", choices, chosen: null });
  return true;
}

function quickReplies(item) {
  const group = document.createElement("div");
  group.className = "quick-replies";
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", "Suggested replies");
  for (const choice of item.choices) {
    const b = button(choice.label || choice.message, "quick-reply", () => choose(item, choice));
    b.disabled = item.chosen !== null;
    if (item.chosen === choice.message) b.classList.add("chosen");
    group.append(b);
  }
  return group;
}

function choose(item, choice) {
  if (item.chosen !== null) return;
  item.chosen = choice.message;
  send(choice.message);
}

// Choices still open when the customer writes something else no longer apply.
function closeChoices(items) {
  for (const item of items) if (item.kind === "choices" && item.chosen === null) item.chosen = "";
}

function paragraph(text) {
  const p = document.createElement("p");
  p.textContent = text;
  return p;
}

function agentName(agent) {
  return { router: "Assistant", order_info: "Orders", order_actions: "Order changes" }[agent] ?? "Assistant";
}

function approvalCard(item) {
  const { frame } = item;
  const card = document.createElement("form");
  card.className = "approval-card";
  card.setAttribute("aria-label", "Approval needed");
  const title = document.createElement("h3");
  title.textContent = "Approval needed";
  card.append(title, paragraph(item.answer === "approved" ? describeEdited(frame, item.edits) : frame.description));
  if (frame.problem && !item.answer) {
    const problem = paragraph(frame.problem);
    problem.className = "problem";
    problem.setAttribute("role", "alert");
    card.append(problem);
  }
  const fields = {};
  for (const name of frame.editable ?? []) {
    const id = `edit-${frame.interrupt_id}-${name}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = name.replace(/_/g, " ");
    const input = document.createElement("input");
    input.id = id;
    input.value = item.edits?.[name] ?? frame[name] ?? "";
    input.disabled = Boolean(item.answer);
    fields[name] = input;
    card.append(label, input);
  }
  if (item.answer) {
    const outcome = {
      approved: "You approved this.",
      rejected: "You rejected this.",
      refused: "Your change couldn't be used: see below.",
      dismissed: "You dismissed this.",
    }[item.answer];
    card.append(paragraph(outcome));
    return card;
  }
  const actions = document.createElement("div");
  actions.className = "actions";
  const approve = button("Approve", "primary", () => answer(item, true, fields));
  const reject = button("Reject", "", () => answer(item, false, fields));
  actions.append(approve, reject);
  card.append(actions);
  card.addEventListener("submit", (event) => event.preventDefault());
  return card;
}

// An approved card's question with the customer's edits in it, so that it reads what was approved.
function describeEdited(frame, edits) {
  let text = frame.description;
  for (const [name, value] of Object.entries(edits ?? {})) {
    const before = String(frame[name] ?? "");
    const at = before ? text.lastIndexOf(before) : -1; // the asked-for value comes last ("from A to B?")
    text = at >= 0 ? text.slice(0, at) + value + text.slice(at + before.length) : `${text} (${name.replace(/_/g, " ")}: ${value})`;
  }
  return text;
}

function answer(item, approved, fields) {
  const frame = { type: "interrupt_response", thread_id: item.frame.thread_id, approved, interrupt_id: item.frame.interrupt_id };
  const edits = {};
  for (const [name, input] of Object.entries(fields)) {
    if (input.value !== String(item.frame[name] ?? "")) edits[name] = input.value;
  }
  if (approved && Object.keys(edits).length) {
    frame.edits = edits;
    item.edits = edits;
  }
  item.answer = approved ? "approved" : "rejected";
  expectTurn(item.frame.thread_id);
  save();
  renderLog();
  connection.send(frame);
}

function answerQuestion(item, value) {
  item.answer = "answered";
  item.value = value;
  respond(item, { interrupt_id: item.frame.interrupt_id, value });
}

function dismiss(item) {
  dismissOpenCards(thread(item.frame.thread_id)?.items ?? [item]);
  respond(item, { cancelled: true });
}

function respond(item, answer) {
  expectTurn(item.frame.thread_id);
  save();
  renderLog();
  connection.send({ type: "interrupt_response", thread_id: item.frame.thread_id, ...answer });
}

function stop() {
  const t = current();
  if (!running.has(t.id) || stopping.has(t.id)) return;
  stopping.add(t.id);
  waiting.delete(t.id);
  closeAgent(t.items);
  renderLog();
  connection.send({ type: "cancel", thread_id: t.id });
}

const FORGOTTEN =
  "The server no longer has this conversation (it expired or the server restarted): " +
  "what you write next starts afresh.";

// A thread is named after its first message; until then, after when it was started.
function freshTitle() {
  return `Started ${new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
}

function welcome() {
  const item = document.createElement("li");
  item.className = "welcome";
  item.textContent = texts.welcome;
  return item;
}

function renderLog() {
  const focused = focusedAnswer();
  const log = $("#log");
  const items = current().items;
  log.replaceChildren(...(items.length ? items.map(renderItem) : [welcome()]));
  if (waiting.has(current().id)) log.append(typingIndicator());
  if (current().progress) log.append(progressLine(current().progress));
  showNewest(log);
  const stopButton = $("#stop");
  stopButton.hidden = !running.has(current().id);
  stopButton.disabled = stopping.has(current().id);
  if (focused && document.getElementById(focused.id)) {
    const again = document.getElementById(focused.id);
    again.focus();
    if (focused.caret !== null) again.setSelectionRange(focused.caret, focused.caret);
  }
  const pending = log.querySelector(".approval-card button.primary, .question-card input");
  if (pending && document.activeElement === document.body) pending.focus();
}

// The answer box being typed into, if any: rendering replaces it, so its focus and caret are put back.
function focusedAnswer() {
  const active = document.activeElement;
  if (!active || !active.id || !active.id.startsWith("answer-") || !$("#log").contains(active)) return null;
  return { id: active.id, caret: active.selectionStart };
}

function updateLast(item) {
  const node = $("#log").lastElementChild;
  if (!node) return renderLog();
  const p = node.querySelector("p");
  if (!p) return renderLog();
  p.textContent = item.text;
  showNewest($("#log"));
}

// Scroll the message list only: scrollIntoView would scroll the page too, taking header and input away.
function showNewest(log) {
  log.scrollTop = log.scrollHeight;
}

function renderThreads() {
  const list = $("#thread-list");
  list.replaceChildren(
    ...state.threads.map((t) => {
      const li = document.createElement("li");
      const b = button(t.title, t.id === state.current ? "current" : "", () => switchTo(t.id));
      if (t.id === state.current) b.setAttribute("aria-current", "true");
      li.append(b);
      return li;
    }),
  );
}

function switchTo(id) {
  state.current = id;
  save();
  renderThreads();
  renderLog();
  document.body.classList.remove("show-threads");
  $("#toggle-threads").setAttribute("aria-expanded", "false");
  $("#message").focus();
}

function escapeHtml(text) {
  const div = document.createElement("div");
  div.textContent = text;
  return div.innerHTML;
}

// ------------------------------------------------------------------ actions

function send(text) {
  const t = current();
  if (!t.items.length) t.title = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  closeChoices(t.items);
  t.items.push({ kind: "user", text });
  expectTurn(t.id);
  save();
  renderThreads();
  renderLog();
  connection.send({ type: "message", thread_id: t.id, content: text });
}

function setStatus(kind, text) {
  const status = $("#status");
  status.textContent = text;
  status.dataset.state = kind;
}

// On every (re)connection, ask for what each conversation missed (and any approval still pending).
function resumeAll() {
  for (const t of state.threads) {
    if (t.items.length) connection.send({ type: "resume", thread_id: t.id, after_seq: t.lastSeq ?? 0 });
  }
}

const connect = () =>
  new LiveConnection({ url: state.settings.url, token: state.settings.token, onFrame, onStatus: setStatus, onOpen: resumeAll });
let connection = connect();

$("#composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("#message");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  send(text);
});

$("#message").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("#composer").requestSubmit();
  }
});

$("#stop").addEventListener("click", stop);

$("#new-thread").addEventListener("click", () => {
  const id = newThreadId();
  state.threads.unshift({ id, title: freshTitle(), items: [] });
  switchTo(id);
});

$("#toggle-threads").addEventListener("click", () => {
  const open = document.body.classList.toggle("show-threads");
  $("#toggle-threads").setAttribute("aria-expanded", String(open));
});

$("#open-settings").addEventListener("click", () => {
  $("#ws-url").value = state.settings.url;
  $("#ws-token").value = state.settings.token;
  $("#settings").showModal();
});

$("#settings").addEventListener("close", () => {
  if ($("#settings").returnValue !== "save") return;
  state.settings = { url: $("#ws-url").value.trim() || defaultUrl(), token: $("#ws-token").value.trim() };
  save();
  connection.close();
  connection = connect();
});

let texts = SHOP;
renderThreads();
renderLog();

// At phone width the shop's full example does not fit the input: a short placeholder instead of a clipped one.
const narrow = window.matchMedia("(max-width: 700px)");
function fitPlaceholder() {
  $("#message").placeholder = narrow.matches ? texts.shortPlaceholder : texts.placeholder;
}
narrow.addEventListener("change", fitPlaceholder);
fitPlaceholder();

loadPageTexts().then((served) => {
  texts = served;
  document.title = texts.title;
  $("#page-title").textContent = texts.title;
  fitPlaceholder();
  if (!current().items.length) renderLog();
});
