import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .auth import candidate_session_from_scope
from .events import EVENT_FIELDS
from .groups import candidate_group
from .handlers import CANDIDATE_HANDLERS

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_REVOKED = 4403


class PushEventsMixin:
    """Forward every declared event that reaches this consumer's groups to the browser.

    Consumers define a method only for events they must act on (e.g. ``session_revoked``);
    the rest pass through as JSON unchanged.
    """

    async def dispatch(self, message):
        handler_name = message["type"].replace(".", "_")
        if not hasattr(self, handler_name) and message["type"] in EVENT_FIELDS:
            await self.send_json(message)
            return
        await super().dispatch(message)

    async def session_revoked(self, event):
        await self.send_json(event)
        await self.close(code=CLOSE_REVOKED)


class CandidateConsumer(PushEventsMixin, AsyncJsonWebsocketConsumer):
    """The one websocket of a candidate's page. A thin transport: handlers do the work."""

    # Which device this socket speaks for, and the messages it understands (the phone's
    # socket, in the evidence app, subclasses this with its own).
    device = "pc"
    handlers = CANDIDATE_HANDLERS

    async def connect(self):
        self.candidate_session = await candidate_session_from_scope(self.scope)
        if self.candidate_session is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.registration = self.candidate_session.registration
        self.group_names = [candidate_group(self.registration.pk)]
        for group in self.group_names:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "group_names", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        message_type = content.get("type") if isinstance(content, dict) else None
        handler = self.handlers.get(message_type)
        if handler is None:
            await self.send_json({"type": "error", "error": "unknown_type", "detail": str(message_type)[:64]})
            return
        try:
            reply = await handler(self, content)
        except ValueError as error:  # handlers raise ValueError for malformed messages
            await self.send_json({"type": "error", "error": "bad_message", "detail": str(error)[:200]})
            return
        if reply is not None:
            await self.send_json(reply)

    async def decode_json(self, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return {"type": None}

    @database_sync_to_async
    def session_still_open(self) -> bool:
        self.candidate_session.refresh_from_db(fields=["ended_at"])
        return self.candidate_session.ended_at is None
