// Question cards: an `interrupt` of kind `input` asks anything (a name, a choice among options). The card
// shows the question, a text box and Send (or one button per option), and Dismiss; once answered it shows
// the answer and takes no more input.

// The text to show: the frame's `question`, else the interrupt's value when that is text.
export function questionText(frame) {
  if (typeof frame.question === "string" && frame.question) return frame.question;
  if (typeof frame.value === "string" && frame.value) return frame.value;
  return "The assistant needs an answer to go on.";
}

// The value's `options` when it is a list of strings (each becomes a button that answers with it).
export function questionOptions(frame) {
  const options = frame.value && typeof frame.value === "object" ? frame.value.options : null;
  return Array.isArray(options) && options.length && options.every((o) => typeof o === "string") ? options : [];
}

export const answerInputId = (frame) => `answer-${frame.interrupt_id}`;

// `onAnswer(item, value)` sends an answer, `onDismiss(item)` dismisses every pending question.
export function questionCard(item, { onAnswer, onDismiss }) {
  const { frame } = item;
  const card = document.createElement("form");
  card.className = "question-card";
  card.setAttribute("aria-label", "Question");
  const text = document.createElement("p");
  text.className = "question";
  text.textContent = questionText(frame);
  card.append(text);
  if (item.answer) {
    const outcome = document.createElement("p");
    outcome.className = "outcome";
    outcome.textContent = item.answer === "dismissed" ? "You dismissed this." : `You answered: ${item.value}`;
    card.append(outcome);
    return card;
  }
  const options = questionOptions(frame);
  if (options.length) {
    const group = document.createElement("div");
    group.className = "options";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Options");
    for (const option of options) group.append(button(option, "option", () => onAnswer(item, option)));
    card.append(group);
  }
  const row = document.createElement("div");
  row.className = "answer-row";
  const label = document.createElement("label");
  label.className = "visually-hidden";
  label.htmlFor = answerInputId(frame);
  label.textContent = "Your answer";
  const input = document.createElement("input");
  input.id = answerInputId(frame);
  input.autocomplete = "off";
  input.placeholder = options.length ? "Or write your answer" : "Your answer";
  input.value = item.draft ?? "";
  input.addEventListener("input", () => {
    item.draft = input.value;
  });
  const send = button("Send", "primary", () => card.requestSubmit());
  send.type = "submit";
  row.append(label, input, send, button("Dismiss", "", () => onDismiss(item)));
  card.append(row);
  card.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (value) onAnswer(item, value);
    else input.focus();
  });
  return card;
}

export function button(text, className, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.className = className;
  b.addEventListener("click", onClick);
  return b;
}
