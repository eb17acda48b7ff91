"""Staff websockets of the media plane: focus-view signalling and room thumbnails."""

import uuid

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from invigilate.accounts.selectors import user_may_invigilate_room
from invigilate.exams.models import ExamRoom
from invigilate.realtime.auth import staff_user_from_scope
from invigilate.realtime.consumers import CLOSE_UNAUTHENTICATED, PushEventsMixin
from invigilate.realtime.groups import room_group, user_group

from .selectors import media_peers_open, registration_watchable

CLOSE_FORBIDDEN = 4403


class FocusViewConsumer(PushEventsMixin, AsyncJsonWebsocketConsumer):
    """Signalling for one focus view: the page's offer goes to the worker holding the candidate.

    Closing the socket (the page closed, the drawer shut) closes the viewer's connection.
    """

    async def connect(self):
        user = staff_user_from_scope(self.scope)
        if user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        registration_id = int(self.scope["url_route"]["kwargs"]["registration_id"])
        registration = await database_sync_to_async(registration_watchable)(user=user, registration_id=registration_id)
        if registration is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.registration_id = registration_id
        self.viewer_id = uuid.uuid4().hex
        self.worker_channels: set[str] = set()
        # Unassigning or signing out the user closes this socket too.
        self.group_names = [user_group(user.pk)]
        for group in self.group_names:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "group_names", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        for channel in getattr(self, "worker_channels", set()):
            await self.channel_layer.send(channel, {"type": "media.viewer_close", "viewer_id": self.viewer_id})

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or content.get("type") != "webrtc.offer":
            await self.send_json({"type": "error", "error": "unknown_type"})
            return
        sdp = content.get("sdp")
        if not isinstance(sdp, str) or not sdp.startswith("v=0") or len(sdp) > 64 * 1024:
            await self.send_json({"type": "error", "error": "bad_message"})
            return
        if settings.MEDIA_EMBEDDED_WORKER:
            from .worker import embedded_worker_ensure

            await embedded_worker_ensure()
        peers = await database_sync_to_async(media_peers_open)(registration_id=self.registration_id)
        if not peers:
            await self.send_json({"type": "media.viewer_unavailable", "reason": "no_media"})
            return
        # One worker serves the view: a candidate's phone is placed on its PC's worker
        # (services.media_worker_choose); they differ only while one of them reconnects.
        channel = peers[0].worker.channel_name
        self.worker_channels.add(channel)
        await self.channel_layer.send(channel, {
            "type": "media.viewer_offer", "viewer_id": self.viewer_id, "registration_id": self.registration_id,
            "sdp": sdp, "sdp_type": "offer", "reply_channel": self.channel_name,
        })


class RoomMediaConsumer(PushEventsMixin, AsyncJsonWebsocketConsumer):
    """Thumbnails of one room, for the room's thumbnail page (the wall has its own socket)."""

    async def connect(self):
        user = staff_user_from_scope(self.scope)
        if user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        room_id = int(self.scope["url_route"]["kwargs"]["room_id"])
        if not await database_sync_to_async(_may_watch_room)(user=user, room_id=room_id):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group_names = [room_group(room_id), user_group(user.pk)]
        for group in self.group_names:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "group_names", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def dispatch(self, message):
        # Only thumbnails leave through this socket; the room group carries other apps' events.
        kind = message["type"]
        if kind.startswith("websocket.") or kind in ("media.thumbnails", "session.revoked"):
            await super().dispatch(message)


def _may_watch_room(*, user, room_id: int) -> bool:
    from invigilate.accounts.models import Role
    from invigilate.accounts.selectors import user_has_exam_role

    room = ExamRoom.objects.filter(pk=room_id).first()
    if room is None:
        return False
    return user_may_invigilate_room(user=user, room_id=room_id) or user_has_exam_role(
        user=user, exam_id=room.exam_id, role=Role.SUPERVISOR
    )
