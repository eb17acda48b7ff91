"""The paired phone's websocket: WebRTC signalling for its live view and placement requests.

The phone is not signed in as the candidate: it holds a ``PhoneDevice`` id in its browser's
Django session (set when it redeemed a pairing code). It gets its own socket and group, so
events for the PC's page (journey, warnings, help) never reach it, and a PC page can never
speak as the phone.
"""

from channels.db import database_sync_to_async

from invigilate.realtime.consumers import CLOSE_REVOKED, CLOSE_UNAUTHENTICATED, CandidateConsumer
from invigilate.realtime.groups import phone_group
from invigilate.realtime.handlers import PHONE_HANDLERS

from .selectors import phone_for_session


@database_sync_to_async
def _phone_from_scope(scope):
    session = scope.get("session")
    if session is None:
        return None
    return phone_for_session(session=session, session_key=session.session_key)


class PhoneConsumer(CandidateConsumer):
    device = "phone"
    handlers = PHONE_HANDLERS

    async def connect(self):
        self.phone = await _phone_from_scope(self.scope)
        if self.phone is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.registration = self.phone.registration
        self.group_names = [phone_group(self.registration.pk)]
        for group in self.group_names:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def phone_replaced(self, event):
        """Another phone was paired to this registration: this one stops speaking for it."""
        if event["phone_id"] == self.phone.pk:
            await self.send_json({"type": "session.revoked", "reason": "phone_replaced"})
            await self.close(code=CLOSE_REVOKED)
