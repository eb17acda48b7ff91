import time

import pytest
from playwright.sync_api import expect

from invigilate.helpdesk.models import TechnicianPresence
from tests.personas import PASSWORD

pytestmark = pytest.mark.e2e


def close_console(page, user):
    """Close the console and wait for the server to record it offline, so that its work on
    disconnect cannot race the database flush that ends the test."""
    page.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if TechnicianPresence.objects.filter(user=user, status="offline").exists():
            return
        time.sleep(0.05)
    raise AssertionError("the console's presence did not go offline")


def sign_in_candidate(page, world):
    page.goto("/candidate/login/")
    page.fill("input[name=id_number]", world.candidate_id_number)
    page.fill("input[name=ticket_number]", world.candidate.ticket_number)
    page.click("form:not(#help-form) button[type=submit]")
    expect(page.locator("header .who")).to_contain_text(world.candidate.ticket_number)


def sign_in_staff(page, username):
    page.goto("/staff/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_a_candidate_asks_for_help_and_a_technician_calls_back(live_world, new_page):
    exam = live_world.exam
    exam.support_phone = "0931-96166"
    exam.save(update_fields=["support_phone"])

    console = new_page()
    sign_in_staff(console, "technician")
    expect(console.locator("#queue")).to_be_visible()
    expect(console.locator("body[data-helpdesk-socket=open]")).to_have_count(1)
    expect(console.locator("#my-presence")).to_have_text("Online")

    candidate = new_page()
    sign_in_candidate(candidate, live_world)
    candidate.click("#help-button")
    expect(candidate.locator("#help-dialog input[name=phone]")).to_have_value("13900000000")
    candidate.select_option("#help-dialog select[name=category]", "camera_microphone")
    candidate.fill("#help-dialog textarea[name=description]", "My camera shows a black picture")
    candidate.fill("#help-dialog input[name=phone]", "13911112222")
    candidate.click("#help-dialog button[type=submit]")
    expect(candidate.locator("#help-status .help-headline")).to_contain_text("number 1 in the queue")

    # The request is stored once the candidate sees its status; the console shows it within a second.
    row = console.locator("#mine-list .help-row", has_text=live_world.candidate.ticket_number)
    expect(row).to_be_visible(timeout=1000)

    row.locator("button.claim").click()
    expect(console.locator("#request-status")).to_have_text("Claimed")
    expect(console.locator("#tel-link")).to_have_attribute("href", "tel:13911112222")
    expect(console.locator(".diagnostics")).to_contain_text("userAgent")
    expect(candidate.locator("#help-status")).to_contain_text("A technician is calling you from 0931-96166")

    console.click("#start-call")
    expect(console.locator("#request-status")).to_have_text("Calling")
    expect(candidate.locator("#help-status")).to_contain_text("calling you from 0931-96166 now")
    expect(candidate.locator("#help-status .help-reminder")).to_be_visible()

    console.locator(".canned-message", has_text="put your phone back").click()
    expect(candidate.locator("#help-status .help-message")).to_contain_text("put your phone back")

    console.select_option(".call-log-form select[name=outcome]", "reached")
    console.click("#log-call")
    expect(console.locator("#call-log")).to_contain_text("Reached")
    console.select_option("#resolve-form select[name=resolution_category]", "browser_device")
    console.click("#resolve")
    expect(console.locator("#request-status")).to_have_text("Resolved")
    expect(candidate.locator("#help-status")).to_contain_text("resolved")
    expect(candidate.locator("#help-status .help-reminder")).to_contain_text("recording position")
    close_console(console, live_world.technician)


def test_a_candidate_who_cannot_sign_in_asks_by_ticket_number(live_world, new_page):
    page = new_page()
    page.goto("/candidate/login/")
    page.click("#help-button")
    expect(page.locator("#help-dialog input[name=phone]")).to_have_value("")  # no phone leaks before sign-in
    page.fill("#help-dialog input[name=ticket_number]", "NO-SUCH")
    page.select_option("#help-dialog select[name=category]", "login")
    page.fill("#help-dialog input[name=phone]", "13911112222")
    page.click("#help-dialog button[type=submit]")
    expect(page.locator("#help-error")).to_contain_text("No exam with this admission ticket")
    page.fill("#help-dialog input[name=ticket_number]", live_world.candidate.ticket_number)
    page.click("#help-dialog button[type=submit]")
    expect(page.locator("#help-status .help-headline")).to_contain_text("number 1 in the queue")
    page.reload()
    expect(page.locator("#help-status .help-headline")).to_contain_text("number 1 in the queue")
