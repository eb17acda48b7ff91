"""A reviewer opens a candidate with an alert and a recording, plays it, and decides."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from playwright.sync_api import expect

from invigilate.review.models import Decision
from tests.personas import PASSWORD
from tests.review.material import make_reviewed_candidate

pytestmark = pytest.mark.e2e


@pytest.fixture
def live_reviewed(live_world, webm_bytes):
    # Written to the MEDIA_ROOT the live server shares with this process. In a thread of its own:
    # Playwright's loop runs in this one, and the services publish through async_to_sync.
    def make():
        try:
            return make_reviewed_candidate(world=live_world, webm=webm_bytes)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        made = pool.submit(make).result()
    yield made
    made.cleanup()


def test_a_reviewer_sees_the_timeline_plays_the_recording_and_decides(live_world, live_reviewed, new_page):
    page = new_page()
    page.goto("/staff/login/")
    page.fill("input[name=username]", "reviewer")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.get_by_role("link", name=live_world.exam.title).click()
    first_row = page.locator("table.candidates tbody tr").first
    expect(first_row).to_contain_text(live_world.candidate.ticket_number)  # most suspicious first
    first_row.get_by_role("link").click()

    alert = page.locator(f"#entry-alert-{live_reviewed.alert.pk}")
    expect(alert).to_contain_text("More than one face")
    expect(page.locator(".entry.kind-flag")).to_contain_text("Please look at 10:02")
    expect(page.locator(".entry.kind-detector img.evidence-thumb")).to_be_visible()

    video = page.locator("figure.player video").first
    video.evaluate("v => { window.seeks = []; v.addEventListener('seeked', () => window.seeks.push(v.currentTime)); }")
    alert.get_by_role("button", name="play here").click()
    # currentTime moves as soon as the seek starts; "seeked" fires later: wait for both.
    page.wait_for_function(
        "v => v.videoWidth > 0 && v.currentTime > 0 && window.seeks.length > 0", arg=video.element_handle(),
        timeout=10_000)
    assert video.evaluate("v => v.videoWidth") == 160
    # The alert came 1 s into the recording: the player was put there, not at the start.
    assert 0.9 <= page.evaluate("window.seeks[0]") <= 1.1

    kind_filter = page.locator("form.kind-filter")
    kind_filter.get_by_label("Invigilator notes").check()
    expect(page.locator("#timeline .entry")).to_have_count(1)
    expect(page.locator("#timeline .entry")).to_contain_text("Someone walked behind")

    form = page.locator("#decision form.decide").first
    form.get_by_label("Violation confirmed").check()
    form.locator("select[name=rule]").select_option("multi_screen")
    form.get_by_label("Reason").fill("Second person visible on camera and phone video")
    form.get_by_role("button", name="Record decision").click()
    expect(page.locator(".messages")).to_contain_text("Decision recorded")
    expect(page.locator("#decision .standing")).to_contain_text("Awaiting a second reviewer")
    decision = Decision.objects.get(registration=live_world.candidate)
    assert (decision.outcome, decision.rule, decision.decided_by) == ("violation", "multi_screen", live_world.reviewer)
