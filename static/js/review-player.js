// The review page's players: each plays one recording's segments in order, and every
// "play here" on the timeline positions all of them at that moment where a segment covers it.

const playlists = JSON.parse(document.getElementById("review-playlists").textContent);
const players = new Map();

for (const figure of document.querySelectorAll("figure.player")) {
  const playlist = playlists.find((candidate) => candidate.id === figure.dataset.playlist);
  if (!playlist || !playlist.segments.length) continue;
  const player = {playlist, figure, video: figure.querySelector("video"), label: figure.querySelector(".segment-label"), index: -1};
  player.video.addEventListener("ended", () => {
    if (player.index + 1 < playlist.segments.length) load(player, player.index + 1, 0, true);
  });
  players.set(playlist.id, player);
  load(player, 0, 0, false);
}

function load(player, index, offsetSeconds, play) {
  const segment = player.playlist.segments[index];
  player.index = index;
  player.label.textContent = `${index + 1} / ${player.playlist.segments.length}`;
  // The latest request wins: a "play here" clicked while the segment is still loading must
  // not be undone by the position asked for when the loading began.
  player.target = {offset: Math.max(0, offsetSeconds), play};
  if (player.video.dataset.src === segment.url) {
    if (player.video.readyState >= HTMLMediaElement.HAVE_METADATA) start(player);
    return; // otherwise the pending "loadedmetadata" starts it
  }
  player.video.dataset.src = segment.url;
  player.video.src = segment.url;
  player.video.addEventListener("loadedmetadata", () => start(player), {once: true});
}

function start(player) {
  const {offset, play} = player.target;
  if (Math.abs(player.video.currentTime - offset) > 0.01) player.video.currentTime = offset;
  if (play) player.video.play().catch(() => {});
}

// The segment covering ``at`` (ms since the epoch), else the next one after it.
function locate(segments, at) {
  let next = -1;
  for (let index = 0; index < segments.length; index += 1) {
    const {start, duration} = segments[index];
    if (start == null) continue;
    const end = start + (duration || 0) * 1000;
    if (at >= start && at < end) return {index, offset: (at - start) / 1000};
    if (start > at && next === -1) next = index;
  }
  return next === -1 ? null : {index: next, offset: 0};
}

export function seekAll(at) {
  let found = false;
  for (const player of players.values()) {
    const place = locate(player.playlist.segments, at);
    if (!place) continue;
    found = true;
    load(player, place.index, place.offset, true);
  }
  const first = document.querySelector("figure.player");
  if (found && first) first.scrollIntoView({block: "nearest"});
  return found;
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-seek-at]");
  if (button && button.tagName === "BUTTON") seekAll(Number(button.dataset.seekAt));
});

const jump = document.getElementById("jump");
if (jump) {
  jump.addEventListener("change", () => {
    const option = jump.selectedOptions[0];
    if (!option || !option.value) return;
    const target = document.getElementById(option.value);
    if (target) {
      target.scrollIntoView({block: "center"});
      target.classList.add("focused");
      setTimeout(() => target.classList.remove("focused"), 2000);
    }
    seekAll(Number(option.dataset.seekAt));
  });
}

window.reviewPlayers = {seekAll, players};
