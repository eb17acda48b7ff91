"""Who may open a focus view, the room's thumbnails, and a thumbnail."""

import pytest
from django.urls import reverse

from invigilate.media.thumbnails import thumbnail_store, thumbnail_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    _, taken_ms = thumbnail_store(registration_id=world.candidate.pk, track="camera", jpeg=b"\xff\xd8jpeg")
    return thumbnail_url(registration_id=world.candidate.pk, track="camera", taken_ms=taken_ms)


@pytest.mark.parametrize("persona,status", [
    ("invigilator", 200), ("supervisor", 200), ("admin", 200),
    ("other_invigilator", 403), ("outsider", 403), ("technician", 403), ("reviewer", 403),
])
def test_it_opens_the_focus_view_only_to_who_may_watch(client, world, persona, status):
    client.force_login(getattr(world, persona))
    response = client.get(reverse("media:focus", args=[world.candidate.pk]))
    assert response.status_code == status
    if status == 200:
        assert f'data-registration="{world.candidate.pk}"' in response.content.decode()


@pytest.mark.parametrize("persona,status", [
    ("invigilator", 200), ("supervisor", 200), ("reviewer", 200), ("other_invigilator", 403), ("outsider", 403),
])
def test_it_serves_thumbnails_only_to_who_may_watch_or_review(client, world, stored, persona, status):
    client.force_login(getattr(world, persona))
    assert client.get(stored).status_code == status


def test_it_lists_the_rooms_candidates_for_its_invigilator_only(client, world):
    client.force_login(world.invigilator)
    page = client.get(reverse("media:room_thumbnails", args=[world.room_a.pk]))
    assert f'data-thumbnail-for="{world.candidate.pk}"' in page.content.decode()
    assert client.get(reverse("media:room_thumbnails", args=[world.room_b.pk])).status_code == 403
