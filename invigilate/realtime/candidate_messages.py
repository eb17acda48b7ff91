from django.utils import timezone

from .handlers import candidate_handler


@candidate_handler("clock")
async def clock(consumer, message):
    """The server's clock, so every countdown on the page runs on server time."""
    return {"type": "clock", "server_time": timezone.now().isoformat(), "echo": message.get("sent_at")}
