// Integrity signals from the candidate's exam page, and the invigilator's warnings.
//
// Every signal carries this page load's client id, a sequence number and the client's
// clock, so the server stores each one once even when the socket resends it. What the
// browser cannot tell:
//   - more than one screen: only Chromium-based browsers have screen.isExtended and the
//     screen "change" event; Firefox and Safari cannot tell (reported as unsupported);
//   - screenshots taken by the operating system (Win+Shift+S, phone cameras) never reach
//     the page; PrintScreen is seen on keyup in most browsers, Cmd+Shift+3/4/5 on macOS;
//   - "devtools open" is a heuristic (docked devtools shrink the inner window).
import { candidateSocket } from "/static/js/candidate-socket.js";

const HEARTBEAT_MS = 5000;
const DEVTOOLS_CHECK_MS = 2000;
const client = (crypto.randomUUID && crypto.randomUUID()) || `${Date.now()}-${Math.random()}`;
let seq = 0;

function signal(kind, data = {}) {
  seq += 1;
  candidateSocket.send({ type: "signal", kind, seq, at: Date.now(), client, data });
}

// Heartbeats only while connected: a queue of stale ones would hide the gap.
function heartbeat() {
  if (!candidateSocket.connected) return;
  seq += 1;
  candidateSocket.send({ type: "signal", kind: "heartbeat", seq, at: Date.now(), client });
}

// --- leaving the page: focus, visibility, full screen -------------------------------
let blurredAt = null;
let hiddenAt = null;
window.addEventListener("blur", () => {
  blurredAt = Date.now();
  signal("focus_lost");
});
window.addEventListener("focus", () => {
  if (blurredAt !== null) signal("focus_gained", { away_ms: Date.now() - blurredAt });
  blurredAt = null;
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") {
    hiddenAt = Date.now();
    signal("page_hidden");
  } else if (hiddenAt !== null) {
    signal("page_visible", { away_ms: Date.now() - hiddenAt });
    hiddenAt = null;
  }
});
let wasFullscreen = !!document.fullscreenElement;
document.addEventListener("fullscreenchange", () => {
  const now = !!document.fullscreenElement;
  if (now !== wasFullscreen) signal(now ? "fullscreen_entered" : "fullscreen_exited");
  wasFullscreen = now;
});

// --- screens -------------------------------------------------------------------------
const screenSupported = typeof window.screen.isExtended === "boolean";
let extended = false;
function checkScreens() {
  if (!screenSupported) return;
  if (window.screen.isExtended !== extended) {
    extended = window.screen.isExtended;
    signal(extended ? "multiple_screens" : "single_screen");
  }
}
if (screenSupported && "onchange" in window.screen) window.screen.addEventListener("change", checkScreens);

// --- keys, clipboard, context menu -----------------------------------------------------
function keyKind(event) {
  const mac = event.metaKey && event.shiftKey && ["3", "4", "5", "#", "$", "%"].includes(event.key);
  if (mac) return ["screenshot_key", { key: `Meta+Shift+${event.key}` }];
  const mod = event.ctrlKey || event.metaKey;
  if (event.key === "F12" || (mod && event.shiftKey && ["I", "J", "C", "i", "j", "c"].includes(event.key))) {
    return ["shortcut", { key: event.key, devtools: true }];
  }
  if (mod && ["p", "P", "s", "S", "u", "U"].includes(event.key)) return ["shortcut", { key: `Ctrl+${event.key}` }];
  return null;
}
// PrintScreen reaches the page on keyup only (the OS takes the keydown): one signal a press.
document.addEventListener("keydown", (event) => {
  const found = keyKind(event);
  if (!found || event.key === "PrintScreen") return;
  if (found[0] === "shortcut") event.preventDefault();
  signal(found[0], found[1]);
});
document.addEventListener("keyup", (event) => {
  if (event.key === "PrintScreen") signal("screenshot_key", { key: "PrintScreen" });
});
for (const kind of ["copy", "cut", "paste"]) {
  document.addEventListener(kind, (event) => {
    event.preventDefault(); // the notice forbids copying the questions
    signal(kind);
  });
}
document.addEventListener("contextmenu", (event) => {
  event.preventDefault();
  signal("context_menu");
});

// --- devtools (heuristic), leaving, network -------------------------------------------
let devtoolsOpen = false;
setInterval(() => {
  const open = window.outerWidth - window.innerWidth > 200 || window.outerHeight - window.innerHeight > 250;
  if (open && !devtoolsOpen) signal("devtools_opened", { heuristic: "window_size" });
  devtoolsOpen = open;
}, DEVTOOLS_CHECK_MS);
window.addEventListener("beforeunload", () => signal("page_unload"));
window.addEventListener("offline", () => signal("offline"));
window.addEventListener("online", () => signal("online"));

// --- warnings from the invigilator ------------------------------------------------------
const overlay = document.getElementById("integrity-warning");
const queue = [];
const shown = new Set();
function showNext() {
  if (!overlay || !overlay.hidden || !queue.length) return;
  const warning = queue[0];
  document.getElementById("integrity-warning-text").textContent = warning.message;
  overlay.hidden = false;
  overlay.dataset.warning = String(warning.warning_id);
  document.getElementById("integrity-warning-ok").focus();
}
function warn(warning) {
  if (shown.has(warning.warning_id)) return;
  shown.add(warning.warning_id);
  queue.push(warning);
  showNext();
}
document.getElementById("integrity-warning-ok")?.addEventListener("click", () => {
  const warning = queue.shift();
  overlay.hidden = true;
  if (warning) candidateSocket.send({ type: "warning.confirm", warning_id: warning.warning_id });
  showNext();
});
candidateSocket.on("warning.issued", warn);
candidateSocket.on("warnings.pending", (message) => message.warnings.forEach(warn));

candidateSocket.on("socket.open", () => {
  heartbeat();
  candidateSocket.send({ type: "warnings.pending" });
});
candidateSocket.start();
signal("page_loaded", { screen_extended_supported: screenSupported });
checkScreens();
setInterval(heartbeat, HEARTBEAT_MS);
