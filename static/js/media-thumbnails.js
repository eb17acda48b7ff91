// Live thumbnails of a room: <img data-thumbnail-for="<registration id>"> follow
// "media.thumbnails" (the room's new pictures, several candidates per message). The
// invigilators' wall has its own socket and shows the same event with thumbnailsShow.

export function thumbnailsShow(message, root = document) {
  for (const thumbnail of message.thumbnails || []) {
    for (const image of root.querySelectorAll(`img[data-thumbnail-for="${thumbnail.registration_id}"]`)) {
      image.src = thumbnail.url;
      image.hidden = false;
      image.dataset.takenAt = thumbnail.taken_at;
    }
  }
}

export function followThumbnails(root) {
  const roomId = root.dataset.room;
  let delay = 500;
  function open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/media/room/${roomId}/`);
    socket.addEventListener("open", () => { delay = 500; });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "media.thumbnails") thumbnailsShow(message, root);
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
