// The candidate's Help button: a short form, then the live status of the request.
// Signed in, the status follows "help.updated" on the page's one websocket; on the sign-in
// page (no websocket yet) it polls. The server renders the status; this only swaps it in.
import { candidateSocket } from "./candidate-socket.js";

const widget = document.getElementById("help-widget");
const lastErrors = [];
const POLL_SIGNED_OUT_MS = 4000;
// While waiting, the queue position changes as others are served; re-read it now and then.
const POLL_WAITING_MS = 15000;

window.addEventListener("error", (event) => remember(event.message));
window.addEventListener("unhandledrejection", (event) => remember(String(event.reason)));
function remember(message) {
  lastErrors.push({ message: String(message).slice(0, 200), at: new Date().toISOString() });
  if (lastErrors.length > 10) lastErrors.shift();
}

function storedJson(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) || localStorage.getItem(key) || "null");
  } catch {
    return null;
  }
}

// What the page knows by itself. The journey pages store their device check under
// "invigilate.device-check"; anything unknown is simply left out.
function diagnostics() {
  const connection = navigator.connection || {};
  return {
    userAgent: navigator.userAgent,
    platform: navigator.userAgentData?.platform || navigator.platform,
    language: navigator.language,
    screen: `${screen.width}x${screen.height}`,
    viewport: `${innerWidth}x${innerHeight}`,
    online: navigator.onLine,
    connection: { type: connection.effectiveType, downlinkMbps: connection.downlink, rttMs: connection.rtt },
    socketConnected: candidateSocket.connected,
    page: location.pathname,
    deviceCheck: storedJson("invigilate.device-check"),
    lastErrors,
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    clientTime: new Date().toISOString(),
  };
}

if (widget) {
  const statusBox = document.getElementById("help-status");
  const dialog = document.getElementById("help-dialog");
  const form = document.getElementById("help-form");
  const errorBox = document.getElementById("help-error");
  const statusUrl = widget.dataset.statusUrl;

  const current = () => statusBox.querySelector("[data-status]");
  const isOpen = () => current()?.dataset.open === "1";

  async function refresh() {
    const response = await fetch(statusUrl, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" });
    if (response.ok) statusBox.innerHTML = await response.text();
  }

  document.getElementById("help-button").addEventListener("click", () => {
    errorBox.hidden = true;
    dialog.showModal();
  });
  document.getElementById("help-close").addEventListener("click", () => dialog.close());

  async function post(targetForm) {
    const response = await fetch(targetForm.action, {
      method: "POST",
      body: new FormData(targetForm),
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
    });
    const text = await response.text();
    return { ok: response.ok, text };
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.elements.diagnostics.value = JSON.stringify(diagnostics());
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const { ok, text } = await post(form);
      if (ok) {
        statusBox.innerHTML = text;
        form.elements.description.value = "";
        dialog.close();
      } else {
        errorBox.textContent = text;
        errorBox.hidden = false;
      }
    } catch {
      errorBox.textContent = navigator.onLine ? "…" : "offline";
      errorBox.hidden = false;
    } finally {
      button.disabled = false;
    }
  });

  // The cancel form inside the status is replaced on every refresh: listen on the box.
  statusBox.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { ok, text } = await post(event.target);
    if (ok) statusBox.innerHTML = text;
  });

  if (widget.dataset.live === "socket") {
    candidateSocket.on("help.updated", refresh);
    candidateSocket.on("socket.open", (message) => message.reconnected && refresh());
    candidateSocket.start();
    setInterval(() => {
      const status = current()?.dataset.status;
      if (status === "queued" || status === "offered") refresh();
    }, POLL_WAITING_MS);
  } else {
    setInterval(() => isOpen() && refresh(), POLL_SIGNED_OUT_MS);
  }
}
