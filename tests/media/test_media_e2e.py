"""Chromium end to end: the candidate's page sends its fake camera and screen, the room's
thumbnail page shows the camera, and the focus view plays live video."""

import re
import time

import pytest
from django.conf import settings
from playwright.sync_api import expect

from invigilate.media.models import MediaWorker
from tests.personas import PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def live_media_worker(live_world, daphne_server):
    """Embedded: the live server runs its own worker. Redis: a worker process beside it."""
    if settings.MEDIA_EMBEDDED_WORKER:
        yield None
        return
    from tests.live import test_database_url
    from tests.media.peers import WorkerProcess

    process = WorkerProcess().start(test_database_url())
    deadline = time.monotonic() + 20
    while not MediaWorker.objects.filter(status="alive").exists():
        assert process.process.poll() is None and time.monotonic() < deadline, process.output()[-3000:]
        time.sleep(0.1)
    yield process
    process.stop()


def sign_in_staff(page, username):
    page.goto("/staff/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("header .who")).to_be_visible()


def test_it_shows_the_candidates_camera_on_the_wall_and_in_the_focus_view(live_world, live_media_worker, new_page):
    candidate = new_page()
    candidate.goto("/candidate/login/")
    candidate.fill("input[name=id_number]", live_world.candidate_id_number)
    candidate.fill("input[name=ticket_number]", live_world.candidate.ticket_number)
    candidate.click("button[type=submit]")
    expect(candidate.locator("header .who")).to_contain_text(live_world.candidate.ticket_number)
    candidate.goto("/media/check/")
    # Generous: the machine is shared; the time it took is printed for the record.
    expect(candidate.locator("[data-media-state]")).to_have_attribute("data-state", "connected", timeout=20_000)
    print("candidate media connected after", candidate.locator("[data-media-check]").get_attribute("data-connected-after-ms"), "ms")

    invigilator = new_page()
    sign_in_staff(invigilator, "invigilator")
    invigilator.goto(f"/media/room/{live_world.room_a.pk}/")
    thumbnail = invigilator.locator(f'img[data-thumbnail-for="{live_world.candidate.pk}"]')
    expect(thumbnail).to_have_attribute("src", re.compile(rf"^/media/thumbnails/{live_world.candidate.pk}/camera/\d+\.jpg$"))
    assert invigilator.evaluate(
        "(img) => new Promise(r => img.complete ? r(img.naturalWidth) : img.onload = () => r(img.naturalWidth))",
        thumbnail.element_handle(),
    ) > 0

    invigilator.goto(f"/media/focus/{live_world.candidate.pk}/")
    camera = invigilator.locator('video[data-track="camera"]')
    invigilator.wait_for_function(
        "(v) => v.videoWidth > 0", arg=camera.element_handle(), timeout=5000
    )
    frames = invigilator.evaluate("""(video) => new Promise((resolve) => {
        const seen = [];
        const tick = (now, meta) => { seen.push(meta.mediaTime); seen.length < 5 ? video.requestVideoFrameCallback(tick) : resolve(seen); };
        video.requestVideoFrameCallback(tick);
    })""", camera.element_handle())
    assert frames[-1] > frames[0]
    # The candidate was asked for its best quality while someone watches.
    candidate.wait_for_function("() => window.invigilateMedia.quality === 'high'", timeout=5000)

    # The worker's answer asked for 60 ms Opus packets: ~17 a second, not the default 50.
    audio_packets_per_second = candidate.evaluate("""async () => {
        const sent = async () => {
            let packets = 0;
            (await window.invigilateMedia.peerConnection.getStats()).forEach((report) => {
                if (report.type === "outbound-rtp" && report.kind === "audio") packets = report.packetsSent;
            });
            return packets;
        };
        const before = await sent();
        await new Promise((resolve) => setTimeout(resolve, 2000));
        return ((await sent()) - before) / 2;
    }""")
    print("candidate audio packets per second", audio_packets_per_second)
    assert 0 < audio_packets_per_second < 25
