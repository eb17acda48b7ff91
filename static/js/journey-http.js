// Requests from the candidate's journey pages: JSON and binary POSTs with the CSRF token.
// A refusal from the server comes back as {ok: false, status, error, message}; a network
// failure as {ok: false, status: 0}.

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function result(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = {};
  }
  return { ok: response.ok, status: response.status, ...body };
}

export async function postJson(url, data) {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(data),
      credentials: "same-origin",
    });
    return await result(response);
  } catch {
    return { ok: false, status: 0 };
  }
}

// POST a Blob, reporting progress (0..1) as it goes up.
export function postBlob(url, blob, { onProgress } = {}) {
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.setRequestHeader("Content-Type", blob.type || "application/octet-stream");
    request.upload.onprogress = (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      let body = {};
      try {
        body = JSON.parse(request.responseText);
      } catch {
        body = {};
      }
      resolve({ ok: request.status >= 200 && request.status < 300, status: request.status, ...body });
    };
    request.onerror = () => resolve({ ok: false, status: 0 });
    request.send(blob);
  });
}

export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
