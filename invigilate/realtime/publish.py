from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from .events import event_build
from .groups import room_group


def group_send_now(group: str, event: dict) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, event)


def publish_on_commit(groups: list[str] | str, name: str, **fields) -> None:
    """Send an event to groups after the current transaction commits (never before).

    The event is built (and checked) now, so a bad event fails the change that made it.
    Outside a transaction it is sent at once.
    """
    event = event_build(name, **fields)
    targets = [groups] if isinstance(groups, str) else list(groups)

    def send():
        for group in targets:
            group_send_now(group, event)

    transaction.on_commit(send)


def tile_refresh_on_commit(*, room_id: int, registration_id: int) -> None:
    """After commit, the room's walls re-render this candidate's tile from the database."""
    publish_on_commit(room_group(room_id), "tile.refresh", registration_id=registration_id)
