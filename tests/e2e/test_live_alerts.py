import time

import pytest
from playwright.sync_api import expect

from invigilate.accounts.models import Role
from invigilate.exams.services import room_invigilator_assign
from invigilate.proctoring.models import Signal
from tests.live import server_transactions_wait
from tests.personas import PASSWORD, make_user

pytestmark = pytest.mark.e2e


def staff_page(new_page, username, room):
    page = new_page()
    page.goto("/staff/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"/proctoring/room/{room.pk}/")
    expect(page.locator("#live-status.ok")).to_be_visible()  # socket open and caught up
    return page


def candidate_page(new_page, world):
    page = new_page()
    page.goto("/candidate/login/")
    page.fill("input[name=id_number]", world.candidate_id_number)
    page.fill("input[name=ticket_number]", world.candidate.ticket_number)
    page.click("button[type=submit]")
    deadline = time.monotonic() + 10
    while not Signal.objects.filter(registration=world.candidate, kind="page_loaded").exists():
        assert time.monotonic() < deadline, "the candidate page never reported in"
        time.sleep(0.05)
    return page


def leave(page, world):
    """Close the candidate's page and wait until the server has recorded it leaving, so the
    test database is not flushed under a request still in flight."""
    page.close(run_before_unload=True)
    deadline = time.monotonic() + 5
    while not Signal.objects.filter(registration=world.candidate, kind="page_unload").exists():
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    server_transactions_wait()


def test_a_candidate_leaving_the_page_alerts_both_invigilators_of_the_room(live_world, new_page):
    second = make_user("second-invigilator", Role.INVIGILATOR)
    room_invigilator_assign(room=live_world.room_a, user=second)
    first_page = staff_page(new_page, "invigilator", live_world.room_a)
    second_page = staff_page(new_page, "second-invigilator", live_world.room_a)
    candidate = candidate_page(new_page, live_world)

    # The candidate switches to another window. Playwright keeps every page "focused"
    # unless focus emulation is off; then bringing another tab to the front blurs the page.
    candidate.context.new_cdp_session(candidate).send("Emulation.setFocusEmulationEnabled", {"enabled": False})
    elsewhere = candidate.context.new_page()
    elsewhere.goto("/static/css/invigilate.css")
    started = time.monotonic()
    elsewhere.bring_to_front()
    alert = first_page.locator("#feed li.alert.status-open", has_text="Left the exam window")
    expect(alert).to_be_visible(timeout=1000)
    assert time.monotonic() - started < 1.0
    expect(first_page.locator(f"#tile-{live_world.candidate.pk} .badge")).to_have_text("1")
    other = second_page.locator("#feed li.alert", has_text="Left the exam window")
    expect(other).to_have_attribute("data-status", "open", timeout=1000)

    alert.locator("button[data-action=acknowledge]").click()
    expect(first_page.locator("#feed li.alert.status-acknowledged")).to_be_visible()
    expect(other).to_have_attribute("data-status", "acknowledged", timeout=2000)
    expect(other).to_contain_text("Acknowledged by Invigilator")
    leave(candidate, live_world)


def test_a_warning_appears_on_the_candidates_screen_and_its_confirmation_comes_back(live_world, new_page):
    invigilator = staff_page(new_page, "invigilator", live_world.room_a)
    candidate = candidate_page(new_page, live_world)
    invigilator.click(f"#tile-{live_world.candidate.pk} .tile-open")
    invigilator.fill("#drawer textarea[name=text]", "Please keep your face in the camera.")
    invigilator.click("#drawer button[value=warning]")
    expect(invigilator.locator("#drawer .timeline")).to_contain_text("not confirmed yet")

    overlay = candidate.locator("#integrity-warning")
    expect(overlay).to_be_visible(timeout=2000)
    expect(overlay).to_contain_text("Please keep your face in the camera.")
    candidate.click("#integrity-warning-ok")
    expect(overlay).to_be_hidden()
    expect(invigilator.locator("#drawer .timeline")).to_contain_text("confirmed", timeout=3000)
    expect(invigilator.locator("#drawer .timeline")).not_to_contain_text("not confirmed yet")
    leave(candidate, live_world)
