import pytest


@pytest.fixture(autouse=True)
def media_root(request, settings, tmp_path):
    """In-process tests store files under a temporary folder; tests against the live server
    read what that server stored under the configured MEDIA_ROOT."""
    if "live_world" in request.fixturenames:
        return settings.MEDIA_ROOT
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# The uploads server commits every 16 KiB, so a PATCH cut mid-body leaves committed parts
# even when only a few hundred KiB got through.
UPLOADS_COMMIT_EVERY_BYTES = 16 * 1024


@pytest.fixture(scope="session")
def uploads_server(django_db_setup, django_db_blocker):
    """``manage.py serve_uploads`` (uvicorn) on the test database, as a real subprocess."""
    from tests.live import LiveServer

    with django_db_blocker.unblock():
        server = LiveServer(command="serve_uploads",
                            env={"EVIDENCE_COMMIT_EVERY_BYTES": str(UPLOADS_COMMIT_EVERY_BYTES)}).start()
    server.name = "uvicorn"
    yield server
    server.stop()


@pytest.fixture(params=["daphne", "uvicorn"])
def tus_server(request):
    """Each server that serves tus in some deployment: daphne (``make run``, and the web
    processes) and uvicorn (the production uploads processes)."""
    server = request.getfixturevalue("daphne_server" if request.param == "daphne" else "uploads_server")
    server.name = request.param
    return server
