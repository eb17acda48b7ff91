// After submitting: send whatever is still waiting on this computer, with progress, and
// let the server's fragment say "submission complete" once it holds everything.
import { outbox, outboxFlush } from "./answer-store.js";

const box = document.getElementById("local-uploads");
const retry = document.getElementById("retry-uploads");
const texts = document.getElementById("upload-texts").dataset;
const registration = document.getElementById("submitted").dataset.registration;
const urls = JSON.parse(document.getElementById("submitted").dataset.urls);
const lines = new Map();

function fill(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => values[name]).replace("%%", "%");
}

function line(entry) {
  if (!lines.has(entry.key)) {
    const element = document.createElement("p");
    element.className = "upload-line";
    const bar = document.createElement("progress");
    bar.max = 1;
    bar.value = 0;
    element.append(document.createElement("span"), bar);
    box.append(element);
    lines.set(entry.key, element);
  }
  return lines.get(entry.key);
}

async function send() {
  retry.hidden = true;
  const waiting = await outboxFlush(registration, urls, {
    onProgress(entry, share) {
      const element = line(entry);
      element.querySelector("span").textContent = fill(texts.uploading, { n: entry.position, percent: Math.round(share * 100) });
      element.querySelector("progress").value = share;
    },
    onRefused(entry, message) {
      line(entry).querySelector("span").textContent = message;
    },
  });
  for (const entry of waiting) {
    line(entry).querySelector("span").textContent = fill(texts.failed, { n: entry.position });
  }
  for (const [key, element] of lines) {
    if (!waiting.some((entry) => entry.key === key) && element.querySelector("progress")) element.querySelector("progress").value = 1;
  }
  retry.hidden = waiting.length === 0;
  const status = document.getElementById("submission-status");
  if (status && window.htmx && status.getAttribute("hx-get")) {
    window.htmx.ajax("GET", status.getAttribute("hx-get"), { target: status, swap: "outerHTML" });
  }
  if (waiting.length) setTimeout(send, 5000);
}

retry.addEventListener("click", send);
outbox.all(registration).then((entries) => entries.length && send());
