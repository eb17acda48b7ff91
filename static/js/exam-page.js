// The exam page: one question at a time, in order, answered by recording or in writing.
// Every answer goes into the IndexedDB outbox first and leaves it only when the server
// confirms it; the server's clock decides the preparation time, the end and the deadline.
import { entireScreenShare } from "./camera.js";
import { entryKey, entrySend, outbox, outboxFlush } from "./answer-store.js";
import { serverNow } from "./exam-clock.js";
import { postJson, sha256Hex } from "./journey-http.js";

const state = JSON.parse(document.getElementById("exam-state").textContent);
const texts = document.getElementById("exam-texts").dataset;
const question = document.getElementById("question");
const errorLine = document.getElementById("exam-error");
const urls = state.urls;
const registration = state.registration;
let camera = null;
let screen = null;
// Each shown answer registers how to finish what is in flight before the page moves on.
const answerFlushers = [];

function fill(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => values[name]);
}

function showError(message) {
  errorLine.textContent = message;
  errorLine.hidden = !message;
}

function nextRevision(localEntries) {
  const local = Math.max(0, ...localEntries.map((entry) => entry.revision || 0));
  return Math.max(state.revision, local) + 1;
}

// --- Starting: entire screen + full screen ----------------------------------------------------

async function start() {
  const startError = document.getElementById("exam-start-error");
  try {
    const share = await entireScreenShare();
    if (!share.ok) {
      share.stream.getTracks().forEach((track) => track.stop());
      startError.textContent = texts.notEntireScreen;
      startError.hidden = false;
      return;
    }
    screen = share.stream;
  } catch (error) {
    startError.textContent = `${texts.notEntireScreen} (${error.name})`;
    startError.hidden = false;
    return;
  }
  try {
    await document.documentElement.requestFullscreen();
  } catch {
    // Refused full screen is reported by the integrity signals; the exam goes on.
  }
  // Camera and microphone run for the whole exam (recorded and sent live), whatever the question.
  try {
    camera = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: true });
  } catch (error) {
    startError.textContent = `${texts.noCamera} (${error.name})`;
    startError.hidden = false;
    return;
  }
  document.getElementById("exam-start").hidden = true;
  question.hidden = false;
  document.dispatchEvent(new CustomEvent("exam:streams", { detail: { camera, screen } }));
  if (state.mode === "text") textAnswer();
  else await recordedAnswer();
}

// Other modules of the page (the whole-exam recorder, live media) finish their work before the
// page goes on: each listener of the event may hand a promise to waitUntil(); the page waits
// for all of them, or at most `within` ms.
async function othersDone(name, detail = {}, within = null) {
  const pending = [];
  document.dispatchEvent(new CustomEvent(name, { detail: { ...detail, waitUntil: (promise) => pending.push(promise) } }));
  const settled = Promise.allSettled(pending);
  await (within === null ? settled : Promise.race([settled, new Promise((resolve) => setTimeout(resolve, within))]));
}

// "exam:leaving" (next question, submission): the recorder stops and keeps its last segments.
const beforeLeaving = (reason) => othersDone("exam:leaving", { reason });
// "exam:submitting": the others tell the server what it should still expect (the recorder: its
// runs and segments so far), so the server does not call the submission complete without them.
// Offline, the submission itself cannot go either; a few seconds at most.
const beforeSubmitting = () => othersDone("exam:submitting", {}, 5000);

// --- Written answers ------------------------------------------------------------------------

async function textAnswer() {
  const area = document.getElementById("text-answer");
  const status = document.getElementById("text-state");
  const key = entryKey(registration, state.position, "text");
  let timer = null;
  let sending = Promise.resolve();

  async function save() {
    const entry = {
      key, kind: "text", position: state.position, client_id: state.client_id,
      revision: nextRevision((await outbox.all(registration)).filter((e) => e.key === key)), text: area.value,
    };
    state.revision = entry.revision;
    await outbox.put(entry);
    status.textContent = texts.saving;
    sending = sending.then(async () => {
      const outcome = await entrySend(entry, urls);
      state.revision = Math.max(state.revision, entry.revision); // it may have gone above the server's
      if (outcome === "held") status.textContent = texts.saved;
      else if (outcome?.refused) showError(outcome.refused);
      else status.textContent = texts.kept;
    });
    return sending;
  }
  area.addEventListener("input", () => {
    clearTimeout(timer);
    status.textContent = texts.saving;
    timer = setTimeout(save, 600);
  });
  answerFlushers.push(async () => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
      await save();
    }
    await sending;
  });
}

// --- Recorded answers -----------------------------------------------------------------------

async function recordedAnswer() {
  const preview = document.getElementById("camera-preview");
  const phase = document.getElementById("recorder-phase");
  const timerLine = document.getElementById("recorder-timer");
  const startButton = document.getElementById("record-start");
  const stopButton = document.getElementById("record-stop");
  const againButton = document.getElementById("record-again");
  const recordingState = document.getElementById("recording-state");
  // An audio answer records the microphone only; a video answer the camera and microphone.
  const answerStream = state.mode === "video" ? camera : new MediaStream(camera.getAudioTracks());
  preview.srcObject = camera;
  preview.play().catch(() => {});

  const local = (await outbox.all(registration)).filter((e) => e.position === state.position && e.kind === "recording");
  let takes = Math.max(state.take, ...local.map((entry) => entry.take));
  let recorder = null;
  let countdown = null;
  let keeping = Promise.resolve();

  function describe() {
    const left = state.max_takes - takes;
    phase.textContent = "";
    timerLine.textContent = "";
    startButton.hidden = true;
    stopButton.hidden = true;
    againButton.hidden = left <= 0;
    againButton.textContent = fill(texts.again, { left });
    recordingState.textContent = fill(texts.recorded, { take: takes, max: state.max_takes });
  }

  function tickDown(until, label, onZero) {
    clearInterval(countdown);
    const step = () => {
      const left = Math.max(0, until - serverNow());
      phase.textContent = label;
      timerLine.textContent = `${Math.ceil(left / 1000)} s`;
      if (left <= 0) {
        clearInterval(countdown);
        onZero();
      }
    };
    countdown = setInterval(step, 200);
    step();
  }

  function record() {
    if (recorder) return;
    takes += 1;
    const take = takes;
    const chunks = [];
    const options = MediaRecorder.isTypeSupported("video/webm;codecs=vp8,opus")
      ? { mimeType: state.mode === "video" ? "video/webm;codecs=vp8,opus" : "audio/webm", videoBitsPerSecond: 400000 }
      : {};
    recorder = new MediaRecorder(answerStream, options);
    const startedAt = performance.now();
    const startedWall = Date.now();
    recorder.ondataavailable = (event) => event.data.size && chunks.push(event.data);
    recorder.onstop = async () => {
      clearInterval(countdown);
      recorder = null;
      const blob = new Blob(chunks, { type: chunks[0]?.type || "video/webm" });
      const duration = Math.round(performance.now() - startedAt);
      describe();
      keeping = keepTake(take, blob, Math.min(duration, state.answer_seconds * 1000), startedWall);
    };
    recorder.start(1000);
    startButton.hidden = true;
    againButton.hidden = true;
    stopButton.hidden = false;
    recordingState.textContent = "";
    tickDown(serverNow() + state.answer_seconds * 1000, texts.recording, () => recorder?.stop());
  }

  async function keepTake(take, blob, durationMs, startedAt) {
    // Only the latest take is wanted: an older one still waiting is dropped.
    for (const entry of await outbox.all(registration)) {
      if (entry.kind === "recording" && entry.position === state.position && entry.take < take) await outbox.remove(entry.key);
    }
    const entry = {
      key: entryKey(registration, state.position, `take${take}`), kind: "recording", position: state.position,
      take, client_id: state.client_id, revision: nextRevision(local), blob, sha256: await sha256Hex(blob),
      size: blob.size, duration_ms: durationMs, started_at: startedAt, declared: false,
    };
    state.revision = entry.revision;
    await outbox.put(entry);
    recordingState.textContent = texts.sending;
    const outcome = await entrySend(entry, urls);
    if (outcome === "held") recordingState.textContent = `${fill(texts.recorded, { take, max: state.max_takes })} ${texts.sent}`;
    else if (outcome?.refused) showError(outcome.refused);
    else recordingState.textContent = texts.kept;
  }

  startButton.addEventListener("click", record);
  stopButton.addEventListener("click", () => recorder?.stop());
  againButton.addEventListener("click", record);
  answerFlushers.push(async () => {
    if (recorder) {
      // Called again while a stop is pending (the page leaving for two reasons): wait for it.
      const stopped = new Promise((resolve) => recorder.addEventListener("stop", () => setTimeout(resolve, 0), { once: true }));
      if (recorder.state !== "inactive") recorder.stop();
      await stopped;
    }
    await keeping;
  });

  if (takes > 0) {
    describe();
    if (state.recording_held) recordingState.textContent += ` ${texts.sent}`;
    return;
  }
  // Preparation runs on the server's clock from when the question opened: a reload does not reset it.
  startButton.hidden = false;
  tickDown(Date.parse(state.opened_at) + state.preparation_seconds * 1000, texts.preparing, record);
}

// --- Moving on ------------------------------------------------------------------------------

async function flushCurrent() {
  for (const flush of answerFlushers) await flush();
  await outboxFlush(registration, urls);
}

// Leave the page once: answers sent (or kept locally), recordings stopped and saved.
let leaving = null;
function leave(reason) {
  leaving ||= (async () => {
    await flushCurrent().catch(() => {});
    await beforeLeaving(reason);
    location.assign(urls.journey);
  })();
  return leaving;
}

async function advance() {
  const button = document.getElementById("next-question");
  button.disabled = true;
  await flushCurrent();
  const reply = await postJson(urls.advance, { from_position: state.position });
  if (reply.ok || reply.status >= 400) await leave("advance");
  else button.disabled = false;
}

async function submit(button) {
  if (button) button.disabled = true;
  await flushCurrent();
  await beforeSubmitting();
  const reply = await postJson(urls.submit, {});
  if (reply.ok || reply.error !== "early") await leave("submit");
  else if (!button) {
    // Time is up by this page's estimate of the server's clock, a moment before the server's:
    // ask again until the server agrees (or its sweep submits first and moves the page on).
    setTimeout(() => submit(null), 1000);
  } else {
    showError(reply.message);
    button.disabled = false;
  }
}

const startButton = document.getElementById("exam-start-button");
startButton.addEventListener("click", start);
startButton.disabled = false;
document.getElementById("next-question")?.addEventListener("click", advance);
const submitButton = document.getElementById("submit-answers");
submitButton?.addEventListener("click", () => submit(submitButton));
// The server moved the candidate on (forced submission): finish, then follow.
document.addEventListener("journey:moving", (event) => {
  event.preventDefault();
  leave("moved");
});
document.addEventListener("exam-clock:ended", () => {
  showError(texts.timeUp);
  submit(null);
});
// An edit the server had not confirmed before a reload or a crash is newer than the page:
// show it, then send everything left over.
async function restoreThenFlush() {
  const entries = await outbox.all(registration);
  const text = entries.find((entry) => entry.key === entryKey(registration, state.position, "text"));
  const area = document.getElementById("text-answer");
  if (area && text && text.revision > state.revision) {
    area.value = text.text;
    state.revision = text.revision;
  }
  await flushOutbox();
}
// Whatever is still waiting goes again when the network comes back, and every few seconds.
let flushing = null;
function flushOutbox() {
  flushing ||= outboxFlush(registration, urls).finally(() => { flushing = null; });
  return flushing;
}
window.addEventListener("online", () => flushOutbox());
setInterval(async () => {
  if ((await outbox.all(registration)).length) flushOutbox();
}, 5000);
restoreThenFlush();
