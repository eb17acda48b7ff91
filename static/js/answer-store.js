// Answers that the server has not confirmed yet, kept in IndexedDB so that a reload, a
// crash or a power cut loses nothing. An entry leaves the store only when the server says
// it holds it (or refuses it for good, e.g. after the deadline).
//
// Text entry:      {key, kind: "text", position, revision, client_id, text}
// Recording entry: {key, kind: "recording", position, take, revision, client_id, blob,
//                   sha256, size, duration_ms, started_at, declared, upload_recording, url}
// A recording is declared first (take, size, SHA-256), then sent with tus under the id the
// server gave it, then confirmed: the server keeps it only if the bytes hash to the declaration.
import { postJson } from "./journey-http.js";
import { TusError, tusCreate, tusSend } from "./tus-upload.js";

const DB_NAME = "invigilate-journey";
let database = null;

function open() {
  if (database) return database;
  database = new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore("outbox", { keyPath: "key" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return database;
}

async function transact(mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction("outbox", mode);
    const result = work(transaction.objectStore("outbox"));
    transaction.oncomplete = () => resolve(result?.result);
    transaction.onerror = () => reject(transaction.error);
  });
}

export function entryKey(registration, position, suffix) {
  return `r${registration}-q${position}-${suffix}`;
}

export const outbox = {
  put: (entry) => transact("readwrite", (store) => store.put(entry)),
  remove: (key) => transact("readwrite", (store) => store.delete(key)),
  async all(registration) {
    const entries = (await transact("readonly", (store) => store.getAll())) || [];
    return entries.filter((entry) => entry.key.startsWith(`r${registration}-`));
  },
};

// Refusals that will never change (the deadline passed, a later write won): stop retrying.
const FINAL = new Set(["deadline_passed", "submitted", "takes_used", "older_take", "undeclared", "window_closed", "wrong_mode", "too_long", "no_question"]);

// Send one entry; resolves to "held", "retry" or {refused: message}.
export async function entrySend(entry, urls, { onProgress } = {}) {
  const answerUrl = urls.answer.replace("/0/", `/${entry.position}/`);
  if (entry.kind === "text") {
    let reply = await postJson(answerUrl, { client_id: entry.client_id, revision: entry.revision, text: entry.text });
    if (reply.ok && !reply.applied && reply.revision >= entry.revision) {
      // The server holds a write of this revision or later from a page that did not know of
      // this one (a reload raced an earlier send): this edit is the candidate's latest, so it
      // goes again above the server's revision rather than being dropped as a replay.
      entry.revision = reply.revision + 1;
      await outbox.put(entry);
      reply = await postJson(answerUrl, { client_id: entry.client_id, revision: entry.revision, text: entry.text });
    }
    if (reply.ok && reply.revision >= entry.revision) {
      await removeIfUnchanged(entry);
      return "held";
    }
    return settle(entry, reply);
  }
  if (!entry.declared) {
    const reply = await postJson(answerUrl, {
      client_id: entry.client_id, revision: entry.revision, take: entry.take,
      sha256: entry.sha256, size: entry.size, duration_ms: entry.duration_ms,
    });
    if (!reply.ok || reply.take !== entry.take) return settle(entry, reply);
    entry.declared = true;
    entry.upload_recording = reply.upload_recording;
    await outbox.put(entry);
    if (reply.recording_held) {
      await outbox.remove(entry.key);
      return "held";
    }
  }
  // The bytes go up as a tus upload of the evidence app; its URL is kept with the entry, so
  // after a dropped connection or a reload the upload resumes where the server stopped.
  try {
    if (!entry.url) {
      entry.url = await tusCreate({
        endpoint: urls.tus,
        size: entry.size,
        metadata: {
          kind: "answer", recording: entry.upload_recording, seq: 0, filetype: entry.blob.type || "video/webm",
          sha256: entry.sha256, start: entry.started_at || Date.now(), duration: entry.duration_ms, final: "1",
          question: entry.position, take: entry.take,
        },
      });
      await outbox.put(entry);
    }
    await tusSend({ url: entry.url, blob: entry.blob, onProgress: (sent, size) => onProgress?.(sent / size) });
  } catch (error) {
    if (error instanceof TusError && [404, 410].includes(error.status)) {
      entry.url = null; // expired, or the server found the bytes damaged: send it again
      await outbox.put(entry);
    } else if (error instanceof TusError && [400, 403, 413, 415].includes(error.status)) {
      await outbox.remove(entry.key); // refused for good: say so rather than retry for ever
      return { refused: error.message };
    }
    return "retry";
  }
  const confirmUrl = urls.recording.replace("/0/", `/${entry.position}/`);
  const reply = await postJson(confirmUrl, { take: entry.take });
  if (reply.ok && reply.held) {
    await outbox.remove(entry.key);
    return "held";
  }
  if (reply.error === "checksum_mismatch") {
    entry.url = null;
    await outbox.put(entry);
  }
  return settle(entry, reply);
}

async function removeIfUnchanged(entry) {
  // A newer edit may have replaced the entry while this one was in flight.
  const current = (await outbox.all(entry.key.split("-")[0].slice(1))).find((e) => e.key === entry.key);
  if (current && current.revision <= entry.revision) await outbox.remove(entry.key);
}

async function settle(entry, reply) {
  if (reply.status && reply.status < 500 && FINAL.has(reply.error)) {
    await outbox.remove(entry.key);
    return { refused: reply.message || reply.error };
  }
  return "retry";
}

// Send everything waiting, oldest question first. Resolves to the entries still waiting.
export async function outboxFlush(registration, urls, { onProgress, onRefused } = {}) {
  const entries = (await outbox.all(registration)).sort((a, b) => a.position - b.position || (a.take || 0) - (b.take || 0));
  for (const entry of entries) {
    const outcome = await entrySend(entry, urls, { onProgress: (share) => onProgress?.(entry, share) });
    if (outcome?.refused) onRefused?.(entry, outcome.refused);
  }
  return outbox.all(registration);
}
