"""Chromium end to end: an ignored alert escalates to the supervisor, who drops into the room and
acknowledges it; the invigilator's dashboard shows it was the supervisor."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection as db_connection
from django.utils import timezone
from playwright.sync_api import expect

from invigilate.exams.models import Exam
from invigilate.proctoring.models import Alert
from invigilate.proctoring.services import alerts_escalate_overdue
from tests.e2e.test_live_alerts import candidate_page, leave, staff_page
from tests.personas import PASSWORD

pytestmark = pytest.mark.e2e


def sweep_in_a_thread(*, now) -> int:
    """Playwright keeps an event loop in this thread; the sweep's pushes need a thread without one."""

    def sweep():
        try:
            return alerts_escalate_overdue(now=now)
        finally:
            db_connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(sweep).result()


def supervisor_page(new_page, world):
    page = new_page()
    page.goto("/staff/login/")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/supervision/exam/{world.exam.pk}/")
    expect(page.locator("#live-status.ok")).to_be_visible()
    return page


def test_an_escalated_alert_is_taken_over_by_the_supervisor(live_world, new_page):
    Exam.objects.filter(pk=live_world.exam.pk).update(rules={"alert_escalate_after_seconds": 1})
    invigilator = staff_page(new_page, "invigilator", live_world.room_a)
    supervisor = supervisor_page(new_page, live_world)
    candidate = candidate_page(new_page, live_world)

    # The candidate leaves the exam window; the invigilator does nothing.
    candidate.context.new_cdp_session(candidate).send("Emulation.setFocusEmulationEnabled", {"enabled": False})
    elsewhere = candidate.context.new_page()
    elsewhere.goto("/static/css/invigilate.css")
    elsewhere.bring_to_front()
    expect(invigilator.locator("#feed li.alert.status-open")).to_be_visible(timeout=3000)
    room_row = supervisor.locator(f"#room-{live_world.room_a.pk}")
    expect(room_row.locator("td.alerts")).to_contain_text("1")

    # Escalation: the server's embedded scheduler sweeps every 5 s; with Redis (no scheduler
    # in the server) the test runs the same sweep a little in the future.
    if settings.REDIS_URL:
        assert sweep_in_a_thread(now=timezone.now() + timedelta(seconds=2)) >= 1
    escalation = supervisor.locator("#escalations .escalation-alert")
    expect(escalation).to_contain_text("Left the exam window", timeout=8000)
    assert supervisor.locator("#supervision").get_attribute("data-last-escalation-sound")
    expect(supervisor.locator("#rooms tr").first).to_have_id(f"room-{live_world.room_a.pk}")  # needs attention first

    # The supervisor drops in; the invigilator is told.
    escalation.locator("a", has_text="Drop in").click()
    expect(supervisor.locator("#drop-in-banner")).to_be_visible()
    expect(supervisor.locator("#live-status.ok")).to_be_visible()
    expect(invigilator.locator("#supervisor-present")).to_contain_text("Supervisor", timeout=3000)

    alert = supervisor.locator("#feed li.alert.status-escalated", has_text="Left the exam window")
    alert.locator("button[data-action=acknowledge]").click()
    expect(supervisor.locator("#feed li.alert.status-acknowledged")).to_be_visible()

    taken = invigilator.locator("#feed li.alert", has_text="Left the exam window")
    expect(taken).to_have_attribute("data-status", "acknowledged", timeout=3000)
    expect(taken.locator(".alert-ack.on-behalf")).to_contain_text("Acknowledged by supervisor Supervisor")
    stored = Alert.objects.get(registration=live_world.candidate, kind="focus_lost")
    assert stored.acknowledged_by == live_world.supervisor and stored.acknowledged_on_behalf
    supervisor.goto(f"/supervision/exam/{live_world.exam.pk}/")
    expect(supervisor.locator("#escalations .escalation-alert")).to_have_count(0)
    leave(candidate, live_world)
