import pytest


@pytest.fixture(scope="session")
def webm_bytes(tmp_path_factory):
    from tests.review.material import webm_clip

    return webm_clip(tmp_path_factory.mktemp("webm") / "clip.webm")


@pytest.fixture
def reviewed(world, webm_bytes, settings, tmp_path):
    from tests.review.material import make_reviewed_candidate

    settings.MEDIA_ROOT = tmp_path
    made = make_reviewed_candidate(world=world, webm=webm_bytes)
    yield made
    made.cleanup()
