// The short steps before the exam: identity picture, blank-paper pictures, waiting room.
import { cameraStart, snapshot } from "./camera.js";
import { postBlob } from "./journey-http.js";

const preview = document.getElementById("camera-preview");

async function identityStep(section) {
  const button = document.getElementById("identity-capture");
  await cameraStart(preview);
  button.disabled = button.dataset.blocked === "true";
  button.addEventListener("click", async () => {
    button.disabled = true;
    const reply = await postBlob(section.dataset.url, await snapshot(preview));
    // The status fragment (polled) says what happened; a move to the next step reloads.
    if (reply.stage && reply.stage !== "identity_check") {
      location.assign("/exams/journey/");
      return;
    }
    const status = document.getElementById("identity-status");
    if (status && window.htmx) window.htmx.ajax("GET", status.getAttribute("hx-get"), { target: status, swap: "outerHTML" });
    button.disabled = reply.outcome === "awaiting_review" || reply.error === "awaiting_review" || reply.error === "rejected";
  });
}

async function paperStep(section) {
  await cameraStart(preview);
  for (const button of section.querySelectorAll("[data-side]")) {
    button.disabled = false;
    button.addEventListener("click", async () => {
      button.disabled = true;
      const side = button.dataset.side;
      const reply = await postBlob(section.dataset.urlTemplate.replace("SIDE", side), await snapshot(preview));
      section.querySelector(`[data-kept="${side}"]`).hidden = !reply.ok;
      button.disabled = false;
    });
  }
}

function waitingRoom(section) {
  // Everyone's page opens the exam at the start; a little spread keeps a full hall from
  // arriving in the same millisecond.
  document.addEventListener("exam-clock:started", () => {
    setTimeout(() => location.assign(section.dataset.journeyUrl), Math.random() * 1500);
  });
}

const identity = document.getElementById("identity-step");
const paper = document.getElementById("paper-step");
const waiting = document.getElementById("waiting-room");
if (identity) identityStep(identity);
if (paper) paperStep(paper);
if (waiting) waitingRoom(waiting);
