// The supervisor's live view of one exam: rooms and escalations over the exam's socket.
// The server pushes rendered rows (the same template as the first load); a (re)connect asks
// for everything again, so nothing dropped stays missing. A new escalation beeps.

import { staffSocketOpen } from "./staff-socket.js";

const root = document.getElementById("supervision");
const statusLine = document.getElementById("live-status");
const baseTitle = document.title;
let connection = null;
let changedTimer = null;

function parse(html, wrapper = "template") {
  const template = document.createElement(wrapper);
  template.innerHTML = html.trim();
  return wrapper === "template" ? template.content.firstElementChild : template.querySelector("tr");
}

function setStatus(text, ok) {
  if (!statusLine) return;
  statusLine.textContent = text;
  statusLine.classList.toggle("ok", !!ok);
  statusLine.classList.toggle("warn", !ok);
}

// Panels that re-read themselves (the invigilator's figures) listen for this, coalesced.
function changed() {
  clearTimeout(changedTimer);
  changedTimer = setTimeout(() => window.htmx && window.htmx.trigger(document.body, "supervision-changed"), 200);
}

function sortRooms() {
  const body = document.getElementById("rooms");
  if (!body) return;
  const rows = [...body.querySelectorAll("tr.room-row")];
  rows.sort((a, b) => Number(b.dataset.attention) - Number(a.dataset.attention) || a.dataset.name.localeCompare(b.dataset.name));
  for (const row of rows) body.appendChild(row);
}

function replaceRoom(message) {
  changed();
  const body = document.getElementById("rooms");
  if (!body) return;
  const table = document.createElement("table");
  table.innerHTML = `<tbody>${message.html.trim()}</tbody>`;
  const row = table.querySelector("tr");
  const current = document.getElementById(`room-${message.room_id}`);
  if (current) current.replaceWith(row);
  else body.appendChild(row);
  if (window.htmx) window.htmx.process(row);
  sortRooms();
}

let audio = null;
function beep() {
  try {
    audio = audio || new AudioContext();
    for (const [delay, frequency] of [[0, 660], [0.25, 880]]) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.2, audio.currentTime + delay);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + delay + 0.3);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(audio.currentTime + delay);
      oscillator.stop(audio.currentTime + delay + 0.3);
    }
  } catch {
    // No audio before the first user gesture: the title and the highlight still change.
  }
}

function replaceEscalations(message) {
  changed();
  const current = document.getElementById("escalations");
  if (current) {
    const fresh = parse(message.html);
    current.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
    if (message.new) {
      fresh.classList.add("fresh");
      setTimeout(() => fresh.classList.remove("fresh"), 3000);
    }
  }
  if (message.new) {
    beep();
    root.dataset.lastEscalationSound = String(Date.now()); // for tests and for the curious
    document.title = `(${message.count}) ${root.dataset.labelEscalation} · ${baseTitle}`;
  } else if (!message.count) {
    document.title = baseTitle;
  }
}

const handlers = {
  room: replaceRoom,
  escalations: replaceEscalations,
  synced: () => setStatus(statusLine?.dataset.live || "Live", true),
  "supervision.note_added": changed,
  reload: () => location.reload(),
  "session.revoked": () => {
    connection.stop();
    location.reload();
  },
};

window.addEventListener("focus", () => {
  if (!document.querySelector("#escalations .escalation")) document.title = baseTitle;
});
sortRooms();
connection = staffSocketOpen({
  path: root.dataset.socket,
  handlers,
  onOpen: () => connection.send({ type: "sync" }),
  onOffline: () => setStatus(root.dataset.labelOffline, false),
});
