// The invigilator's room dashboard: keeps the wall and the alert feed live over one
// websocket. The server pushes rendered fragments (the same templates as the first load);
// the database is the truth, so on every (re)connect, and every few seconds, the page asks
// for everything changed since its cursor and nothing pushed-but-dropped stays missing.

import { thumbnailsShow } from "./media-thumbnails.js";
import { staffSocketOpen } from "./staff-socket.js";

const root = document.getElementById("dashboard");
const feed = () => document.getElementById("feed");
const wall = () => document.getElementById("wall");
const statusLine = document.getElementById("live-status");
const SYNC_EVERY_MS = 10000;
const baseTitle = document.title;

let connection = null;
let cursor = root.dataset.renderedAt || null;
let selected = null; // the alert the keyboard is on

function parse(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return template.content.firstElementChild;
}

function later(a, b) {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

function setStatus(text, ok) {
  statusLine.textContent = text;
  statusLine.classList.toggle("ok", !!ok);
  statusLine.classList.toggle("warn", !ok);
}

// --- the alert feed ------------------------------------------------------------------

function upsertAlert(message) {
  const list = feed();
  const existing = document.getElementById(`alert-${message.alert_id}`);
  if (existing && Date.parse(existing.dataset.changed) > Date.parse(message.changed_at)) return; // stale
  const item = parse(message.html);
  const isNewHigh = !existing && message.new && message.severity === "high";
  if (existing) {
    existing.replaceWith(item);
  } else {
    const after = [...list.children].find((li) => Number(li.dataset.sequence) < message.sequence);
    list.insertBefore(item, after || null);
  }
  if (window.htmx) window.htmx.process(item);
  if (selected === message.alert_id) item.classList.add("selected");
  cursor = later(cursor, message.changed_at);
  if (isNewHigh || (!existing && message.new)) announce(item, message.severity === "high");
  refreshCounts();
  applyClosedFilter();
}

function refreshCounts() {
  const open = feed().querySelectorAll('li.alert[data-status="open"], li.alert[data-status="escalated"]').length;
  document.getElementById("unacknowledged-count").textContent = open ? String(open) : "";
  if (!open) document.title = baseTitle;
}

function applyClosedFilter() {
  const showClosed = document.getElementById("show-closed").checked;
  for (const li of feed().children) {
    const closed = li.dataset.status === "resolved" || li.dataset.status === "dismissed";
    li.hidden = closed && !showClosed;
  }
}

let audio = null;
function beep() {
  try {
    audio = audio || new AudioContext();
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.4);
  } catch {
    // No audio before the first user gesture: the title and the badge still change.
  }
}

function announce(item, high) {
  item.classList.add("fresh");
  setTimeout(() => item.classList.remove("fresh"), 3000);
  if (high) {
    beep();
    const count = document.getElementById("unacknowledged-count").textContent || "!";
    document.title = `(${count}) ${root.dataset.labelNewAlert} · ${baseTitle}`;
  }
}

// --- the wall ------------------------------------------------------------------------

function replaceTile(message) {
  const current = document.getElementById(`tile-${message.registration_id}`);
  if (!current) return;
  const tile = parse(message.html);
  // Keep the live thumbnail the media app last sent; the server does not know it.
  const oldThumb = current.querySelector(".tile-thumb");
  const newThumb = tile.querySelector(".tile-thumb");
  if (oldThumb && newThumb && oldThumb.getAttribute("src")) {
    newThumb.src = oldThumb.src;
    newThumb.hidden = false;
  }
  // The tile's extra area (help badge, phone state) is rendered by the server: the new one wins.
  current.replaceWith(tile);
  if (window.htmx) window.htmx.process(tile);
  arrangeWall();
}

function arrangeWall() {
  const container = wall();
  if (!container) return;
  const tiles = [...container.querySelectorAll(".tile")];
  const sort = document.getElementById("wall-sort").value;
  const filter = document.getElementById("wall-filter").value.trim().toLowerCase();
  const state = document.getElementById("wall-state").value;
  const key = {
    alerts: (t) => [-Number(t.dataset.openAlerts), Number(t.dataset.seat)],
    seat: (t) => [Number(t.dataset.seat), 0],
    name: (t) => [t.dataset.name.toLowerCase(), 0],
  }[sort];
  tiles.sort((a, b) => {
    const [a1, a2] = key(a);
    const [b1, b2] = key(b);
    return a1 < b1 ? -1 : a1 > b1 ? 1 : a2 - b2;
  });
  for (const tile of tiles) {
    const text = `${tile.dataset.name} ${tile.dataset.seat}`.toLowerCase();
    let show = !filter || text.includes(filter);
    if (state === "alerts") show = show && Number(tile.dataset.openAlerts) > 0;
    else if (state === "disconnected") show = show && tile.classList.contains("is-disconnected");
    else if (state) show = show && tile.dataset.stage === state;
    tile.hidden = !show;
    container.appendChild(tile);
  }
}

function markSignal(message) {
  const time = document.querySelector(`#tile-${message.registration_id} .last-signal`);
  if (time) {
    time.dateTime = message.at;
    time.textContent = new Date(message.at).toLocaleTimeString([], { hour12: false });
  }
  refreshDrawer(message.registration_id);
}

function refreshDrawer(registrationId) {
  const open = document.querySelector("#drawer .drawer-inner");
  if (open && Number(open.dataset.registration) === Number(registrationId) && window.htmx) {
    window.htmx.trigger(document.body, `drawer-refresh-${registrationId}`);
  }
}

// --- the socket ----------------------------------------------------------------------

function sync() {
  if (connection) connection.send({ type: "sync", since: cursor });
}

const handlers = {
  alert: upsertAlert,
  tile: replaceTile,
  "signal.recorded": markSignal,
  "media.thumbnails": (m) => thumbnailsShow(m),
  "warning.confirmed": (m) => refreshDrawer(m.registration_id),
  "action.recorded": (m) => refreshDrawer(m.registration_id),
  synced: (m) => {
    cursor = later(cursor, m.server_time);
    setStatus(statusLine.dataset.live || "Live", true);
  },
  reload: () => location.reload(),
  "session.revoked": () => {
    connection.stop();
    setStatus(root.dataset.labelOffline, false);
    location.reload(); // the server decides where a signed-out or unassigned user lands
  },
};

// --- keyboard ------------------------------------------------------------------------

function openAlerts() {
  return [...feed().querySelectorAll('li.alert[data-status="open"], li.alert[data-status="escalated"]')].filter(
    (li) => !li.hidden,
  );
}

function select(li) {
  for (const other of feed().querySelectorAll("li.selected")) other.classList.remove("selected");
  selected = li ? Number(li.dataset.alert) : null;
  if (li) {
    li.classList.add("selected");
    li.focus({ preventScroll: false });
  }
}

function currentAlert() {
  return selected === null ? null : document.getElementById(`alert-${selected}`);
}

document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, textarea, select") || event.ctrlKey || event.metaKey || event.altKey) return;
  const list = openAlerts();
  const current = currentAlert();
  const index = current ? list.indexOf(current) : -1;
  const press = (action) => current?.querySelector(`button[data-action="${action}"]`)?.click();
  switch (event.key) {
    case "j":
      select(list[Math.min(index + 1, list.length - 1)] || null);
      break;
    case "k":
      select(list[Math.max(index - 1, 0)] || null);
      break;
    case "a":
      press("acknowledge");
      break;
    case "r":
      press("resolve");
      break;
    case "d":
      current?.querySelector('input[name="reason"]')?.focus();
      break;
    case "o":
      current?.querySelector(".alert-who a")?.click();
      break;
    case "Escape":
      document.getElementById("drawer").innerHTML = "";
      break;
    default:
      return;
  }
  event.preventDefault();
});

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-drawer-close]")) {
    event.preventDefault();
    document.getElementById("drawer").innerHTML = "";
  }
  const tile = event.target.closest(".tile");
  if (tile && !event.target.closest("a, button")) tile.querySelector(".tile-open")?.click();
});

// A refused move (someone else got there first) answers 409 with the alert as it is now.
document.body.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 409) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
document.body.addEventListener("alertError", (event) => {
  const box = document.getElementById("feed-error");
  box.textContent = event.detail.value;
  box.hidden = false;
  setTimeout(() => (box.hidden = true), 5000);
});
document.body.addEventListener("htmx:afterSwap", () => {
  refreshCounts();
  applyClosedFilter();
});

for (const id of ["wall-filter", "wall-sort", "wall-state"]) {
  document.getElementById(id).addEventListener("input", arrangeWall);
}
document.getElementById("show-closed").addEventListener("change", applyClosedFilter);
window.addEventListener("focus", () => {
  if (!openAlerts().length) document.title = baseTitle;
});
document.body.addEventListener("htmx:afterSettle", (event) => {
  if (event.target.id === "wall") arrangeWall();
});

statusLine.dataset.live = statusLine.dataset.live || "Live";
arrangeWall();
refreshCounts();
applyClosedFilter();
setInterval(sync, SYNC_EVERY_MS);
connection = staffSocketOpen({
  path: root.dataset.socket,
  handlers,
  onOpen: sync,
  onOffline: () => setStatus(root.dataset.labelOffline, false),
  // The tiles may be stale too: the wall reloads them when the socket is back.
  onReconnect: () => window.htmx && window.htmx.trigger(document.body, "wall-reload"),
});
