"""The embedded scheduler: Celery beat's schedule, run in a thread of the web process.

Used only when there is no broker (the embedded default). The tasks are the same ones beat
sends to workers in production, and each is idempotent, so nothing depends on which runs them.
"""

import logging
import threading
import time

from django.conf import settings

logger = logging.getLogger(__name__)


def _interval(entry: dict) -> float:
    schedule = entry["schedule"]
    return schedule.total_seconds() if hasattr(schedule, "total_seconds") else float(schedule)


class EmbeddedScheduler(threading.Thread):
    def __init__(self, *, tick: float = 0.5):
        super().__init__(name="embedded-scheduler", daemon=True)
        self.tick = tick
        self.stopping = threading.Event()

    def run(self):
        from django.db import close_old_connections

        from invigilate.celery import app

        app.loader.import_default_modules()
        due = {name: time.monotonic() + _interval(entry) for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}
        while not self.stopping.wait(self.tick):
            now = time.monotonic()
            for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
                if now < due[name]:
                    continue
                due[name] = now + _interval(entry)
                try:
                    app.tasks[entry["task"]].apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
                except Exception:  # one failing sweep must not stop the others
                    logger.exception("periodic task %s failed", name)
                finally:
                    close_old_connections()

    def stop(self):
        self.stopping.set()
