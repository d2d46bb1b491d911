// Progress a graph reports with `get_stream_writer()`: a `custom` value with `step` (text) and/or
// `progress` (a number from 0 to 1), shown as one line under the answer while the turn runs.

// The progress a custom value reports, or null when it reports none (it is then not shown at all).
export function progressOf(value) {
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  const step = typeof value.step === "string" && value.step ? value.step : null;
  const progress = typeof value.progress === "number" && Number.isFinite(value.progress) ? value.progress : null;
  if (step === null && progress === null) return null;
  return { step, progress: progress === null ? null : Math.min(1, Math.max(0, progress)) };
}

export function progressLine({ step, progress }) {
  const li = document.createElement("li");
  li.className = "progress-line";
  li.setAttribute("role", "status");
  const words = document.createElement("span");
  words.textContent = [step, progress === null ? null : `${Math.round(progress * 100)}%`].filter(Boolean).join(" · ");
  li.append(words);
  if (progress !== null) {
    const bar = document.createElement("progress");
    bar.max = 1;
    bar.value = progress;
    bar.setAttribute("aria-hidden", "true");
    li.append(bar);
  }
  return li;
}
