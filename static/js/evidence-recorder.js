// The PC page's whole-exam recordings: camera + microphone, and the screen, each cut into
// self-contained segments, kept in IndexedDB, and uploaded with tus in the background
// (the same pipeline as the phone). The journey page calls it like this:
//
//   import { createEvidenceRecorder } from "/static/js/evidence-recorder.js";
//   const recorder = createEvidenceRecorder({
//     registration: 123,                       // the signed-in registration's id
//     tusEndpoint: "/evidence/tus/",           // {% url 'evidence:tus' %}
//     reportUrl: "/evidence/recordings/",      // {% url 'evidence:recording_report' %}
//     interruptionUrl: "/evidence/interruptions/",
//     statusUrl: "/evidence/status/",          // {% url 'evidence:status' %}
//     segmentSeconds: 5, videoKbps: 800,       // ExamRules.evidence_segment_seconds / _video_kbps
//   });
//   recorder.addEventListener("status", (event) => render(event.detail));
//   await recorder.start({ camera: cameraStream, screen: screenStream });  // either may be absent
//   ...
//   await recorder.stop();                     // at submission: last segments saved locally
//   await recorder.drained();                  // resolves once the server confirms everything
//
// "status" events carry { recording: bool, pending: segments not yet confirmed, kinds:
// [{kind, segments, uploaded, bytes, sent}], error: last upload error or "", complete:
// the server's word that every expected segment of the PC's kinds has arrived }.
// "interruption" events carry { kind, reason } when a track ends (screen sharing stopped,
// camera unplugged); the interruption is reported to the server too. Recorded interview
// answers go through the same queue: recorder.addAnswer(blob, { answer: uuid }) .

import {
  SegmentRecorder, UploadQueue, interruptedRecording, interruptionReport,
} from "./evidence-pipeline.js";

class EvidenceRecorder extends EventTarget {
  constructor(options) {
    super();
    this.options = options;
    this.queue = new UploadQueue({
      owner: options.registration, tusEndpoint: options.tusEndpoint, reportUrl: options.reportUrl,
      interruptionUrl: options.interruptionUrl,
    });
    this.recorders = [];
    this.complete = false;
    this.queue.addEventListener("change", () => this.emit());
  }

  // A run left open by a page that was closed (reload, crash, navigation) ends at its last
  // saved segment: what it was still recording died with the page (reported as an
  // interruption), so the server stops expecting it. Called by start(), and by the
  // after-exam page, which records nothing but must close what the exam page left open.
  async closeInterrupted() {
    for (const kind of ["pc_camera", "pc_screen"]) {
      const open = await interruptedRecording(this.queue, kind);
      if (open) {
        interruptionReport(this.queue, { kind, reason: "page_closed", startedAt: open.lastEnd, endedAt: Date.now() });
        await this.queue.post(this.options.reportUrl, {
          kind, recording: open.recording, last_seq: open.lastSeq ?? -1, ended: true,
        });
      }
    }
  }

  async start({ camera = null, screen = null } = {}) {
    await this.closeInterrupted();
    const streams = [["pc_camera", camera], ["pc_screen", screen]].filter(([, stream]) => stream);
    for (const [kind, stream] of streams) {
      const recorder = new SegmentRecorder({
        stream, kind, queue: this.queue, segmentSeconds: this.options.segmentSeconds || 5,
        videoKbps: this.options.videoKbps || 800,
      });
      for (const track of stream.getTracks()) {
        track.addEventListener("ended", () => this.trackEnded(kind, recorder));
      }
      await recorder.start();
      this.recorders.push(recorder);
    }
    this.complete = false;
    this.emit();
  }

  trackEnded(kind, recorder) {
    if (recorder.stopped) return;
    const reason = kind === "pc_screen" ? "recorder_error" : "camera_lost";
    interruptionReport(this.queue, { kind, reason, startedAt: Date.now() });
    recorder.stop();
    this.dispatchEvent(new CustomEvent("interruption", { detail: { kind, reason } }));
  }

  async stop() {
    await Promise.all(this.recorders.map((recorder) => recorder.stop()));
    this.recorders = [];
    this.queue.retryNow();
    this.emit();
  }

  async addAnswer(blob, { answer }) {
    const sha = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
    const sha256 = Array.from(new Uint8Array(sha), (b) => b.toString(16).padStart(2, "0")).join("");
    await this.queue.add({
      key: `${answer}:0`, kind: "answer", recording: answer, seq: 0, start: Date.now(), duration: 0, final: true,
      type: blob.type.split(";")[0], size: blob.size, sha256, blob, createdAt: Date.now(),
    });
    this.queue.post(this.options.reportUrl, { kind: "answer", recording: answer, last_seq: 0, ended: true });
  }

  async checkServer() {
    const response = await fetch(`${this.options.statusUrl}?kinds=pc_camera,pc_screen`, {
      credentials: "same-origin", cache: "no-store",
    });
    this.complete = response.ok && (await response.json()).complete;
    return this.complete;
  }

  async emit() {
    const summary = await this.queue.summary();
    if (!this.recorders.length && summary.pending === 0 && summary.outbox === 0 && !this.complete && !this.checking) {
      this.checking = true;
      try {
        await this.checkServer();
      } catch {
        this.complete = false;
      }
      this.checking = false;
    }
    this.dispatchEvent(new CustomEvent("status", {
      detail: { ...summary, recording: this.recorders.length > 0, complete: this.complete },
    }));
  }

  // Resolves when the server has confirmed every segment (retrying for as long as it takes).
  drained() {
    return new Promise((resolve) => {
      const check = (event) => {
        if (event.detail.complete) {
          this.removeEventListener("status", check);
          resolve(event.detail);
        }
      };
      this.addEventListener("status", check);
      this.emit();
      const timer = setInterval(() => (this.complete ? clearInterval(timer) : this.emit()), 3000);
    });
  }
}

export function createEvidenceRecorder(options) {
  return new EvidenceRecorder(options);
}
