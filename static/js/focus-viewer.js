// The focus view: one candidate's live camera, screen, sound (and phone) from its media worker.
// The worker forwards the candidate's own encoded packets, so the picture is what was sent.
//
// <section data-focus-view data-registration="12" data-ice-servers='[]'>
//   <video data-track="camera"> <video data-track="screen"> <video data-track="phone"> <audio data-track="microphone">
// Closing the page (or calling the returned stop()) closes the connection on the worker too.

const RETRY_MS = 3000;

function gatheringComplete(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && resolve());
    setTimeout(resolve, 3000);
  });
}

export function startFocusView(root) {
  const registration = root.dataset.registration;
  const iceServers = JSON.parse(root.dataset.iceServers || "[]");
  const status = root.querySelector("[data-status]");
  let socket = null;
  let pc = null;
  let names = {};
  let stopped = false;
  let retry = null;

  const say = (text) => { if (status) status.textContent = text; };

  async function offer() {
    if (pc) pc.close();
    pc = new RTCPeerConnection({ iceServers });
    for (let i = 0; i < 3; i++) pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.addEventListener("track", (event) => {
      const name = names[event.transceiver.mid];
      const element = name && root.querySelector(`[data-track="${name}"]`);
      if (!element) return;
      element.srcObject = new MediaStream([event.track]);
      element.closest("[data-panel]")?.removeAttribute("hidden");
      element.play().catch(() => {});
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "connected") say(root.dataset.textLive);
      if (pc.connectionState === "failed") later();
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gatheringComplete(pc);
    socket.send(JSON.stringify({ type: "webrtc.offer", sdp: pc.localDescription.sdp }));
  }

  function later() {
    if (stopped) return;
    clearTimeout(retry);
    retry = setTimeout(() => (socket && socket.readyState === WebSocket.OPEN ? offer() : open()), RETRY_MS);
  }

  function open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/media/focus/${registration}/`);
    socket.addEventListener("open", () => offer());
    socket.addEventListener("message", async (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "media.viewer_answer") {
        names = message.tracks;
        await pc.setRemoteDescription({ type: message.sdp_type, sdp: message.sdp });
      } else if (message.type === "media.viewer_unavailable") {
        say(root.dataset.textUnavailable);
        later();
      }
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4401 || event.code === 4403) {
        say(root.dataset.textForbidden);
        stopped = true;
        return;
      }
      later();
    });
  }

  function stop() {
    stopped = true;
    clearTimeout(retry);
    if (pc) pc.close();
    if (socket) socket.close();
  }

  window.addEventListener("pagehide", stop);
  open();
  return stop;
}

const root = document.querySelector("[data-focus-view]");
if (root) startFocusView(root);
