// The journey's live media and whole-exam recordings (configured by exams/journey/media.html).
//
// - Waiting room: camera + microphone go live to the media worker, so the invigilators see
//   the candidate's thumbnail before the start.
// - Exam page: on "exam:streams" ({camera, screen}, dispatched by exam-page.js once the entire
//   screen is shared) the live media carries the screen too, and the evidence app's
//   whole-exam recorder records camera + microphone and screen; on "exam:submitting" its
//   reports reach the server first (what runs and segments to expect); on "exam:leaving" (next
//   question, submission) the recorder stops and keeps its last segments in IndexedDB.
// - After submission: the recorder's queue sends what is still on this computer, with
//   progress; "submission complete" comes from the server, which waits for these recordings.
import { createEvidenceRecorder } from "./evidence-recorder.js";
import { startMedia } from "./media-sender.js";

const config = JSON.parse(document.getElementById("journey-media").textContent);
const status = document.getElementById("journey-media-status");
const texts = status.dataset;
let media = null;

function fill(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => values[name]);
}

function show(state) {
  status.dataset.state = state;
  status.textContent = texts[`text${state[0].toUpperCase()}${state.slice(1)}`] || "";
}

async function goLive(streams) {
  if (media) media.stop();
  try {
    media = await startMedia(streams);
  } catch (error) {
    console.error("live media could not start", error);
    show("denied");
    return;
  }
  show(media.state);
  media.onstate = show;
  window.invigilateMedia = media;
}

function recorder() {
  return createEvidenceRecorder(config.evidence);
}

if (config.stage === "waiting") {
  navigator.mediaDevices
    .getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: true })
    .then((camera) => goLive({ camera }))
    .catch(() => show("denied"));
} else if (config.stage === "in_exam") {
  const evidence = recorder();
  window.invigilateEvidence = evidence;
  document.addEventListener("exam:streams", async (event) => {
    const { camera, screen } = event.detail;
    goLive({ camera, screen });
    await evidence.start({ camera, screen });
    status.dataset.recording = "true";
  });
  document.addEventListener("exam:submitting", (event) => {
    event.detail.waitUntil(evidence.queue.flushOutbox());
  });
  document.addEventListener("exam:leaving", (event) => {
    event.detail.waitUntil(evidence.stop());
    if (media) media.stop();
  });
} else if (config.stage === "submitted") {
  // Finish sending the whole-exam recordings left on this computer, with progress.
  const evidence = recorder();
  window.invigilateEvidence = evidence;
  evidence.addEventListener("status", (event) => {
    const lines = event.detail.kinds
      .filter((kind) => kind.segments > kind.uploaded)
      .map((kind) => fill(texts.parts, {
        label: texts[kind.kind === "pc_screen" ? "textPcScreen" : "textPcCamera"],
        uploaded: kind.uploaded, segments: kind.segments,
      }));
    status.textContent = lines.join(" · ");
    status.dataset.pending = String(event.detail.pending);
  });
  evidence.closeInterrupted().finally(() => evidence.queue.retryNow());
}
