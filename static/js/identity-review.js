// The invigilator's identity reviews, live: the page listens on the sockets of its rooms (the
// proctoring dashboard's /ws/room/<id>/) and re-reads its list (htmx, the same fragment) when an
// attempt is sent for review or decided by someone else, and after a reconnection (anything
// missed while offline is in the list it re-reads).
const status = document.getElementById("identity-review-live");
const rooms = status.dataset.rooms.split(",").filter(Boolean);
const open = new Set();

function changed() {
  document.body.dispatchEvent(new Event("identity-review-changed"));
}

function show() {
  const live = open.size === rooms.length;
  status.dataset.state = live ? "live" : "offline";
  status.textContent = live ? status.dataset.textLive : status.dataset.textOffline;
}

function follow(roomId) {
  let delay = 500;
  let opened = false;
  const connect = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/room/${roomId}/`);
    socket.addEventListener("open", () => {
      delay = 500;
      open.add(roomId);
      show();
      if (opened) changed(); // catch up on what happened while the socket was down
      opened = true;
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "identity.review_requested" || message.type === "identity.decided") changed();
    });
    socket.addEventListener("close", (event) => {
      open.delete(roomId);
      show();
      if (event.code === 4401 || event.code === 4403) return; // signed out or no longer assigned
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    });
  };
  connect();
}

rooms.forEach(follow);
if (!rooms.length) status.hidden = true;
