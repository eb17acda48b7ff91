import time

import pytest
from django.conf import settings
from django.test import override_settings


@pytest.fixture
def media_root(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path):
        yield tmp_path


@pytest.fixture
def media_worker(transactional_db, media_root):
    """A live media worker: in-process in the embedded default, a separate process with Redis.

    Both write under the test's MEDIA_ROOT.
    """
    from invigilate.media import worker as worker_module
    from invigilate.media.models import MediaWorker

    if settings.MEDIA_EMBEDDED_WORKER:
        yield None
        # The embedded runtime is bound to this test's event loop; the next test starts its own.
        worker_module._embedded = None
        worker_module._embedded_lock = None
        return
    from tests.live import test_database_url
    from tests.media.peers import WorkerProcess

    process = WorkerProcess(env={"MEDIA_ROOT": str(media_root)}).start(test_database_url())
    deadline = time.monotonic() + 20
    while not MediaWorker.objects.filter(status="alive").exists():
        if process.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("media worker did not start: " + process.output()[-3000:])
        time.sleep(0.1)
    yield process
    process.stop()
