"""Messages a candidate's page may send on its websocket, by ``type``.

Each app registers the message types it understands (in its AppConfig.ready) with a handler
``async def handler(consumer, message) -> dict | None``; the returned dict, if any, is sent
back to that socket. One socket per page serves every feature (signals, journey, help,
WebRTC signalling), so the browser keeps one connection and one reconnect logic.
"""

from collections.abc import Awaitable, Callable

CandidateHandler = Callable[..., Awaitable[dict | None]]
CANDIDATE_HANDLERS: dict[str, CandidateHandler] = {}
# The paired phone's page has its own socket and a smaller vocabulary (WebRTC, placement).
PHONE_HANDLERS: dict[str, CandidateHandler] = {}


def _registrar(table: dict[str, CandidateHandler], message_type: str):
    def register(handler: CandidateHandler) -> CandidateHandler:
        if message_type in table and table[message_type] is not handler:
            raise ValueError(f"two handlers for message {message_type}")
        table[message_type] = handler
        return handler

    return register


def candidate_handler(message_type: str):
    """Register a handler for a message of the candidate's PC page."""
    return _registrar(CANDIDATE_HANDLERS, message_type)


def phone_handler(message_type: str):
    """Register a handler for a message of the paired phone's page (``consumer.phone`` is set)."""
    return _registrar(PHONE_HANDLERS, message_type)
