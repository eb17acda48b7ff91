from celery import shared_task

from invigilate.realtime.events import event_build
from invigilate.realtime.groups import candidate_group
from invigilate.realtime.publish import group_send_now

from . import services
from .thumbnails import thumbnail_purge as purge


@shared_task(name="invigilate.media.tasks.media_worker_sweep")
def media_worker_sweep() -> int:
    """Notice dead media workers; their candidates' pages offer again (to a live worker)."""
    registrations = services.media_worker_sweep()
    for registration_id in registrations:
        group_send_now(candidate_group(registration_id), event_build("media.reconnect", source="pc", reason="worker_lost"))
    return len(registrations)


@shared_task(name="invigilate.media.tasks.thumbnail_purge")
def thumbnail_purge() -> int:
    return purge()
