import pytest


@pytest.fixture(autouse=True)
def media_root(request, settings, tmp_path):
    """In-process tests store files under a temporary folder; tests against the live server
    read what that server stored under the configured MEDIA_ROOT."""
    if "live_world" in request.fixturenames:
        return settings.MEDIA_ROOT
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
