"""Continuity: which segments each recording should have, what arrived, what is missing,
the gaps, and the push that tells the invigilators' wall to refresh the tile."""

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from invigilate.evidence.models import Interruption, Source
from invigilate.evidence.selectors import evidence_status_for_registration, evidence_status_for_staff
from invigilate.evidence.services import Uploader, interruption_record, recording_report
from tests.personas import PASSWORD

from .tushelpers import create, patch, pc_cookie, webm_bytes

pytestmark = pytest.mark.django_db(transaction=True)
RECORDING = "00000000-0000-4000-8000-000000000001"


def test_it_expects_every_reported_segment_and_shows_what_is_missing(world):
    cookie = pc_cookie(world.candidate, world.candidate_id_number)
    uploader = Uploader(registration=world.candidate, source=Source.PC)
    recording_report(uploader=uploader, kind="pc_camera", client_id=RECORDING, last_seq=3,
                     started_at=datetime(2024, 1, 1, tzinfo=UTC), segment_seconds=5)
    for seq in (0, 2):
        data = webm_bytes(100, seed=seq)
        assert patch(cookie, create(cookie, data, seq=seq), 0, data).status == 204
    late = webm_bytes(50, seed=3)
    created_only = create(cookie, late, seq=3)
    status = evidence_status_for_registration(registration=world.candidate)
    camera = status.kinds["pc_camera"]
    assert (camera.expected, camera.received, camera.open_recordings) == (4, 2, 1)
    assert [(m.seq, m.state) for m in camera.missing] == [(1, "missing"), (3, "uploading")]
    assert not status.complete
    data = webm_bytes(100, seed=1)
    assert patch(cookie, create(cookie, data, seq=1), 0, data).status == 204
    assert patch(cookie, created_only, 0, late).status == 204
    recording_report(uploader=uploader, kind="pc_camera", client_id=RECORDING, last_seq=3, ended=True)
    status = evidence_status_for_registration(registration=world.candidate)
    assert status.complete and status.complete_for(["pc_camera"]) and not status.complete_for(["pc_screen"])


def test_an_interruption_is_recorded_once_with_its_duration_and_shown_as_a_gap(world):
    uploader = Uploader(registration=world.candidate, source=Source.PHONE)
    start, end = datetime(2024, 1, 1, 9, tzinfo=UTC), datetime(2024, 1, 1, 9, 0, 42, tzinfo=UTC)
    recording_report(uploader=uploader, kind="phone", client_id=RECORDING, last_seq=0)
    interruption_record(uploader=uploader, kind="phone", reason="page_hidden", client_id="i-1", started_at=start,
                        ended_at=None)
    interruption_record(uploader=uploader, kind="phone", reason="page_hidden", client_id="i-1", started_at=start,
                        ended_at=end)
    interruption = Interruption.objects.get()
    assert interruption.duration_seconds == 42
    gaps = evidence_status_for_registration(registration=world.candidate).kinds["phone"].gaps
    assert [(g.started_at, g.ended_at, g.reason) for g in gaps] == [(start, end, "page_hidden")]
    # The invigilators are told, once, through the live-alert rules.
    from invigilate.proctoring.models import Alert

    alert = Alert.objects.get(registration=world.candidate)
    assert alert.kind == "phone_interrupted" and alert.severity == "high"


def test_a_change_pushes_tile_refresh_to_the_room(world):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from invigilate.realtime.groups import room_group

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(room_group(world.room_a.pk), channel)
    recording_report(uploader=Uploader(registration=world.candidate, source=Source.PC), kind="pc_screen",
                     client_id=RECORDING, last_seq=0)
    message = async_to_sync(layer.receive)(channel)
    assert message == {"type": "tile.refresh", "registration_id": world.candidate.pk}


def test_only_staff_of_the_candidate_see_its_continuity(world):
    assert evidence_status_for_staff(user=world.invigilator, registration=world.candidate) is not None
    assert evidence_status_for_staff(user=world.other_invigilator, registration=world.candidate) is None
    assert evidence_status_for_staff(user=world.outsider, registration=world.candidate) is None
    client = Client()
    client.login(username="other-invigilator", password=PASSWORD)
    assert client.get(reverse("evidence:continuity", args=[world.candidate.pk])).status_code == 404
    client.login(username="invigilator", password=PASSWORD)
    assert client.get(reverse("evidence:continuity", args=[world.candidate.pk])).status_code == 200
