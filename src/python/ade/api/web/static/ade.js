// ADE's only script: the pages work without it; it adds confirmations, uploads with progress
// (picker or drag and drop) and the live run page. Everything shown is set with textContent.

const EVENT_TYPES = [
  "worker.claimed", "worker.retry_scheduled", "worker.failed", "worker.finished", "worker.released",
  "run.started", "run.finished", "run.failed", "sheet.started", "sheet.finished",
  "table.found", "table.progress", "table.finished",
];

function confirmForms() {
  for (const form of document.querySelectorAll("form[data-confirm]:not([data-bound])")) {
    form.dataset.bound = "true";
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

function formatBytes(size) {
  // Binary units, as pages.filesize writes them: 1073741824 bytes is "1 GiB".
  if (size < 1024) return `${size} bytes`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(1).replace(/\.0$/, "")} ${units[unit]}`;
}

function setupUpload(zone) {
  const input = zone.querySelector("input[type=file]");
  const progress = zone.querySelector("progress");
  const status = zone.querySelector("[role=status]");
  const maxBytes = Number(zone.dataset.maxBytes);
  const accepted = zone.dataset.accept.split(",");

  const say = (text, isError) => {
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  };

  function upload(file) {
    if (!file) return;
    const name = file.name.toLowerCase();
    if (!accepted.some((suffix) => name.endsWith(suffix))) {
      say(`“${file.name}” is not a file ADE can read. It reads ${zone.dataset.formats}.`, true);
      return;
    }
    if (file.size > maxBytes) {
      // Sizes that round alike ("293 KiB") are told apart in bytes.
      const [size, limit] = formatBytes(file.size) === formatBytes(maxBytes)
        ? [`${file.size.toLocaleString("en")} bytes`, `${maxBytes.toLocaleString("en")} bytes`]
        : [formatBytes(file.size), formatBytes(maxBytes)];
      say(`“${file.name}” is too large: ${size}, and the limit is ${limit}.`, true);
      return;
    }
    if (file.size === 0) {
      say(`“${file.name}” is empty: there is nothing to upload.`, true);
      return;
    }
    const request = new XMLHttpRequest();
    request.open("POST", `${zone.dataset.uploadUrl}?filename=${encodeURIComponent(file.name)}`);
    request.setRequestHeader("X-CSRF-Token", zone.dataset.csrf);
    request.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    progress.hidden = false;
    progress.value = 0;
    input.disabled = true;
    say(`Uploading “${file.name}”…`);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) progress.value = Math.round((event.loaded / event.total) * 100);
    });
    request.addEventListener("load", () => {
      input.disabled = false;
      let body = {};
      try { body = JSON.parse(request.responseText); } catch { body = {}; }
      if (request.status === 201 && body.run_url) {
        progress.value = 100;
        say(`Uploaded “${file.name}”. Opening its run…`);
        window.location.assign(body.run_url);
      } else if (request.status === 201) {
        window.location.reload();
      } else if (request.responseURL.includes("/sign-in")) {
        progress.hidden = true;
        say("You have been signed out: reload the page, sign in and upload again.", true);
      } else {
        progress.hidden = true;
        say(`Upload failed: ${body.detail || `the server answered ${request.status}`}`, true);
      }
    });
    request.addEventListener("error", () => {
      input.disabled = false;
      progress.hidden = true;
      say(`Upload of “${file.name}” failed: the connection was closed. Is it larger than ${formatBytes(maxBytes)}?`, true);
    });
    request.send(file);
  }

  input.addEventListener("change", () => upload(input.files[0]));
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    upload(event.dataTransfer.files[0]);
  });
}

function plural(count, word) {
  const number = Number(count) || 0;
  return `${number.toLocaleString()} ${word}${number === 1 ? "" : "s"}`;
}

function describe(type, payload) {
  const p = payload || {};
  switch (type) {
    case "worker.claimed": return `A worker started the run${p.attempt > 1 ? ` (attempt ${p.attempt})` : ""}.`;
    case "worker.retry_scheduled": return "A temporary problem: the run will be tried again.";
    case "run.started": return `Reading ${p.file || "the file"}.`;
    case "sheet.started": return `Sheet “${p.sheet}”.`;
    case "sheet.finished": return `Sheet “${p.sheet}” done.`;
    case "worker.finished": return "Outputs saved.";
    case "table.found": return `Found table ${p.table} on sheet “${p.sheet}”.`;
    case "table.progress": return `Table ${p.table}: ${plural(p.rows, "row")} so far.`;
    case "table.finished": return `Table ${p.table} done: ${plural(p.rows, "row")}.`;
    case "run.finished": return `Finished: ${plural(p.tables, "table")}, ${plural(p.rows, "row")}.`;
    case "run.failed": return `Failed: ${p.message || p.code || ""}`;
    default: return type;
  }
}

function setupLiveRun(panel) {
  let ended = false;
  const refresh = async () => {
    const reply = await fetch(panel.dataset.panelUrl, { credentials: "same-origin" });
    if (reply.redirected) {  // signed out meanwhile: sign in again, then back to this run
      window.location.assign(`/sign-in?next=${encodeURIComponent(window.location.pathname)}`);
      return true;
    }
    if (!reply.ok) return false;
    panel.innerHTML = await reply.text();  // our own server-rendered, escaped HTML
    panel.dataset.live = document.getElementById("run-log") ? "true" : "false";
    confirmForms();
    return true;
  };
  const source = new EventSource(panel.dataset.eventsUrl);
  const onEvent = (message) => {
    const event = JSON.parse(message.data);
    const status = document.getElementById("run-status");
    const detail = document.getElementById("run-detail");
    if (event.type === "worker.claimed" && status) {
      status.textContent = "Running";
      status.className = "status status-running";
      if (detail) detail.textContent = "— extracting";
    }
    const log = document.getElementById("run-log");
    if (log) {
      const item = document.createElement("li");
      item.textContent = describe(event.type, event.payload);
      log.append(item);
    }
  };
  for (const type of EVENT_TYPES) source.addEventListener(type, onEvent);
  source.addEventListener("end", async () => {
    ended = true;
    source.close();
    await refresh();
  });
  source.addEventListener("error", () => {
    // The stream broke (server restart, signed out): fall back to reloading the panel.
    if (ended || source.readyState !== EventSource.CLOSED) return;
    const poll = async () => {
      if (await refresh() && panel.dataset.live === "false") return;
      window.setTimeout(poll, 3000);
    };
    poll();
  });
}

// A JSON error names "line 2, column 20": its button puts the cursor there in the text box
// (which has no line numbers) and scrolls to it.
function setupGoto() {
  for (const button of document.querySelectorAll("button[data-goto]")) {
    button.addEventListener("click", () => {
      const match = /line (\d+), column (\d+)/.exec(button.dataset.goto);
      const editor = document.getElementById(button.getAttribute("aria-controls"));
      if (!match || !editor) return;
      const lines = editor.value.split("\n");
      const line = Math.min(Number(match[1]), lines.length);
      let offset = 0;
      for (let i = 0; i < line - 1; i += 1) offset += lines[i].length + 1;
      offset += Math.min(Number(match[2]) - 1, lines[line - 1].length);
      editor.focus();
      editor.setSelectionRange(offset, offset);
      const height = parseFloat(getComputedStyle(editor).lineHeight) || 18;
      editor.scrollTop = Math.max(0, (line - 3) * height);
    });
  }
}

confirmForms();
setupGoto();
const zone = document.getElementById("upload");
if (zone) setupUpload(zone);
const panel = document.getElementById("run-panel");
if (panel && panel.dataset.live === "true") setupLiveRun(panel);
