// A staff page's websocket: each JSON message goes to the page's handler for its type, or,
// without one, to the included panels as a "socket-message" event; a lost connection is
// retried with back-off, and a closed session (4401 signed out, 4403 revoked or unassigned)
// reloads the page so the server decides where the user lands. The page keeps its own state.

export function staffSocketOpen({ path, handlers, onOpen, onOffline, onReconnect }) {
  let socket = null;
  let retryDelay = 500;
  let stopped = false;

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}${path}`);
    socket.addEventListener("open", () => {
      retryDelay = 500;
      if (onOpen) onOpen();
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      const handler = handlers[message.type];
      if (handler) handler(message);
      else document.dispatchEvent(new CustomEvent("socket-message", { detail: message }));
    });
    socket.addEventListener("close", (event) => {
      if (stopped) return;
      if (onOffline) onOffline();
      if (event.code === 4401 || event.code === 4403) {
        location.reload();
        return;
      }
      setTimeout(() => {
        connect();
        if (onReconnect) onReconnect();
      }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    });
  }

  connect();
  return {
    send(message) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    },
    stop() {
      stopped = true;
    },
  };
}
