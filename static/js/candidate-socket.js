// The one websocket of a candidate's page. Every feature (integrity signals, the journey,
// help requests, WebRTC signalling) sends and listens through it, so a page has a single
// connection and a single reconnect policy.
//
//   import { candidateSocket } from "/static/js/candidate-socket.js";
//   candidateSocket.on("alert.warned", (message) => ...);
//   candidateSocket.send({ type: "signal", kind: "focus_lost" });
//
// Messages sent while the socket is down wait in memory and go out, in order, on reconnect.

const listeners = new Map();
const pending = [];
let socket = null;
let retryDelay = 500;
let opened = false;
// The PC's pages use /ws/candidate/; the paired phone's page configures /ws/phone/ first.
let path = "/ws/candidate/";

function url() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${path}`;
}

function emit(type, message) {
  for (const listener of listeners.get(type) || []) {
    try {
      listener(message);
    } catch (error) {
      console.error("listener for", type, "failed", error);
    }
  }
}

function flush() {
  while (socket && socket.readyState === WebSocket.OPEN && pending.length) {
    socket.send(JSON.stringify(pending.shift()));
  }
}

function connect() {
  socket = new WebSocket(url());
  socket.addEventListener("open", () => {
    retryDelay = 500;
    emit("socket.open", { reconnected: opened });
    opened = true;
    flush();
  });
  socket.addEventListener("message", (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    emit(message.type, message);
    emit("*", message);
  });
  socket.addEventListener("close", (event) => {
    emit("socket.closed", { code: event.code });
    // 4401: not signed in; 4403: session revoked (signed in elsewhere, signed out).
    if (event.code === 4401 || event.code === 4403) {
      emit("session.ended", { code: event.code });
      return;
    }
    setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10000);
  });
}

export const candidateSocket = {
  // Before start(): which socket this page speaks on (the phone's page: "/ws/phone/").
  configure({ path: socketPath }) {
    if (socketPath) path = socketPath;
  },
  on(type, listener) {
    if (!listeners.has(type)) listeners.set(type, []);
    listeners.get(type).push(listener);
    return () => listeners.set(type, listeners.get(type).filter((l) => l !== listener));
  },
  send(message) {
    pending.push(message);
    flush();
  },
  get connected() {
    return !!socket && socket.readyState === WebSocket.OPEN;
  },
  start() {
    if (!socket) connect();
  },
};
