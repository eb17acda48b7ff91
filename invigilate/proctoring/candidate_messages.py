"""What the candidate's page sends about integrity: signals, and confirming a warning."""

import asyncio
from datetime import UTC, datetime

from invigilate.accounts.services import sessions_touch
from invigilate.realtime.handlers import candidate_handler

from . import services
from .concurrency import database_sync_to_async_parallel as database_sync_to_async
from .models import Signal

# What a browser may report; anything else is refused (and kept on the timeline).
BROWSER_KINDS = frozenset({
    "heartbeat", "page_loaded", "focus_lost", "focus_gained", "page_hidden", "page_visible",
    "fullscreen_exited", "fullscreen_entered", "multiple_screens", "single_screen", "screenshot_key", "shortcut",
    "copy", "cut", "paste", "context_menu", "devtools_opened", "page_unload", "offline", "online",
})
# Heartbeats of connected candidates are written together, once this often per process.
PRESENCE_FLUSH_SECONDS = 2
MAX_REFUSALS_RECORDED = 20


def _client_time(value) -> datetime | None:
    if isinstance(value, int | float) and value > 0:
        try:
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


@candidate_handler("signal")
async def signal(consumer, message):
    kind = message.get("kind")
    seq = message.get("seq")
    data = message.get("data") or {}
    if kind not in BROWSER_KINDS:
        await _refusal_record(consumer, f"unknown signal kind {str(kind)[:48]!r}")
        raise ValueError(f"unknown signal kind {str(kind)[:48]!r}")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        await _refusal_record(consumer, "seq must be a non-negative integer")
        raise ValueError("seq must be a non-negative integer")
    if not isinstance(data, dict):
        raise ValueError("data must be an object")
    if kind == "heartbeat":
        if getattr(consumer, "presence_recorded", False):
            presence_buffer.add(consumer)
        else:  # the first heartbeat of a socket marks the candidate connected at once
            await database_sync_to_async(services.heartbeat_record)(registration=consumer.registration)
            consumer.presence_recorded = True
        return None
    await database_sync_to_async(services.signal_record)(
        registration=consumer.registration, kind=kind, source=Signal.Source.BROWSER, client_seq=seq,
        client_time=_client_time(message.get("at")), data=data, client_id=str(message.get("client", ""))[:40],
    )
    return None


class PresenceBuffer:
    """Heartbeats waiting to be written, per process.

    A thousand pages beating every 5 s would be 200 single-row writes a second; instead
    each process writes the candidates it heard from in one statement every
    ``PRESENCE_FLUSH_SECONDS``, far inside the heartbeat timeout (15 s by default).
    """

    def __init__(self):
        self.registrations = {}
        self.session_ids = set()
        self.task = None

    def add(self, consumer) -> None:
        self.registrations[consumer.registration.pk] = consumer.registration
        self.session_ids.add(consumer.candidate_session.pk)
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.task = loop.create_task(self.run())

    async def run(self) -> None:
        while self.registrations:  # ends when idle; the next heartbeat starts it again
            await asyncio.sleep(PRESENCE_FLUSH_SECONDS)
            registrations, self.registrations = list(self.registrations.values()), {}
            session_ids, self.session_ids = self.session_ids, set()
            await database_sync_to_async(_presence_write)(registrations, session_ids)


def _presence_write(registrations, session_ids) -> None:
    services.heartbeats_record(registrations=registrations)
    sessions_touch(session_ids=session_ids)


presence_buffer = PresenceBuffer()


async def _refusal_record(consumer, detail: str) -> None:
    # Kept on the timeline (a tampered client is worth knowing about), but not endlessly.
    consumer.refusals_recorded = getattr(consumer, "refusals_recorded", 0) + 1
    if consumer.refusals_recorded <= MAX_REFUSALS_RECORDED:
        await database_sync_to_async(services.signal_record)(
            registration=consumer.registration, kind="malformed_message", source=Signal.Source.SERVER,
            data={"detail": detail},
        )


@candidate_handler("warning.confirm")
async def warning_confirm(consumer, message):
    warning_id = message.get("warning_id")
    if not isinstance(warning_id, int):
        raise ValueError("warning_id must be an integer")
    confirmed = await database_sync_to_async(services.warning_confirm)(
        registration=consumer.registration, warning_id=warning_id
    )
    return {"type": "warning.confirm_result", "warning_id": warning_id, "ok": confirmed}


@candidate_handler("warnings.pending")
async def warnings_pending(consumer, message):
    """Warnings issued while the page was away, shown again until confirmed."""
    warnings = await database_sync_to_async(
        lambda: [{"warning_id": w.pk, "message": w.text} for w in services.warnings_unconfirmed(registration=consumer.registration)]
    )()
    return {"type": "warnings.pending", "warnings": warnings}
