// The candidate's camera on the journey pages: a preview, and still pictures from it.

export async function cameraStart(video, { audio = false } = {}) {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: { ideal: 640 }, height: { ideal: 480 } },
    audio,
  });
  if (video) {
    video.srcObject = stream;
    await video.play().catch(() => {});
  }
  return stream;
}

// A JPEG of what the preview shows now.
export async function snapshot(video, quality = 0.85) {
  if (!video.videoWidth) await new Promise((resolve) => video.addEventListener("loadeddata", resolve, { once: true }));
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
}

// Ask for the entire screen; refuse a window or a tab. Resolves to {stream, ok, surface}.
export async function entireScreenShare() {
  const stream = await navigator.mediaDevices.getDisplayMedia({
    video: { displaySurface: "monitor" },
    audio: false,
    monitorTypeSurfaces: "include",
    selfBrowserSurface: "exclude",
    surfaceSwitching: "exclude",
  });
  const track = stream.getVideoTracks()[0];
  const surface = track?.getSettings().displaySurface;
  // Browsers that do not report the surface (older Firefox) cannot be checked: staff see "unknown".
  return { stream, ok: surface === "monitor" || surface === undefined, surface: surface || "unknown" };
}
