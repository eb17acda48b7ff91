"""Messages a candidate's page may send on its websocket, by ``type``.

Each app registers the message types it understands (in its AppConfig.ready) with a handler
``async def handler(consumer, message) -> dict | None``; the returned dict, if any, is sent
back to that socket. One socket per page serves every feature (signals, journey, help,
WebRTC signalling), so the browser keeps one connection and one reconnect logic.
"""

from collections.abc import Awaitable, Callable

CandidateHandler = Callable[..., Awaitable[dict | None]]
CANDIDATE_HANDLERS: dict[str, CandidateHandler] = {}


def candidate_handler(message_type: str):
    def register(handler: CandidateHandler) -> CandidateHandler:
        if message_type in CANDIDATE_HANDLERS and CANDIDATE_HANDLERS[message_type] is not handler:
            raise ValueError(f"two handlers for candidate message {message_type}")
        CANDIDATE_HANDLERS[message_type] = handler
        return handler

    return register
