// The exam's countdown, on the server's clock.
//
// The page is rendered with the server's time; the offset to this computer's clock is
// refined over the candidate socket ("clock" messages, half the round trip added). The
// element #exam-clock shows the time to the start, then the time left. Other modules
// listen on document for:
//   "exam-clock:started"  the start time has passed (waiting room opens the exam)
//   "exam-clock:warning"  detail.minutes = 5 or 1 before the end
//   "exam-clock:ended"    the end time has passed
import { candidateSocket } from "./candidate-socket.js";

const element = document.getElementById("exam-clock");
let offset = 0; // server time minus local time, in ms

export function serverNow() {
  return Date.now() + offset;
}

function format(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return hours ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${pad(minutes)}:${pad(seconds)}`;
}

function announce(name, detail = {}) {
  document.dispatchEvent(new CustomEvent(name, { detail }));
}

if (element) {
  offset = Date.parse(element.dataset.serverNow) - Date.now();
  const startsAt = Date.parse(element.dataset.startsAt);
  const endsAt = Date.parse(element.dataset.endsAt);
  const warning = document.getElementById("clock-warning");
  const label = element.querySelector(".clock-label");
  const value = element.querySelector(".clock-value");
  const fired = new Set();
  // Warnings only for moments still ahead when the page loaded (a reload does not repeat them).
  const pageLoadedAt = serverNow();

  function fireOnce(key, when, name, detail) {
    if (fired.has(key) || serverNow() < when) return;
    fired.add(key);
    if (when >= pageLoadedAt || key === "started" || key === "ended") announce(name, detail);
  }

  function tick() {
    const now = serverNow();
    if (now < startsAt) {
      label.textContent = element.dataset.labelBefore;
      value.textContent = format(startsAt - now);
    } else if (now < endsAt) {
      label.textContent = element.dataset.labelDuring;
      value.textContent = format(endsAt - now);
    } else {
      label.textContent = element.dataset.labelAfter;
      value.textContent = "00:00";
    }
    element.classList.toggle("urgent", now >= endsAt - 5 * 60000 && now < endsAt);
    fireOnce("started", startsAt, "exam-clock:started");
    for (const minutes of [5, 1]) {
      fireOnce(`warn-${minutes}`, endsAt - minutes * 60000, "exam-clock:warning", { minutes });
    }
    fireOnce("ended", endsAt, "exam-clock:ended");
  }

  document.addEventListener("exam-clock:warning", (event) => {
    if (!warning || !document.body.classList.contains("stage-in_exam")) return;
    warning.textContent = event.detail.minutes === 1 ? warning.dataset.one : warning.dataset.five;
    warning.hidden = false;
  });

  candidateSocket.on("clock", (message) => {
    const sentAt = Number(message.echo);
    if (!sentAt) return;
    const received = Date.now();
    offset = Date.parse(message.server_time) + (received - sentAt) / 2 - received;
  });
  // The server moved this candidate on (identity approved, exam opened elsewhere): follow it.
  // A page with work to finish first (the exam page: recordings) cancels "journey:moving" and
  // goes itself once done.
  candidateSocket.on("journey.changed", (message) => {
    const current = [...document.body.classList].find((name) => name.startsWith("stage-"));
    if (current === `stage-${message.stage}`) return;
    const url = element.closest("body").dataset.journeyUrl || "/exams/journey/";
    const moving = new CustomEvent("journey:moving", { cancelable: true, detail: { stage: message.stage, url } });
    if (document.dispatchEvent(moving)) location.assign(url);
  });
  candidateSocket.on("socket.open", () => candidateSocket.send({ type: "clock", sent_at: Date.now() }));
  setInterval(() => candidateSocket.send({ type: "clock", sent_at: Date.now() }), 30000);
  candidateSocket.start();
  tick();
  setInterval(tick, 250);
}
