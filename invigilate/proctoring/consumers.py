"""The staff dashboard's websocket: one room's wall and alert feed, live."""

from datetime import datetime

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import timezone, translation

from invigilate.realtime.auth import staff_user_from_scope
from invigilate.realtime.consumers import CLOSE_REVOKED, CLOSE_UNAUTHENTICATED, PushEventsMixin
from invigilate.realtime.groups import room_group, user_group
from invigilate.supervision import services as supervision_services

from . import fragments, selectors
from .concurrency import database_sync_to_async_parallel as database_sync_to_async

# The cursor a dashboard sends back is moved this far into the past: a change committed
# just after a catch-up query (its changed_at is earlier than its commit) is not skipped.
CATCH_UP_OVERLAP_SECONDS = 5


class RoomDashboardConsumer(PushEventsMixin, AsyncJsonWebsocketConsumer):
    """Pushes rendered alert and tile fragments of one room to a member of staff.

    Who may join: the room's invigilators, the exam's supervisors and exam admins
    (``selectors.room_get_for_viewer``). The socket closes on sign-out (``session.revoked``
    to the user's group) and when the user loses the assignment (``assignment.removed``).
    """

    async def connect(self):
        self.user = staff_user_from_scope(self.scope)
        if self.user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.room_id = int(self.scope["url_route"]["kwargs"]["room_id"])
        self.room = await database_sync_to_async(selectors.room_get_for_viewer)(user=self.user, room_id=self.room_id)
        if self.room is None:
            await self.close(code=CLOSE_REVOKED)
            return
        self.language = self._language()
        self.group_names = [room_group(self.room.pk), user_group(self.user.pk)]
        for group in self.group_names:
            await self.channel_layer.group_add(group, self.channel_name)
        # Supervision measures who had the room's wall open, and when: recorded before the
        # socket is accepted, so that no open dashboard is ever missing from the figures.
        await database_sync_to_async(supervision_services.dashboard_connection_open)(
            user=self.user, room=self.room, channel_name=self.channel_name
        )
        await self.accept()

    def _language(self) -> str:
        cookie = self.scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME)
        known = {code for code, _name in settings.LANGUAGES}
        return cookie if cookie in known else settings.LANGUAGE_CODE

    async def disconnect(self, code):
        for group in getattr(self, "group_names", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        if getattr(self, "group_names", None):
            await database_sync_to_async(supervision_services.dashboard_connection_close)(channel_name=self.channel_name)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or content.get("type") != "sync":
            await self.send_json({"type": "error", "error": "unknown_type"})
            return
        since = None
        if content.get("since"):
            try:
                since = datetime.fromisoformat(str(content["since"]))
            except ValueError:
                await self.send_json({"type": "error", "error": "bad_message", "detail": "since: not a timestamp"})
                return
        await database_sync_to_async(supervision_services.dashboard_connection_touch)(channel_name=self.channel_name)
        await self.catch_up(since)

    async def catch_up(self, since):
        """Send every alert changed since the dashboard's cursor; the database is the truth."""
        server_time = timezone.now()
        if since is not None:
            since -= timezone.timedelta(seconds=CATCH_UP_OVERLAP_SECONDS)
        messages = await self._changes(since)
        if messages is None:
            await self.send_json({"type": "reload", "reason": "too_far_behind"})
            return
        for message in messages:
            await self.send_json(message)
        alerts = sum(message["type"] == "alert" for message in messages)
        await self.send_json({"type": "synced", "server_time": server_time.isoformat(), "count": alerts})

    @database_sync_to_async
    def _changes(self, since):
        alerts = selectors.alert_changes_for_room(room=self.room, since=since)
        if alerts is None:
            return None
        with translation.override(self.language):
            messages = [fragments.alert_message(alert, viewer=self.user) for alert in alerts]
            # Their tiles' badges changed too (a dropped push carried the tile as well).
            for registration_id in dict.fromkeys(alert.registration_id for alert in alerts):
                tile = fragments.tile_message(room=self.room, registration_id=registration_id)
                if tile:
                    messages.append(tile)
        return messages

    # --- events from the groups ---

    async def alert_raised(self, event):
        await self._send_alert(event)

    async def alert_updated(self, event):
        await self._send_alert(event)

    async def _send_alert(self, event):
        messages = await self._render_alert(event["alert_id"], event["registration_id"])
        for message in messages:
            await self.send_json(message)

    @database_sync_to_async
    def _render_alert(self, alert_id, registration_id):
        alert = selectors.alert_get_for_viewer(user=self.user, alert_id=alert_id)
        if alert is None or alert.room_id != self.room.pk:
            return []
        with translation.override(self.language):
            messages = [fragments.alert_message(alert, viewer=self.user)]
            tile = fragments.tile_message(room=self.room, registration_id=registration_id)
        return messages + ([tile] if tile else [])

    async def tile_refresh(self, event):
        message = await self._render_tile(event["registration_id"])
        if message:
            await self.send_json(message)

    @database_sync_to_async
    def _render_tile(self, registration_id):
        with translation.override(self.language):
            return fragments.tile_message(room=self.room, registration_id=registration_id)

    async def assignment_removed(self, event):
        still = await database_sync_to_async(selectors.room_get_for_viewer)(user=self.user, room_id=self.room.pk)
        if still is None:
            await self.send_json({"type": "session.revoked", "reason": "unassigned"})
            await self.close(code=CLOSE_REVOKED)
