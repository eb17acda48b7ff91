"""Continuity: which segments each recording should have, what arrived, what is missing,
the gaps, and the push that tells the invigilators' wall to refresh the tile."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from invigilate.evidence.models import Interruption, Source
from invigilate.evidence.selectors import (
    evidence_late_counts,
    evidence_status_for_registration,
    evidence_status_for_staff,
)
from invigilate.evidence.services import Uploader, interruption_record, recording_report
from invigilate.review.timeline import timeline_for_registration
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
    # Recorded in 2024, long ago, and the exam's upload window is still open: both are late.
    assert [(m.seq, m.state) for m in camera.outstanding] == [(1, "late"), (3, "late")]
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


def test_a_segment_is_pending_then_late_once_due_then_missing_when_the_upload_window_closes(world):
    """Late: made (by the client's sequence numbers), due by its end time plus the exam's
    ``evidence_late_after_seconds`` (30 s), not arrived, upload window open. Missing: the
    window (the exam's incident window) has closed. Interrupted stays a gap of its own."""
    cookie = pc_cookie(world.candidate, world.candidate_id_number)
    exam = world.exam
    uploader = Uploader(registration=world.candidate, source=Source.PC)
    recording_report(uploader=uploader, kind="pc_camera", client_id=RECORDING, last_seq=3,
                     started_at=exam.starts_at, segment_seconds=5)  # segments end at +5, +10, +15, +20 s
    data = webm_bytes(100, seed=0)
    assert patch(cookie, create(cookie, data, seq=0), 0, data).status == 204
    create(cookie, webm_bytes(50, seed=3), seq=3)  # bytes of #3 still coming

    def states(at):
        status = evidence_status_for_registration(registration=world.candidate, now=at)
        camera = status.kinds["pc_camera"]
        assert evidence_late_counts(registration_ids=[world.candidate.pk], now=at) == (
            {world.candidate.pk: len(camera.late)} if camera.late else {})  # the wall counts the same
        return [(segment.seq, segment.state) for segment in camera.outstanding]

    start = exam.starts_at
    assert states(start + timedelta(seconds=12)) == [(1, "pending"), (2, "pending"), (3, "uploading")]
    assert states(start + timedelta(seconds=41)) == [(1, "late"), (2, "pending"), (3, "uploading")]
    assert states(start + timedelta(seconds=51)) == [(1, "late"), (2, "late"), (3, "late")]
    assert states(exam.incident_window_closes_at) == [(1, "missing"), (2, "missing"), (3, "missing")]
    assert evidence_late_counts(registration_ids=[world.candidate.pk, world.other_candidate.pk],
                                now=start + timedelta(seconds=41)) == {world.candidate.pk: 1}


def test_late_parts_show_on_the_tile_in_the_drawer_and_on_the_review_timeline(world):
    uploader = Uploader(registration=world.candidate, source=Source.PHONE)
    recording_report(uploader=uploader, kind="phone", client_id=RECORDING, last_seq=2,
                     started_at=datetime(2024, 1, 1, tzinfo=UTC), segment_seconds=5)
    client = Client()
    client.login(username="invigilator", password=PASSWORD)
    tile = client.get(reverse("proctoring:tile", args=[world.room_a.pk, world.candidate.pk])).content.decode()
    assert 'data-evidence-late="3"' in tile and "3 recording parts late" in tile
    drawer = client.get(reverse("proctoring:drawer", args=[world.candidate.pk])).content.decode()
    assert reverse("evidence:continuity", args=[world.candidate.pk]) in drawer
    fragment = client.get(reverse("evidence:continuity", args=[world.candidate.pk]), headers={"HX-Request": "true"})
    row = fragment.content.decode().split('data-kind="phone"', 1)[1]
    assert '<td class="evidence-late">3</td>' in row and '<td class="evidence-missing">0</td>' in row
    assert 'hx-trigger="every 10s"' in fragment.content.decode()  # lateness changes by the clock alone
    entries = [entry for entry in timeline_for_registration(registration=world.candidate)
               if entry.ref == "evidence_late:phone"]
    assert len(entries) == 1 and entries[0].detail == "#0, #1, #2"

    # In Chinese, too.
    client.cookies["django_language"] = "zh-hans"
    tile = client.get(reverse("proctoring:tile", args=[world.room_a.pk, world.candidate.pk]),
                      headers={"Accept-Language": "zh-hans"}).content.decode()
    assert "3 段录像迟到" in tile


def test_the_late_sweep_refreshes_a_tile_when_its_late_count_changes_by_the_clock(world):
    import asyncio

    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer
    from django.core.cache import cache

    from invigilate.evidence.services import LATE_COUNT_CACHE_KEY, evidence_late_sweep
    from invigilate.realtime.groups import room_group

    cache.delete(LATE_COUNT_CACHE_KEY.format(registration_id=world.candidate.pk))
    start = world.exam.starts_at
    recording_report(uploader=Uploader(registration=world.candidate, source=Source.PHONE), kind="phone",
                     client_id=RECORDING, last_seq=1, started_at=start, segment_seconds=5)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(room_group(world.room_a.pk), channel)  # after the creation's push

    async def next_push():
        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    assert evidence_late_sweep(now=start + timedelta(seconds=20)) == 0  # nothing due yet
    assert evidence_late_sweep(now=start + timedelta(seconds=36)) == 1  # #0 is late
    assert async_to_sync(next_push)() == {"type": "tile.refresh", "registration_id": world.candidate.pk}
    assert evidence_late_sweep(now=start + timedelta(seconds=38)) == 0  # unchanged: no push
    assert evidence_late_sweep(now=start + timedelta(seconds=41)) == 1  # #1 too
    assert evidence_late_sweep(now=world.exam.incident_window_closes_at) == 0  # window closed: not swept
    assert evidence_late_sweep(now=world.exam.incident_window_closes_at - timedelta(seconds=1)) == 0
