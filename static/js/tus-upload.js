// A small tus 1.0 client for Blobs (creation, core), as an ES module.
//
// Written here rather than vendoring tus-js-client's browser build: that build is a UMD
// bundle (not an ES module) and keeps its own resume bookkeeping in localStorage; our uploads
// live in IndexedDB with their own bookkeeping. The server is tested against tus-js-client
// and tuspy independently.
//
// No Upload-Checksum per chunk, on purpose: a checksummed PATCH is all or nothing (a partial
// body cannot meet its checksum), so on a link that drops every few seconds a chunk might
// never get through, while without one the uploads server keeps every byte that arrived and
// the next PATCH goes on from there. Integrity comes from the whole file's SHA-256, declared
// at creation and checked by the server before it confirms (and before this page deletes its
// copy); a mismatch rejects the upload (460, then 410) and the segment is sent again.
//
//   const url = await tusCreate({ endpoint, size, metadata });
//   await tusSend({ url, blob, onProgress: (sent, size) => ... });

const VERSION = "1.0.0";

export class TusError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

function base64(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text);
}

function encodeMetadata(metadata) {
  return Object.entries(metadata)
    .map(([key, value]) => `${key} ${base64(new TextEncoder().encode(String(value)))}`)
    .join(",");
}

export async function tusCreate({ endpoint, size, metadata }) {
  const response = await fetch(endpoint, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Tus-Resumable": VERSION, "Upload-Length": String(size), "Upload-Metadata": encodeMetadata(metadata) },
  });
  if (response.status !== 201) {
    throw new TusError(`creation refused: ${response.status} ${await response.text()}`, response.status);
  }
  return new URL(response.headers.get("Location"), location.href).pathname;
}

export async function tusOffset(url) {
  const response = await fetch(url, {
    method: "HEAD",
    credentials: "same-origin",
    cache: "no-store",
    headers: { "Tus-Resumable": VERSION },
  });
  if (response.status !== 200) throw new TusError(`HEAD answered ${response.status}`, response.status);
  return Number(response.headers.get("Upload-Offset"));
}

// Send what the server does not have yet. Resolves when the server has every byte (and has
// checked the whole file's SHA-256); rejects with TusError (status 404/410: create again).
export async function tusSend({ url, blob, chunkSize = 1024 * 1024, onProgress = () => {} }) {
  let offset = await tusOffset(url);
  onProgress(offset, blob.size);
  while (offset < blob.size) {
    const chunk = blob.slice(offset, offset + chunkSize);
    const buffer = await chunk.arrayBuffer();
    const response = await fetch(url, {
      method: "PATCH",
      credentials: "same-origin",
      headers: {
        "Tus-Resumable": VERSION,
        "Upload-Offset": String(offset),
        "Content-Type": "application/offset+octet-stream",
      },
      body: buffer,
    });
    if (response.status === 204) {
      offset = Number(response.headers.get("Upload-Offset"));
    } else if (response.status === 409) {
      offset = await tusOffset(url); // another attempt got further (or less far): ask
    } else {
      throw new TusError(`PATCH answered ${response.status} ${await response.text()}`, response.status);
    }
    onProgress(offset, blob.size);
  }
}
