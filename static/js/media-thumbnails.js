// Live thumbnails of a room: <img data-thumbnail-for="<registration id>"> follow
// "media.thumbnails" (the room's new pictures, several candidates per message). The
// invigilators' wall has its own socket and shows the same event with thumbnailsShow.

import { staffSocketOpen } from "./staff-socket.js";

export function thumbnailsShow(message, root = document) {
  for (const thumbnail of message.thumbnails || []) {
    for (const image of root.querySelectorAll(`img[data-thumbnail-for="${thumbnail.registration_id}"]`)) {
      image.src = thumbnail.url;
      image.hidden = false;
      image.dataset.takenAt = thumbnail.taken_at;
    }
  }
}

const root = document.querySelector("[data-room-thumbnails]");
if (root) {
  staffSocketOpen({
    path: `/ws/media/room/${root.dataset.room}/`,
    handlers: { "media.thumbnails": (message) => thumbnailsShow(message, root) },
  });
}
