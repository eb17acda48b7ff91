// The device check: each item gets a pass/fail line; the run is sent to the server, which
// measures the upload speed itself, decides, and keeps the result for the staff.
import { cameraStart, entireScreenShare } from "./camera.js";
import { postBlob, postJson } from "./journey-http.js";

const section = document.getElementById("device-check");
const texts = document.getElementById("device-texts").dataset;
const startButton = document.getElementById("device-start");
const retryButton = document.getElementById("device-retry");
const verdict = document.getElementById("device-verdict");
const meter = document.getElementById("mic-level");
const preview = document.getElementById("camera-preview");
let streams = [];

function show(item, ok, detail) {
  const line = section.querySelector(`[data-item="${item}"]`);
  line.classList.toggle("ok", ok);
  line.classList.toggle("bad", !ok);
  line.querySelector(".result").textContent = `${ok ? texts.pass : texts.fail}${detail ? ` (${detail})` : ""}`;
  return { ok, detail };
}

function browserSupport() {
  const mobile = navigator.userAgentData?.mobile ?? /Android|iPhone|iPad|Mobile/i.test(navigator.userAgent);
  const needed = [
    !!navigator.mediaDevices?.getUserMedia,
    !!navigator.mediaDevices?.getDisplayMedia,
    typeof MediaRecorder !== "undefined",
    typeof indexedDB !== "undefined",
    typeof WebSocket !== "undefined",
    !!window.crypto?.subtle,
  ];
  const ok = !mobile && needed.every(Boolean);
  return show("browser", ok, ok ? "" : texts.unsupported);
}

async function camera() {
  try {
    const stream = await cameraStart(preview, { audio: true });
    streams.push(stream);
    const settings = stream.getVideoTracks()[0].getSettings();
    return { result: show("camera", true, `${settings.width}x${settings.height}`), stream };
  } catch (error) {
    return { result: show("camera", false, `${texts.denied} ${error.name}`), stream: null };
  }
}

// Passes when the microphone hears something within a few seconds; the meter shows the level.
async function microphone(stream) {
  if (!stream || !stream.getAudioTracks().length) return show("microphone", false, texts.denied);
  const context = new AudioContext();
  await context.resume();
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let peak = 0;
  const until = performance.now() + 4000;
  while (performance.now() < until && peak < 0.02) {
    analyser.getFloatTimeDomainData(samples);
    const level = Math.sqrt(samples.reduce((sum, value) => sum + value * value, 0) / samples.length);
    peak = Math.max(peak, level);
    meter.value = Math.min(1, level * 5);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Keep the meter alive for the candidate to see.
  const keepMeter = () => {
    if (context.state === "closed") return;
    analyser.getFloatTimeDomainData(samples);
    meter.value = Math.min(1, Math.sqrt(samples.reduce((s, v) => s + v * v, 0) / samples.length) * 5);
    requestAnimationFrame(keepMeter);
  };
  keepMeter();
  return show("microphone", peak >= 0.02, peak >= 0.02 ? "" : texts.noSound);
}

async function screenShare() {
  try {
    const { stream, ok, surface } = await entireScreenShare();
    streams.push(stream);
    return show("screen", ok, ok ? surface : texts.notEntireScreen);
  } catch (error) {
    return show("screen", false, `${texts.denied} ${error.name}`);
  }
}

function singleScreen() {
  if (typeof window.screen.isExtended !== "boolean") return show("single_screen", true, texts.unknownScreens);
  return show("single_screen", !window.screen.isExtended, window.screen.isExtended ? texts.moreScreens : "");
}

async function bandwidth() {
  const url = section.dataset.bandwidthUrl;
  try {
    const start = await (await fetch(url, { credentials: "same-origin" })).json();
    const payload = new Uint8Array(start.bytes);
    crypto.getRandomValues(payload.subarray(0, 65536)); // not compressible at the start
    const reply = await postBlob(url, new Blob([payload]));
    if (!reply.ok) return show("bandwidth", false, reply.message || String(reply.status));
    const ok = reply.mbps >= reply.needed;
    return show("bandwidth", ok, `${reply.mbps} Mbit/s`);
  } catch (error) {
    return show("bandwidth", false, error.name);
  }
}

async function run() {
  startButton.hidden = true;
  retryButton.hidden = true;
  verdict.textContent = "";
  for (const stream of streams) stream.getTracks().forEach((track) => track.stop());
  streams = [];
  const results = { browser: browserSupport() };
  if (!results.browser.ok) {
    verdict.textContent = texts.unsupported;
    verdict.className = "error";
    return;
  }
  const { result, stream } = await camera();
  results.camera = result;
  results.microphone = await microphone(stream);
  results.screen = await screenShare();
  results.single_screen = singleScreen();
  results.bandwidth = await bandwidth();
  const reply = await postJson(section.dataset.url, { results });
  if (reply.ok) {
    for (const [item, entry] of Object.entries(reply.results)) show(item, entry.ok, entry.detail);
  }
  if (reply.ok && reply.passed) {
    verdict.textContent = texts.allPassed;
    verdict.className = "ok";
    setTimeout(() => location.assign(section.dataset.journeyUrl), 800);
  } else {
    verdict.textContent = reply.message || texts.someFailed;
    verdict.className = "error";
    retryButton.hidden = false;
  }
}

startButton.addEventListener("click", run);
retryButton.addEventListener("click", run);
startButton.disabled = false;
if (!browserSupport().ok) {
  startButton.hidden = true;
  verdict.textContent = texts.unsupported;
  verdict.className = "error";
}
