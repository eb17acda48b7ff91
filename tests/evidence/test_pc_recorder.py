"""The PC's whole-exam recorder (camera + microphone, and screen) through the same pipeline:
records, goes offline, comes back, and the server confirms every segment."""

import hashlib

import pytest
from django.conf import settings
from playwright.sync_api import expect

from invigilate.evidence.models import Recording, Upload
from invigilate.evidence.selectors import evidence_status_for_registration

from .test_phone_page import FAST_RULES, signed_in_pc

pytestmark = pytest.mark.e2e


def test_the_pc_records_camera_and_screen_through_an_outage_and_uploads_everything(
    live_world, new_page, daphne_server
):
    live_world.exam.rules = FAST_RULES
    live_world.exam.save()
    pc = signed_in_pc(new_page, daphne_server, live_world)
    pc.goto("/evidence/recording-check/")
    pc.click("[data-action=start]")
    # 1 s segments: two uploaded take ~3 s, but the first waits for the camera, the screen and
    # the upload session to start (once seen past 8 s on a busy machine); the outage is the test.
    expect(pc.get_by_test_id("pc-status")).to_contain_text("Segments uploaded: 2", timeout=20000)
    pc.context.set_offline(True)
    pc.wait_for_timeout(2500)
    expect(pc.locator("#pc-recorder")).not_to_have_attribute("data-pending", "0")
    pc.context.set_offline(False)
    pc.click("[data-action=stop]")
    expect(pc.get_by_test_id("pc-final")).to_contain_text("All recordings uploaded", timeout=30000)

    status = evidence_status_for_registration(registration=live_world.candidate)
    assert status.complete_for(["pc_camera", "pc_screen"]), status
    assert status.kinds["pc_camera"].expected >= 3 and status.kinds["pc_screen"].expected >= 3
    for upload in Upload.objects.filter(registration=live_world.candidate):
        assert upload.status == "complete" and upload.source == "pc"
        data = (settings.MEDIA_ROOT / upload.file_name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == upload.sha256


def test_reports_reach_the_server_while_a_segment_is_still_uploading(live_world, new_page, daphne_server):
    """A report says which runs and segments the server should expect; one held behind a long
    upload could come after the candidate submitted, and the server would have called the
    submission complete without that run."""
    live_world.exam.rules = FAST_RULES
    live_world.exam.save()
    pc = signed_in_pc(new_page, daphne_server, live_world)
    held, released = [], []

    def slow_uploads(route):  # a segment's bytes hang (a slow upload); creating uploads goes through
        if route.request.method == "PATCH" and not released:
            held.append(route)
        else:
            route.continue_()

    pc.route("**/evidence/tus/*", slow_uploads)
    pc.goto("/evidence/recording-check/")
    pc.click("[data-action=start]")
    pc.wait_for_function("document.getElementById('pc-recorder').dataset.pending >= 3", timeout=20000)
    assert held, "no segment upload began"
    pc.click("[data-action=stop]")
    for _ in range(100):
        ended = Recording.objects.filter(registration=live_world.candidate, final_seq__isnull=False)
        if ended.count() == 2:
            break
        pc.wait_for_timeout(100)
    assert sorted(ended.values_list("kind", flat=True)) == ["pc_camera", "pc_screen"]
    assert not Upload.objects.filter(registration=live_world.candidate, status="complete").exists()
    assert len(held) == 1  # the queue sends one segment at a time: it is still on the first

    released.append(True)
    for route in held:
        route.continue_()
    expect(pc.get_by_test_id("pc-final")).to_contain_text("All recordings uploaded", timeout=30000)
    status = evidence_status_for_registration(registration=live_world.candidate)
    assert status.complete_for(["pc_camera", "pc_screen"]), status
