// Recordings that survive a lost network, a closed page or a restarted phone.
//
// A SegmentRecorder runs MediaRecorder on a stream and restarts it every few seconds, so each
// segment is a complete, playable file (WebM or MP4) numbered from 0. Each segment goes to
// IndexedDB first, then an UploadQueue sends it with tus in the background, and deletes the
// bytes only once the server has confirmed the whole file's SHA-256. Segments and reports
// wait in IndexedDB while offline and go out, oldest first, when the network comes back.
//
//   const queue = new UploadQueue({ owner, tusEndpoint, reportUrl, interruptionUrl });
//   const recorder = new SegmentRecorder({ stream, kind: "phone", segmentSeconds: 5, queue });
//   await recorder.start(); ... await recorder.stop();
//   queue.addEventListener("change", () => queue.summary());

import { TusError, tusCreate, tusSend } from "./tus-upload.js";

const DB_NAME = "invigilate-evidence";

function request(idbRequest) {
  return new Promise((resolve, reject) => {
    idbRequest.onsuccess = () => resolve(idbRequest.result);
    idbRequest.onerror = () => reject(idbRequest.error);
  });
}

let database = null;
export async function evidenceDb() {
  if (!database) {
    const opening = indexedDB.open(DB_NAME, 1);
    opening.onupgradeneeded = () => {
      const db = opening.result;
      db.createObjectStore("segments", { keyPath: "key" }).createIndex("owner", "owner");
      db.createObjectStore("outbox", { keyPath: "id", autoIncrement: true });
      db.createObjectStore("state", { keyPath: "key" });
    };
    database = await request(opening);
  }
  return database;
}

async function store(name, mode = "readonly") {
  return (await evidenceDb()).transaction(name, mode).objectStore(name);
}

export async function stateGet(key) {
  return (await request((await store("state")).get(key)))?.value;
}

export async function stateSet(key, value) {
  await request((await store("state", "readwrite")).put({ key, value }));
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function preferredMimeType() {
  const candidates = ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/webm", "video/mp4"];
  return candidates.find((type) => window.MediaRecorder && MediaRecorder.isTypeSupported(type)) || "";
}

export class UploadQueue extends EventTarget {
  constructor({ owner, tusEndpoint, reportUrl, interruptionUrl, chunkSize = 1024 * 1024 }) {
    super();
    Object.assign(this, { owner: String(owner), tusEndpoint, reportUrl, interruptionUrl, chunkSize });
    this.progress = new Map(); // segment key -> bytes the server has
    this.delay = 1000;
    this.running = false;
    this.wake = null;
    this.lastError = "";
    window.addEventListener("online", () => this.retryNow());
  }

  async segments() {
    const index = (await store("segments")).index("owner");
    return (await request(index.getAll(this.owner))).sort((a, b) => a.createdAt - b.createdAt);
  }

  async add(segment) {
    await request((await store("segments", "readwrite")).put({ ...segment, owner: this.owner, state: "pending" }));
    this.changed();
    this.retryNow();
  }

  // Reports (recording progress, interruptions) are kept until the server has them too. They go
  // at once, not after the segment being uploaded: a report tells the server what to expect,
  // and one held behind a long upload could arrive after the candidate submitted, when the
  // server had already called the submission complete without the run it announces.
  async post(url, body) {
    await request((await store("outbox", "readwrite")).add({ owner: this.owner, url, body }));
    this.flushOutbox().catch(() => {}); // offline: the loop below retries with the segments
    this.retryNow();
  }

  changed() {
    this.dispatchEvent(new Event("change"));
  }

  retryNow() {
    this.delay = 1000;
    if (this.wake) this.wake();
    if (!this.running) this.run();
  }

  async summary() {
    const segments = await this.segments();
    const kinds = {};
    for (const segment of segments) {
      const kind = (kinds[segment.kind] ||= { kind: segment.kind, segments: 0, uploaded: 0, bytes: 0, sent: 0 });
      kind.segments += 1;
      kind.bytes += segment.size;
      if (segment.state === "uploaded") {
        kind.uploaded += 1;
        kind.sent += segment.size;
      } else {
        kind.sent += this.progress.get(segment.key) || 0;
      }
    }
    const pending = segments.filter((segment) => segment.state !== "uploaded").length;
    const outbox = (await request((await store("outbox")).getAll())).filter((item) => item.owner === this.owner);
    return { kinds: Object.values(kinds), pending, outbox: outbox.length, error: this.lastError };
  }

  // One flush at a time, in order (the loop, post() and the exam page's submit all flush).
  flushOutbox() {
    this.flushing = (this.flushing || Promise.resolve()).catch(() => {}).then(() => this.sendOutbox());
    return this.flushing;
  }

  async sendOutbox() {
    const items = (await request((await store("outbox")).getAll())).filter((item) => item.owner === this.owner);
    for (const item of items) {
      const response = await fetch(item.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(item.body),
      });
      if (!response.ok && response.status !== 400) throw new Error(`report answered ${response.status}`);
      await request((await store("outbox", "readwrite")).delete(item.id));
    }
  }

  async uploadOne(segment) {
    if (!segment.url) {
      segment.url = await tusCreate({
        endpoint: this.tusEndpoint,
        size: segment.size,
        metadata: {
          kind: segment.kind, recording: segment.recording, seq: segment.seq, filetype: segment.type,
          sha256: segment.sha256, start: segment.start, duration: segment.duration, final: segment.final ? "1" : "0",
        },
      });
      await request((await store("segments", "readwrite")).put(segment));
    }
    try {
      await tusSend({
        url: segment.url, blob: segment.blob, chunkSize: this.chunkSize,
        onProgress: (sent) => { this.progress.set(segment.key, sent); this.changed(); },
      });
    } catch (error) {
      if (error instanceof TusError && [404, 410].includes(error.status)) {
        segment.url = null; // expired or rejected on the server: send it again as a new upload
        await request((await store("segments", "readwrite")).put(segment));
      }
      throw error;
    }
    // Confirmed: the server has every byte and checked the SHA-256; the bytes may go.
    await request((await store("segments", "readwrite")).put({ ...segment, blob: null, state: "uploaded" }));
    this.progress.delete(segment.key);
    this.changed();
  }

  async run() {
    this.running = true;
    try {
      for (;;) {
        try {
          await this.flushOutbox();
          const next = (await this.segments()).find((segment) => segment.state !== "uploaded");
          if (!next) break;
          await this.uploadOne(next);
          this.delay = 1000;
          this.lastError = "";
        } catch (error) {
          this.lastError = String(error.message || error);
          this.changed();
          // Back off (1 s, 2 s, 4 s ... 30 s); coming back online or "retry" wakes us at once.
          await new Promise((resolve) => {
            this.wake = resolve;
            setTimeout(resolve, this.delay);
          });
          this.wake = null;
          this.delay = Math.min(this.delay * 2, 30000);
        }
      }
    } finally {
      this.running = false;
      this.changed();
    }
  }
}

export class SegmentRecorder extends EventTarget {
  constructor({ stream, kind, segmentSeconds = 5, queue, videoKbps = 800, mimeType = preferredMimeType() }) {
    super();
    Object.assign(this, { stream, kind, segmentSeconds, queue, videoKbps, mimeType });
    this.recording = null;
    this.seq = 0;
    this.current = null;
    this.saving = Promise.resolve();
  }

  async start() {
    this.recording = crypto.randomUUID();
    this.startedAt = Date.now();
    this.seq = 0;
    this.stopped = false;
    await stateSet(`open:${this.queue.owner}:${this.kind}`, { recording: this.recording, lastEnd: Date.now(), lastSeq: -1 });
    this.startSegment();
    this.report(false);
  }

  startSegment() {
    const recorder = new MediaRecorder(this.stream, {
      mimeType: this.mimeType || undefined,
      videoBitsPerSecond: this.videoKbps * 1000,
      audioBitsPerSecond: 64000,
    });
    const parts = [];
    const seq = this.seq++;
    const start = Date.now();
    recorder.ondataavailable = (event) => event.data.size && parts.push(event.data);
    recorder.onstop = () => {
      const blob = new Blob(parts, { type: recorder.mimeType || this.mimeType });
      const final = this.stopped && this.current === recorder;
      this.saving = this.saving.then(() => this.save({ blob, seq, start, end: Date.now(), final }));
    };
    recorder.onerror = () => this.dispatchEvent(new CustomEvent("error", { detail: { seq } }));
    recorder.start();
    this.current = recorder;
    this.timer = setTimeout(() => this.rotate(), this.segmentSeconds * 1000);
  }

  rotate() {
    if (this.stopped) return;
    const previous = this.current;
    // Start the next segment before stopping this one, so the gap between files is minimal.
    if (this.stream.getTracks().some((track) => track.readyState === "live")) this.startSegment();
    previous.stop();
  }

  async save({ blob, seq, start, end, final }) {
    if (!blob.size) return;
    this.lastSaved = seq;
    const type = blob.type.split(";")[0] || "video/webm";
    await this.queue.add({
      key: `${this.recording}:${seq}`, kind: this.kind, recording: this.recording, seq, start,
      duration: end - start, final, type, size: blob.size, sha256: await sha256Hex(blob), blob,
      createdAt: Date.now() + seq / 1000,
    });
    await stateSet(`open:${this.queue.owner}:${this.kind}`,
      final ? null : { recording: this.recording, lastEnd: end, lastSeq: seq });
    if (!final) this.report(false, seq);
    this.dispatchEvent(new CustomEvent("segment", { detail: { seq, size: blob.size } }));
  }

  // Resolves once the report is safely in the outbox (IndexedDB). An ended report carries the
  // last segment saved (-1: none), so the server expects exactly what exists.
  report(ended, lastSeq = this.seq - 1) {
    return this.queue.post(this.queue.reportUrl, {
      kind: this.kind, recording: this.recording, last_seq: ended ? lastSeq : Math.max(lastSeq, 0), ended,
      started_at: this.startedAt, segment_seconds: this.segmentSeconds,
    });
  }

  // Stop and keep the last segment; resolves once every segment is safely in IndexedDB.
  async stop() {
    if (this.stopped) return this.saving;
    this.stopped = true;
    clearTimeout(this.timer);
    const last = this.current;
    await new Promise((resolve) => {
      if (!last || last.state === "inactive") return resolve();
      last.addEventListener("stop", () => setTimeout(resolve, 0), { once: true });
      last.stop();
    });
    await this.saving;
    await stateSet(`open:${this.queue.owner}:${this.kind}`, null);
    await this.report(true, this.lastSaved ?? -1);
  }
}

// An interruption (page hidden, camera lost, page closed) as the server wants it.
export function interruptionReport(queue, { kind, reason, startedAt, endedAt = null, id = crypto.randomUUID() }) {
  queue.post(queue.interruptionUrl, { id, kind, reason, started_at: startedAt, ended_at: endedAt });
  return id;
}

// After a reload: a recording left open means the page was closed while recording.
export async function interruptedRecording(queue, kind) {
  const open = await stateGet(`open:${queue.owner}:${kind}`);
  if (!open) return null;
  await stateSet(`open:${queue.owner}:${kind}`, null);
  return open;
}
