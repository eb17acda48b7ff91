// The technician's console: a websocket for live hints, htmx re-reads the panels, ages tick.
// The socket carries only "something changed"; each panel re-renders from the server, so the
// first load and every update show the same HTML. A reconnect re-reads everything.

const PING_MS = 15000;
const console_ = document.querySelector(".console");
const serverOffset = console_ ? Date.parse(console_.dataset.serverNow) - Date.now() : 0;
let socket = null;
let retryDelay = 500;
let refreshTimer = null;

function refreshPanels() {
  // Coalesce bursts (a busy queue moves many times a second) into one re-read.
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => window.htmx && htmx.trigger(document.body, "help-changed"), 100);
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/helpdesk/`);
  socket.addEventListener("open", () => {
    retryDelay = 500;
    document.body.dataset.helpdeskSocket = "open";
    refreshPanels();
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "help.changed") refreshPanels();
    else document.dispatchEvent(new CustomEvent("socket-message", { detail: message })); // for included panels
  });
  socket.addEventListener("close", (event) => {
    document.body.dataset.helpdeskSocket = "closed";
    if (event.code === 4401 || event.code === 4403) return;
    setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10000);
  });
}

function format(seconds) {
  seconds = Math.max(0, Math.floor(seconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

function tick() {
  const now = Date.now() + serverOffset;
  for (const element of document.querySelectorAll("[data-since]")) {
    element.textContent = format((now - Date.parse(element.dataset.since)) / 1000);
  }
  for (const element of document.querySelectorAll("[data-until]")) {
    element.textContent = `${format((Date.parse(element.dataset.until) - now) / 1000)}`;
  }
}

connect();
tick();
setInterval(tick, 1000);
setInterval(() => socket && socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify({ type: "ping" })), PING_MS);
