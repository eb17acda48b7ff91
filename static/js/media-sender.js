// The candidate's media sender: camera + microphone + screen to the media worker over WebRTC.
//
//   import { startMedia } from "/static/js/media-sender.js";
//   const media = await startMedia({ camera: cameraStream, screen: screenStream });
//   media.onstate = (state) => ...;   // "connecting" | "connected" | "reconnecting" | "stopped"
//   media.stop();                     // on submission / sign-out
//
// Options: { camera: MediaStream (video + audio), screen: MediaStream (video),
//            source: "pc" | "phone" (default "pc"), iceServers: [...] (default: fetched from
//            /media/ice/ with this candidate's short-lived TURN credentials) }.
//
// Signalling goes over the page's one websocket (candidate-socket.js): this module sends
// "webrtc.offer" and listens for "media.answer", "media.quality" ({level: "high"|"low"}:
// someone is / nobody is watching) and "media.reconnect" (the worker went away: offer again,
// the server picks another worker). Keyframe requests travel as RTCP PLI, which the browser's
// encoder honours by itself, so they need no message here. aiortc does not trickle ICE, so
// the offer leaves once gathering is complete.

import { candidateSocket } from "/static/js/candidate-socket.js";

// Low when nobody watches (the wall's thumbnails and the recording need little), high in focus.
const QUALITY = {
  low: {
    camera: { maxBitrate: 250_000, maxFramerate: 10, scaleResolutionDownBy: 2 },
    screen: { maxBitrate: 250_000, maxFramerate: 1, scaleResolutionDownBy: 1 },
  },
  high: {
    camera: { maxBitrate: 900_000, maxFramerate: 20, scaleResolutionDownBy: 1 },
    screen: { maxBitrate: 1_500_000, maxFramerate: 5, scaleResolutionDownBy: 1 },
  },
};
const GATHER_TIMEOUT_MS = 3000;
const RETRY_MS = 2000;

function preferVp8(transceiver) {
  if (!RTCRtpReceiver.getCapabilities || !transceiver.setCodecPreferences) return;
  const codecs = RTCRtpReceiver.getCapabilities(transceiver.receiver.track.kind)?.codecs || [];
  const wanted = codecs.filter((c) => /vp8|opus/i.test(c.mimeType));
  const rest = codecs.filter((c) => !/vp8|opus/i.test(c.mimeType) && !/rtx|red|ulpfec/i.test(c.mimeType));
  if (wanted.length) transceiver.setCodecPreferences([...wanted, ...rest]);
}

function gatheringComplete(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === "complete") {
        pc.removeEventListener("icegatheringstatechange", done);
        resolve();
      }
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, GATHER_TIMEOUT_MS);
  });
}

async function fetchIceServers() {
  const response = await fetch("/media/ice/", { credentials: "same-origin" });
  if (!response.ok) return [];
  return (await response.json()).iceServers || [];
}

export async function startMedia({ camera, screen = null, source = "pc", iceServers = null } = {}) {
  if (!camera) throw new Error("startMedia needs the camera stream");
  const servers = iceServers ?? (await fetchIceServers());
  let pc = null;
  let stopped = false;
  let level = "low";
  let senders = {};
  let retryTimer = null;

  const media = {
    state: "connecting",
    onstate: null,
    get peerConnection() { return pc; },
    get quality() { return level; },
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      unsubscribe.forEach((off) => off());
      if (pc) pc.close();
      setState("stopped");
    },
  };

  function setState(state) {
    if (media.state === state) return;
    media.state = state;
    if (media.onstate) media.onstate(state);
  }

  async function applyQuality() {
    for (const [name, sender] of Object.entries(senders)) {
      const settings = QUALITY[level][name];
      if (!settings || !sender.track) continue;
      const parameters = sender.getParameters();
      if (!parameters.encodings || !parameters.encodings.length) parameters.encodings = [{}];
      Object.assign(parameters.encodings[0], settings);
      try {
        await sender.setParameters(parameters);
      } catch (error) {
        console.warn("could not set", name, "quality", error);
      }
    }
  }

  async function connect() {
    if (stopped) return;
    if (pc) pc.close();
    pc = new RTCPeerConnection({ iceServers: servers });
    senders = {};
    const tracks = {};
    const add = (track, name, stream) => {
      const transceiver = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
      preferVp8(transceiver);
      if (track.kind === "video") senders[name] = transceiver.sender;
      return transceiver;
    };
    const added = [];
    const cameraVideo = camera.getVideoTracks()[0];
    const microphone = camera.getAudioTracks()[0];
    if (cameraVideo) added.push([add(cameraVideo, "camera", camera), "camera"]);
    if (microphone) added.push([add(microphone, "microphone", camera), "microphone"]);
    const screenVideo = screen && screen.getVideoTracks()[0];
    if (screenVideo) {
      if ("contentHint" in screenVideo) screenVideo.contentHint = "detail";
      added.push([add(screenVideo, "screen", screen), "screen"]);
    }
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "connected") setState("connected");
      if (pc.connectionState === "failed") scheduleRetry();
    });
    await applyQuality();
    await pc.setLocalDescription(await pc.createOffer());
    await gatheringComplete(pc);
    for (const [transceiver, name] of added) tracks[transceiver.mid] = name;
    candidateSocket.send({ type: "webrtc.offer", source, sdp: pc.localDescription.sdp, tracks });
  }

  function scheduleRetry() {
    if (stopped) return;
    setState("reconnecting");
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => connect().catch(scheduleRetry), RETRY_MS);
  }

  const unsubscribe = [
    candidateSocket.on("media.answer", async (message) => {
      if (message.source !== source || !pc || pc.signalingState !== "have-local-offer") return;
      await pc.setRemoteDescription({ type: message.sdp_type, sdp: message.sdp });
    }),
    candidateSocket.on("media.quality", (message) => {
      level = message.level === "high" ? "high" : "low";
      applyQuality();
    }),
    candidateSocket.on("media.reconnect", (message) => {
      if (message.source === source) scheduleRetry();
    }),
    candidateSocket.on("socket.open", ({ reconnected }) => {
      // The socket came back: if media is down too, offer again (to whichever worker is alive).
      if (reconnected && pc && pc.connectionState !== "connected") scheduleRetry();
    }),
  ];

  candidateSocket.start();
  await connect();
  return media;
}
