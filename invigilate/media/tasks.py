from celery import shared_task

from invigilate.realtime.events import event_build
from invigilate.realtime.groups import device_group
from invigilate.realtime.publish import group_send_now

from . import services
from .thumbnails import thumbnail_purge as purge


@shared_task(name="invigilate.media.tasks.media_worker_sweep")
def media_worker_sweep() -> int:
    """Notice dead media workers; their candidates' pages offer again (to a live worker)."""
    devices = services.media_worker_sweep()
    for registration_id, source in devices:
        group_send_now(device_group(registration_id, source),
                       event_build("media.reconnect", source=source, reason="worker_lost"))
    return len(devices)


@shared_task(name="invigilate.media.tasks.thumbnail_purge")
def thumbnail_purge() -> int:
    return purge()
