"""The phone in a mobile browser, live: the invigilator sees its camera in the focus view and
asks for a placement correction that the candidate confirms on the phone; a phone page sent to
the background is recorded as an interruption with its duration and alerted on the feed."""

import time

import pytest
from playwright.sync_api import expect

from invigilate.evidence.models import Interruption, PlacementRequest
from invigilate.evidence.services import pairing_code_issue
from tests.e2e.test_live_alerts import staff_page
from tests.live import server_transactions_wait
from tests.media.test_media_e2e import live_media_worker, sign_in_staff  # noqa: F401  (fixture)

from .test_phone_page import FAST_RULES, pixel_7

pytestmark = pytest.mark.e2e


def settle(*pages):
    """Close the pages (the phone uploads every second) and let the server finish what they
    started, so the test database is not flushed under a request in flight."""
    for page in pages:
        page.close()
    time.sleep(0.3)
    server_transactions_wait()


def phone_on(step: str, new_page, browser, world):
    """A phone paired by its QR link, through the checks and the sweep to ``step``."""
    world.exam.rules = FAST_RULES
    world.exam.save()
    code = pairing_code_issue(registration=world.candidate)
    phone = new_page(**pixel_7(browser))
    phone.goto(f"/evidence/phone/pair/{code.token}/")
    phone.locator("[data-action=to-sweep]").click()
    phone.click("[data-action=sweep-start]")
    phone.locator("[data-action=sweep-done]").click(timeout=6000)
    expect(phone.locator("#evidence-phone")).to_have_attribute("data-step", "placement")
    if step == "recording":
        phone.click("[data-action=record-start]")
        expect(phone.get_by_test_id("recording-state")).to_be_visible()
    return phone


def test_the_invigilator_sees_the_phone_live_and_has_its_placement_corrected(
    live_world, live_media_worker, new_page, browser  # noqa: F811
):
    phone = phone_on("placement", new_page, browser, live_world)
    expect(phone.get_by_test_id("live-state")).to_have_attribute("data-state", "connected", timeout=20_000)

    invigilator = new_page()
    sign_in_staff(invigilator, "invigilator")
    invigilator.goto(f"/media/focus/{live_world.candidate.pk}/")
    video = invigilator.locator('video[data-track="phone"]')
    invigilator.wait_for_function("(v) => v.videoWidth > 0", arg=video.element_handle(), timeout=10_000)

    panel = invigilator.locator("[data-placement-panel]")
    panel.get_by_label("Include the computer's screen").check()
    panel.get_by_label("In your words (optional)").fill("Tilt it down a little")
    panel.locator("[data-action=placement-send]").click()
    expect(panel.locator("[data-placement-status=requested]")).to_contain_text("not confirmed yet")

    correction = phone.get_by_test_id("placement-correction")
    expect(correction).to_be_visible()
    expect(correction).to_contain_text("Include the computer's screen: Tilt it down a little")
    correction.locator("[data-action=placement-confirm]").click()
    expect(correction).to_be_hidden()
    # The invigilator's panel polls while it waits and shows the confirmation.
    expect(panel.locator("[data-placement-status=confirmed]")).to_contain_text("confirmed", timeout=5000)
    assert PlacementRequest.objects.get().status == "confirmed"
    settle(phone, invigilator)


def test_a_phone_page_sent_to_the_background_is_recorded_with_its_duration_and_alerted(
    live_world, new_page, browser
):
    invigilator = staff_page(new_page, "invigilator", live_world.room_a)
    phone = phone_on("recording", new_page, browser, live_world)
    # The phone goes to the background (another app in front), then comes back 1.5 s later.
    set_visibility = """(state) => {
        Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
        Object.defineProperty(document, "hidden", { configurable: true, get: () => state === "hidden" });
        document.dispatchEvent(new Event("visibilitychange"));
    }"""
    phone.evaluate(set_visibility, "hidden")
    expect(invigilator.locator("#feed")).to_contain_text("The phone's evidence recording was interrupted.")
    phone.wait_for_timeout(1500)
    phone.evaluate(set_visibility, "visible")

    deadline = time.monotonic() + 10
    while not Interruption.objects.filter(registration=live_world.candidate, ended_at__isnull=False).exists():
        assert time.monotonic() < deadline, "the end of the interruption never arrived"
        time.sleep(0.1)
    interruption = Interruption.objects.get(registration=live_world.candidate)
    assert (interruption.reason, interruption.source, interruption.kind) == ("page_hidden", "phone", "phone")
    assert 1.4 <= interruption.duration_seconds < 5
    settle(phone, invigilator)
