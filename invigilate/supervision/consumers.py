"""The supervisor's websocket: one exam's overview (rooms, escalations), live.

Events arrive as hints on the exam's group. Rooms they touch are marked dirty and re-rendered
together a moment later (a burst of alerts in one room costs one render), and every
``REFRESH_SECONDS`` every room is re-rendered, so what moves without an event (candidates'
stages, "unwatched for N minutes") stays current. Only rows whose HTML changed are sent.
"""

import asyncio

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation

from invigilate.helpdesk.models import HelpRequest
from invigilate.realtime.auth import staff_user_from_scope
from invigilate.realtime.consumers import CLOSE_REVOKED, CLOSE_UNAUTHENTICATED, PushEventsMixin
from invigilate.realtime.groups import exam_group, user_group

from . import fragments, selectors

FLUSH_DELAY_SECONDS = 0.25
REFRESH_SECONDS = 10


class SupervisorConsumer(PushEventsMixin, AsyncJsonWebsocketConsumer):
    """Who may join: the exam's supervisors and exam admins (``exam_get_for_supervisor``)."""

    async def connect(self):
        self.user = staff_user_from_scope(self.scope)
        if self.user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        exam_id = int(self.scope["url_route"]["kwargs"]["exam_id"])
        self.exam = await database_sync_to_async(selectors.exam_get_for_supervisor)(user=self.user, exam_id=exam_id)
        if self.exam is None:
            await self.close(code=CLOSE_REVOKED)
            return
        cookie = self.scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME)
        self.language = cookie if cookie in {code for code, _name in settings.LANGUAGES} else settings.LANGUAGE_CODE
        self.dirty_rooms: set[int] = set()
        self.escalations_dirty = False
        self.sent_rows: dict[int, str] = {}
        self.escalation_key = None
        self.flush_handle = None
        self.group_names = [exam_group(self.exam.pk), user_group(self.user.pk)]
        for group in self.group_names:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        self.refresher = asyncio.ensure_future(self._refresh_forever())

    async def disconnect(self, code):
        for group in getattr(self, "group_names", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        for task in (getattr(self, "refresher", None), getattr(self, "flush_handle", None)):
            if task is not None:
                task.cancel()

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or content.get("type") != "sync":
            await self.send_json({"type": "error", "error": "unknown_type"})
            return
        # The page's copy may be anything: send every row and the escalations again.
        self.sent_rows.clear()
        self.escalation_key = None
        await self._flush(all_rooms=True)
        await self.send_json({"type": "synced"})

    async def _refresh_forever(self):
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            await self._flush(all_rooms=True)

    def _mark(self, room_id=None, *, escalations=False):
        if room_id:
            self.dirty_rooms.add(int(room_id))
        self.escalations_dirty = self.escalations_dirty or escalations
        if self.flush_handle is None or self.flush_handle.done():
            self.flush_handle = asyncio.ensure_future(self._flush_later())

    async def _flush_later(self):
        await asyncio.sleep(FLUSH_DELAY_SECONDS)
        await self._flush()

    async def _flush(self, *, all_rooms=False):
        room_ids = None if all_rooms else sorted(self.dirty_rooms)
        escalations = all_rooms or self.escalations_dirty
        self.dirty_rooms = set()
        self.escalations_dirty = False
        if room_ids == [] and not escalations:
            return
        rows, escalation = await self._render(room_ids, escalations)
        for room_id, attention, html in rows:
            if self.sent_rows.get(room_id) == html:
                continue
            self.sent_rows[room_id] = html
            await self.send_json({"type": "room", "room_id": room_id, "attention": attention, "html": html})
        if escalation is not None:
            key, count, html = escalation
            if key != self.escalation_key:
                previous = set((self.escalation_key or "").split(",")) - {""}
                arrived = bool(set(key.split(",")) - {""} - previous) and self.escalation_key is not None
                self.escalation_key = key
                await self.send_json({"type": "escalations", "count": count, "new": arrived, "html": html})

    @database_sync_to_async
    def _render(self, room_ids, escalations):
        with translation.override(self.language):
            rows = []
            if room_ids is None or room_ids:
                for summary in selectors.room_summaries_for_exam(exam=self.exam, room_ids=room_ids):
                    rows.append((summary.room.pk, summary.attention, fragments.room_row_html(summary)))
            escalation = None
            if escalations:
                current = selectors.escalations_for_exam(user=self.user, exam=self.exam)
                escalation = (current.key, current.count, fragments.escalations_html(current, exam=self.exam))
        return rows, escalation

    # --- events from the groups ---

    async def alert_raised(self, event):
        self._mark(event["room_id"], escalations=event["status"] == "escalated")

    async def alert_updated(self, event):
        # Any move may take an alert off the escalations list (acknowledged on the room's behalf).
        self._mark(event["room_id"], escalations=True)

    async def help_changed(self, event):
        room_id = await self._room_of_help_request(event["request_id"])
        self._mark(room_id, escalations=True)

    @database_sync_to_async
    def _room_of_help_request(self, request_id):
        return HelpRequest.objects.filter(pk=request_id, exam=self.exam).values_list(
            "registration__room_id", flat=True
        ).first()

    async def supervision_presence(self, event):
        self._mark(event["room_id"])

    async def assignment_removed(self, event):
        still = await database_sync_to_async(selectors.exam_get_for_supervisor)(user=self.user, exam_id=self.exam.pk)
        if still is None:
            await self.send_json({"type": "session.revoked", "reason": "unassigned"})
            await self.close(code=CLOSE_REVOKED)
