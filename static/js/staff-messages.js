// Staff messages and supervisor presence in any staff dashboard. The page's own socket
// script re-dispatches the messages it does not handle as "socket-message" DOM events;
// this turns the ones about staff into htmx triggers, and the panels re-read themselves.

const TRIGGERS = {
  "staff_message.posted": "staff-message",
  "supervision.presence": "supervision-presence",
};

let pending = new Set();
let timer = null;

document.addEventListener("socket-message", (event) => {
  const trigger = TRIGGERS[event.detail?.type];
  if (!trigger) return;
  pending.add(trigger);
  clearTimeout(timer);
  timer = setTimeout(() => {
    for (const name of pending) window.htmx?.trigger(document.body, name);
    pending = new Set();
  }, 100);
});

// Keep the newest message in view after each re-read.
document.body.addEventListener("htmx:afterSettle", (event) => {
  for (const list of event.target.querySelectorAll?.(".messages-list") || []) list.scrollTop = list.scrollHeight;
});
