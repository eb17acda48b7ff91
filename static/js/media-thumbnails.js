// Live thumbnails of a room: <img data-thumbnail-for="<registration id>"> follow "media.thumbnail".
// (The invigilators' wall has its own socket and does the same with the same event.)

export function followThumbnails(root) {
  const roomId = root.dataset.room;
  let delay = 500;
  function open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/media/room/${roomId}/`);
    socket.addEventListener("open", () => { delay = 500; });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type !== "media.thumbnail") return;
      const image = root.querySelector(`img[data-thumbnail-for="${message.registration_id}"]`);
      if (!image) return;
      image.src = message.url;
      image.dataset.takenAt = message.taken_at;
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4401 || event.code === 4403) return;
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 10000);
    });
  }
  open();
}

const root = document.querySelector("[data-room-thumbnails]");
if (root) followThumbnails(root);
