// tus-js-client (run with Node) as an independent client: upload a file, optionally stop
// after N bytes and wait to be killed; a second process resumes from the stored URL.
//
//   node upload.mjs ENDPOINT COOKIE FILE URL_FILE CHUNK [PAUSE_AFTER]
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as tus from "tus-js-client";

const [endpoint, cookie, path, urlFile, chunk, pauseAfterArg] = process.argv.slice(2);
const pauseAfter = pauseAfterArg && pauseAfterArg !== "-" ? Number(pauseAfterArg) : null;
const data = readFileSync(path);
const previousUrl = existsSync(urlFile) ? readFileSync(urlFile, "utf8").trim() : null;
let started = false;

const upload = new tus.Upload(data, {
  endpoint,
  uploadUrl: previousUrl,
  chunkSize: Number(chunk),
  headers: { Cookie: cookie },
  retryDelays: [0, 200, 500],
  metadata: {
    kind: "pc_camera",
    recording: "00000000-0000-4000-8000-00000000000a",
    seq: "0",
    filetype: "video/webm",
    sha256: createHash("sha256").update(data).digest("hex"),
  },
  onUploadUrlAvailable() {
    writeFileSync(urlFile, upload.url);
  },
  onChunkComplete(_size, accepted) {
    if (!started) {
      started = true;
    }
    console.log("OFFSET", accepted);
    if (pauseAfter !== null && accepted >= pauseAfter) {
      upload.abort();
      console.log("PAUSED");
      setInterval(() => {}, 1000); // the test kills this process here
    }
  },
  onSuccess() {
    console.log("DONE", upload.url);
  },
  onError(error) {
    console.log("ERROR", String(error));
    process.exit(1);
  },
});
if (previousUrl) {
  // Ask the server where the previous process got to, as tus-js-client does on resume.
  const response = await fetch(previousUrl, { method: "HEAD", headers: { Cookie: cookie, "Tus-Resumable": "1.0.0" } });
  console.log("START", response.headers.get("upload-offset"));
} else {
  console.log("START", 0);
}
upload.start();
