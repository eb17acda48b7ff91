"""What the paired phone's page sends on its socket (besides WebRTC, handled by media)."""

from channels.db import database_sync_to_async

from invigilate.realtime.handlers import phone_handler

from . import selectors, services


@phone_handler("placement.confirm")
async def placement_confirm(consumer, message):
    """``{"type": "placement.confirm", "request_id": 7}``: the candidate moved the phone."""
    request_id = message.get("request_id")
    if not isinstance(request_id, int):
        raise ValueError("request_id must be an integer")
    confirmed = await database_sync_to_async(services.placement_request_confirm)(
        registration=consumer.registration, request_id=request_id
    )
    return {"type": "placement.confirm_result", "request_id": request_id, "ok": confirmed}


@phone_handler("placement.pending")
async def placement_pending(consumer, message):
    """Requests still to confirm: a phone that (re)connects shows them at once."""
    pending = await database_sync_to_async(
        lambda: [{"request_id": r.pk, "kind": r.kind, "text": r.text}
                 for r in selectors.placement_requests_pending(registration=consumer.registration)]
    )()
    return {"type": "placement.pending", "requests": pending}
