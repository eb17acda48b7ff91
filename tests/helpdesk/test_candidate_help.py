from datetime import timedelta

import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.template import Context, Template
from django.urls import reverse

from invigilate.accounts.middleware import SESSION_ID_KEY
from invigilate.accounts.services import candidate_login
from invigilate.helpdesk.models import HelpRequest, HelpStatus
from invigilate.helpdesk.selectors import help_request_summaries_for_tiles, help_request_summary_for_tile
from invigilate.helpdesk.services import help_request_claim, help_request_resolve, technician_presence_connect
from invigilate.helpdesk.views import ANONYMOUS_SUBMISSIONS_PER_ADDRESS

from .conftest import ask_help


def sign_in(client, world):
    store = SessionStore()
    store.create()
    session = candidate_login(id_number=world.candidate_id_number, ticket_number=world.candidate.ticket_number,
                              session_key=store.session_key, address="127.0.0.1")
    store[SESSION_ID_KEY] = session.pk
    store.save()
    client.cookies["sessionid"] = store.session_key


FORM = {"category": "network", "description": "The page froze", "phone": "13900000000",
        "diagnostics": '{"online": true, "connection": {"type": "4g"}}'}


def test_a_signed_in_candidate_asks_and_pressing_again_adds_to_it(world, client):
    sign_in(client, world)
    page = client.get(reverse("accounts:candidate_home"), follow=True).content.decode()
    assert 'id="help-button"' in page and 'value="13900000000"' in page and 'data-live="socket"' in page
    response = client.post(reverse("helpdesk:help_submit"), FORM, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 200 and "number 1 in the queue" in response.content.decode()
    request = HelpRequest.objects.get()
    assert request.identity_verified and request.diagnostics["connection"] == {"type": "4g"}
    assert request.diagnostics["user_agent"] is not None
    client.post(reverse("helpdesk:help_submit"), {**FORM, "description": "still frozen"}, HTTP_X_REQUESTED_WITH="fetch")
    assert HelpRequest.objects.count() == 1 and request.messages.get().text == "still frozen"
    response = client.post(reverse("helpdesk:help_cancel"), HTTP_X_REQUESTED_WITH="fetch")
    assert "cancelled" in response.content.decode()


def test_a_bad_phone_number_is_refused_with_a_reason(world, client):
    sign_in(client, world)
    response = client.post(reverse("helpdesk:help_submit"), {**FORM, "phone": "call me"}, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 400 and "phone number" in response.content.decode()


def test_the_help_button_is_on_the_sign_in_page_but_not_on_staff_pages(world, client):
    assert 'id="help-button"' in client.get(reverse("accounts:candidate_login")).content.decode()
    assert 'id="help-button"' not in client.get(reverse("accounts:staff_login")).content.decode()


def test_asking_by_ticket_works_only_while_the_exam_is_open_for_help(world, client):
    data = {**FORM, "ticket_number": world.candidate.ticket_number}
    with time_machine.travel(world.exam.starts_at - timedelta(hours=5)):
        response = client.post(reverse("helpdesk:help_submit"), data, HTTP_X_REQUESTED_WITH="fetch")
        assert response.status_code == 400
    with time_machine.travel(world.exam.ends_at + timedelta(minutes=59)):  # incident window after the exam
        response = client.post(reverse("helpdesk:help_submit"), data, HTTP_X_REQUESTED_WITH="fetch")
        assert response.status_code == 200
    request = HelpRequest.objects.get()
    assert not request.identity_verified and request.registration == world.candidate


def test_asking_by_ticket_is_throttled_per_address(world, client):
    data = {**FORM, "ticket_number": "NOPE"}
    for _ in range(ANONYMOUS_SUBMISSIONS_PER_ADDRESS):
        client.post(reverse("helpdesk:help_submit"), data, HTTP_X_REQUESTED_WITH="fetch")
    response = client.post(reverse("helpdesk:help_submit"), data, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 429


def test_the_tile_shows_that_help_was_asked_and_how_it_ended(world):
    assert help_request_summary_for_tile(registration=world.candidate) is None
    technician_presence_connect(user=world.technician)
    request = ask_help(world.candidate)
    summary = help_request_summary_for_tile(registration=world.candidate)
    assert summary.is_open and summary.status == HelpStatus.OFFERED
    request = help_request_claim(request=request, technician=world.technician)
    help_request_resolve(request=request, technician=world.technician, resolution_category="guided")
    summary = help_request_summaries_for_tiles(registration_ids=[world.candidate.pk, world.other_candidate.pk])
    assert list(summary) == [world.candidate.pk]
    assert summary[world.candidate.pk].label == "Help resolved" and not summary[world.candidate.pk].is_open
    html = Template("{% load helpdesk_tags %}{% help_tile_badge r %}").render(Context({"r": world.candidate}))
    assert 'data-help-status="resolved"' in html


def test_a_paired_phone_has_help_and_asks_as_its_registration(world):
    from django.test import Client

    from invigilate.evidence.services import pairing_code_issue

    code = pairing_code_issue(registration=world.candidate)
    phone = Client()
    assert phone.post(reverse("evidence:phone"), {"code": code.short_code}).status_code == 302
    page = phone.get(reverse("evidence:phone")).content.decode()
    assert 'id="help-button"' in page and 'value="13900000000"' in page
    # The phone page's socket is the phone's own: the widget polls instead of opening the PC's.
    assert 'data-live="poll"' in page
    response = phone.post(reverse("helpdesk:help_submit"), {**FORM, "category": "phone"}, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 200 and "number 1 in the queue" in response.content.decode()
    request = HelpRequest.objects.get()
    assert request.registration == world.candidate and request.identity_verified
