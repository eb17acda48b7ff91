// The phone's evidence camera: checks, the room sweep, placement, recording for the whole
// exam, and the upload screen. Which step the phone is on is kept in IndexedDB, so a reload
// (or a phone restart) comes back to the same step; recording restarts on its own and the
// time it was off is reported as an interruption.
//
// From placement until the exam ends the phone also sends its camera (video only, at the
// sender's low rate) to a media worker over WebRTC, so the invigilator sees it in the focus
// view. It signals on its own socket (/ws/phone/, authorised by the pairing), where the
// invigilator's placement corrections arrive too; the candidate confirms them here.

import { candidateSocket } from "./candidate-socket.js";
import {
  SegmentRecorder, UploadQueue, interruptedRecording, interruptionReport, stateGet, stateSet,
} from "./evidence-pipeline.js";
import { startMedia } from "./media-sender.js";

const root = document.getElementById("evidence-phone");
const config = JSON.parse(document.getElementById("evidence-config").textContent);
// Translated strings come with the page (config.strings), keyed by their English text.
const gettext = (text) => (config.strings && config.strings[text]) || text;
const queue = new UploadQueue({
  owner: config.registration, tusEndpoint: config.tusEndpoint, reportUrl: config.reportUrl,
  interruptionUrl: config.interruptionUrl,
});
const stepKey = `step:${config.registration}`;
let stream = null;
let recorder = null;
let hiddenSince = null;
let cameraLostAt = null;
let live = null;
let liveStarting = false;

function $(selector) {
  return root.querySelector(selector);
}

async function show(step) {
  root.dataset.step = step;
  if (step === "placement" || step === "recording") liveStart();
  if (step === "uploads") liveStop();
  for (const panel of root.querySelectorAll("[data-step-panel]")) panel.hidden = panel.dataset.stepPanel !== step;
  for (const video of root.querySelectorAll(`[data-step-panel="${step}"] video`)) {
    if (stream && video.srcObject !== stream) video.srcObject = stream;
  }
  await stateSet(stepKey, step);
}

function fail(message) {
  const box = $("[data-testid=phone-error]");
  box.textContent = message;
  box.hidden = !message;
}

function mark(check, state, text) {
  const result = root.querySelector(`[data-check="${check}"] .result`);
  result.className = `result ${state}`;
  result.textContent = text;
}

async function openCamera() {
  stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: "environment", width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 15 } },
    audio: true,
  });
  for (const track of stream.getTracks()) track.addEventListener("ended", cameraLost);
  return stream;
}

async function wakeLock() {
  try {
    await navigator.wakeLock.request("screen");
    return true;
  } catch {
    return false;
  }
}

async function runChecks() {
  let ok = true;
  try {
    await openCamera();
    mark("camera", "ok", stream.getVideoTracks().length ? gettext("OK") : gettext("Missing"));
    mark("microphone", "ok", stream.getAudioTracks().length ? gettext("OK") : gettext("Missing"));
    ok = stream.getVideoTracks().length > 0 && stream.getAudioTracks().length > 0;
  } catch (error) {
    mark("camera", "fail", gettext("Not allowed or not found"));
    mark("microphone", "fail", gettext("Not allowed or not found"));
    fail(gettext("Allow this page to use the camera and the microphone, then reload it."));
    ok = false;
  }
  const hoursLeft = Math.max(0.5, (new Date(config.examEndsAt) - Date.now()) / 3600000 + 0.25);
  const needBytes = hoursLeft * 3600 * ((config.videoKbps + 64) * 1000 / 8) * 1.2;
  if (navigator.storage && navigator.storage.estimate) {
    const { quota = 0, usage = 0 } = await navigator.storage.estimate();
    const free = quota - usage;
    mark("storage", free >= needBytes ? "ok" : "warn",
      `${(free / 1e9).toFixed(1)} GB / ${(needBytes / 1e9).toFixed(1)} GB`);
  } else {
    mark("storage", "warn", gettext("Unknown"));
  }
  if (navigator.getBattery) {
    const battery = await navigator.getBattery();
    // Continuous recording uses roughly a third of a battery an hour: warn below that.
    const enough = battery.charging || battery.level >= Math.min(1, hoursLeft / 3);
    mark("battery", enough ? "ok" : "warn",
      `${Math.round(battery.level * 100)}%${battery.charging ? " ⚡" : ""}${enough ? "" : " — " + gettext("plug the phone in")}`);
  } else {
    mark("battery", "warn", gettext("Unknown: keep the phone plugged in"));
  }
  mark("wakelock", (await wakeLock()) ? "ok" : "warn",
    (await wakeLock()) ? gettext("OK") : gettext("Set the screen to stay on in the phone's settings"));
  $("[data-action=to-sweep]").disabled = !ok;
}

async function sweep() {
  const start = $("[data-action=sweep-start]");
  const done = $("[data-action=sweep-done]");
  start.hidden = true;
  done.hidden = false;
  recorder = new SegmentRecorder({
    stream, kind: "sweep", segmentSeconds: config.segmentSeconds, queue, videoKbps: config.videoKbps,
  });
  await recorder.start();
  const began = Date.now();
  const countdown = $("[data-testid=sweep-countdown]");
  const timer = setInterval(() => {
    const left = Math.ceil(config.sweepSeconds - (Date.now() - began) / 1000);
    countdown.textContent = left > 0 ? String(left) : "✓";
    if (left <= 0) {
      done.disabled = false;
      clearInterval(timer);
    }
  }, 250);
  done.addEventListener("click", async () => {
    done.disabled = true;
    await recorder.stop();
    recorder = null;
    await show("placement");
  }, { once: true });
}

async function startRecording() {
  recorder = new SegmentRecorder({
    stream, kind: "phone", segmentSeconds: config.segmentSeconds, queue, videoKbps: config.videoKbps,
  });
  await recorder.start();
  await show("recording");
  pollState();
}

// --- the live view and placement corrections ------------------------------------------

function liveState(state) {
  const element = $("[data-testid=live-state]");
  element.dataset.state = state;
  element.textContent = `${gettext("Live view to the invigilator")}: ${gettext(state)}`;
}

async function liveStart() {
  if (live || liveStarting || !stream || !stream.getVideoTracks().length) return;
  liveStarting = true;
  try {
    // Video only: the PC's microphone is the candidate's sound; the phone records its own.
    live = await startMedia({
      camera: new MediaStream(stream.getVideoTracks()), source: "phone", iceServers: config.iceServers,
    });
    live.onstate = liveState;
    liveState(live.state);
    window.invigilatePhoneMedia = live;
  } catch (error) {
    console.warn("live view could not start", error);
  } finally {
    liveStarting = false;
  }
}

function liveStop() {
  if (live) live.stop();
  live = null;
}

const corrections = new Map();
function correctionShow() {
  const box = $("[data-testid=placement-correction]");
  const next = corrections.values().next().value;
  box.hidden = !next;
  if (!next) return;
  box.dataset.request = String(next.request_id);
  const label = (config.placementKinds || {})[next.kind] || "";
  box.querySelector("[data-correction-text]").textContent = [label, next.text].filter(Boolean).join(": ");
  if (navigator.vibrate) navigator.vibrate(200);
}

candidateSocket.configure({ path: config.socketPath });
candidateSocket.on("placement.requested", (message) => {
  corrections.set(message.request_id, message);
  correctionShow();
});
candidateSocket.on("placement.pending", (message) => {
  corrections.clear();
  for (const request of message.requests) corrections.set(request.request_id, request);
  correctionShow();
});
candidateSocket.on("placement.confirm_result", (message) => {
  corrections.delete(message.request_id);
  correctionShow();
});
candidateSocket.on("socket.open", () => candidateSocket.send({ type: "placement.pending" }));
$("[data-action=placement-confirm]").addEventListener("click", () => {
  const id = Number($("[data-testid=placement-correction]").dataset.request);
  if (id) candidateSocket.send({ type: "placement.confirm", request_id: id });
});

function cameraLost() {
  if (cameraLostAt || root.dataset.step !== "recording") return;
  cameraLostAt = Date.now();
  const id = interruptionReport(queue, { kind: "phone", reason: "camera_lost", startedAt: cameraLostAt });
  recorder?.stop();
  liveStop();
  const retry = async () => {
    try {
      await openCamera();
      interruptionReport(queue, { id, kind: "phone", reason: "camera_lost", startedAt: cameraLostAt, endedAt: Date.now() });
      cameraLostAt = null;
      await startRecording();
    } catch {
      setTimeout(retry, 2000);
    }
  };
  setTimeout(retry, 1000);
}

document.addEventListener("visibilitychange", () => {
  if (root.dataset.step !== "recording") return;
  if (document.visibilityState === "hidden") {
    hiddenSince = { at: Date.now(), id: interruptionReport(queue, { kind: "phone", reason: "page_hidden", startedAt: Date.now() }) };
  } else if (hiddenSince) {
    interruptionReport(queue, {
      id: hiddenSince.id, kind: "phone", reason: "page_hidden", startedAt: hiddenSince.at, endedAt: Date.now(),
    });
    hiddenSince = null;
    wakeLock();
  }
});

let polling = false;
async function pollState() {
  if (polling) return;
  polling = true;
  for (;;) {
    try {
      const response = await fetch(config.stateUrl, { credentials: "same-origin", cache: "no-store" });
      if (response.ok && (await response.json()).over) break;
    } catch {
      // offline: recording goes on; ask again later
    }
    await new Promise((resolve) => setTimeout(resolve, config.pollSeconds * 1000));
  }
  polling = false;
  if (recorder) await recorder.stop();
  recorder = null;
  for (const track of stream?.getTracks() || []) track.stop();
  await show("uploads");
  renderUploads();
}

const KIND_LABELS = { sweep: gettext("Room sweep"), phone: gettext("Exam recording") };

let serverComplete = false;
let checking = false;
async function renderUploads() {
  if (root.dataset.step !== "uploads") return;
  const summary = await queue.summary();
  const list = $("[data-testid=upload-list]");
  list.replaceChildren(...summary.kinds.map((kind) => {
    const item = document.createElement("li");
    item.dataset.kind = kind.kind;
    const label = document.createElement("div");
    label.textContent = `${KIND_LABELS[kind.kind] || kind.kind}: ${kind.uploaded} / ${kind.segments} · ` +
      `${(kind.sent / 1e6).toFixed(1)} / ${(kind.bytes / 1e6).toFixed(1)} MB`;
    if (kind.uploaded === kind.segments) label.className = "ok";
    const bar = document.createElement("progress");
    bar.max = kind.bytes || 1;
    bar.value = kind.sent;
    item.append(label, bar);
    return item;
  }));
  const final = $("[data-testid=upload-final]");
  const localDone = summary.pending === 0 && summary.outbox === 0;
  if (localDone && !serverComplete && !checking) {
    checking = true;
    try {
      // The candidate's "everything arrived" comes from the server, not from this phone.
      const response = await fetch(config.statusUrl, { credentials: "same-origin", cache: "no-store" });
      serverComplete = response.ok && (await response.json()).complete;
    } catch {
      serverComplete = false;
    }
    checking = false;
    if (!serverComplete) setTimeout(renderUploads, 3000);
  }
  if (serverComplete) {
    final.textContent = gettext("All evidence uploaded. The server has every recording. You may close this page.");
    final.className = "evidence-final ok";
    root.dataset.complete = "true";
  } else {
    final.textContent = summary.error
      ? gettext("Not all uploaded yet; retrying automatically.") + ` (${summary.error})`
      : gettext("Uploading… keep this page open.");
    final.className = "evidence-final warn";
  }
}

async function refreshQueueState() {
  const summary = await queue.summary();
  const state = $("[data-testid=queue-state]");
  const uploaded = summary.kinds.reduce((sum, kind) => sum + kind.uploaded, 0);
  state.textContent = `${gettext("Segments uploaded")}: ${uploaded}; ${gettext("waiting")}: ${summary.pending}`;
  root.dataset.pending = String(summary.pending);
  renderUploads();
}

queue.addEventListener("change", refreshQueueState);
$("[data-action=to-sweep]").addEventListener("click", () => show("sweep"));
$("[data-action=sweep-start]").addEventListener("click", sweep);
$("[data-action=record-start]").addEventListener("click", startRecording);
$("[data-action=retry]").addEventListener("click", () => {
  serverComplete = false;
  queue.retryNow();
  renderUploads();
});

async function boot() {
  candidateSocket.start();
  const step = (await stateGet(stepKey)) || "checks";
  const open = await interruptedRecording(queue, "phone");
  if (open) {
    // The page was closed (or the phone restarted) while recording.
    interruptionReport(queue, { kind: "phone", reason: "page_closed", startedAt: open.lastEnd, endedAt: Date.now() });
  }
  await interruptedRecording(queue, "sweep");
  if (step === "uploads") {
    await show("uploads");
    queue.retryNow();
    return;
  }
  await runChecks();
  if (step === "recording" && stream) {
    await startRecording();
  } else if (step === "placement" && stream) {
    await show("placement");
  } else {
    await show("checks");
  }
  queue.retryNow();
}

boot();
