from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from invigilate.accounts.models import Role
from invigilate.realtime.auth import staff_user_from_scope
from invigilate.realtime.consumers import CLOSE_UNAUTHENTICATED, PushEventsMixin
from invigilate.realtime.groups import helpdesk_group, user_group

from . import selectors, services


class TechnicianConsumer(PushEventsMixin, AsyncJsonWebsocketConsumer):
    """The console's socket: live hints for the technician's exams, and their presence.

    Presence is counted per open console; the console pings, and the presence sweep takes
    a technician offline whose consoles all went silent (a process that died says no goodbye).
    """

    async def connect(self):
        user = staff_user_from_scope(self.scope)
        if user is None or not (user.role == Role.TECHNICIAN or user.is_exam_admin):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        exam_ids = await database_sync_to_async(selectors.exam_ids_for_technician)(user=user)
        self.group_names = [helpdesk_group(exam_id) for exam_id in exam_ids] + [user_group(user.pk)]
        # Join the groups before presence makes routing offer anything, so no hint is missed.
        for group in self.group_names:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await database_sync_to_async(services.technician_presence_connect)(user=user)
        self.counted = True

    async def disconnect(self, code):
        for group in getattr(self, "group_names", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        if getattr(self, "counted", False):
            self.counted = False
            await database_sync_to_async(services.technician_presence_disconnect)(user=self.user)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await database_sync_to_async(services.technician_presence_touch)(user=self.user)
            await self.send_json({"type": "pong"})
