"""Pairing a phone: one-time, expiring codes bound to one registration, clear refusals."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from invigilate.evidence.models import PhoneDevice
from invigilate.evidence.services import pairing_code_issue
from invigilate.exams.models import ExamRoom
from tests.personas import make_exam, make_registration

from .tushelpers import pc_cookie

pytestmark = pytest.mark.django_db


def signed_in_client(client, world):
    cookie = pc_cookie(world.candidate, world.candidate_id_number)
    client.cookies["sessionid"] = cookie.split("=", 1)[1]
    return client


def test_the_pc_panel_shows_a_qr_code_and_a_short_code_until_the_phone_reports_in(client, world):
    signed_in_client(client, world)
    page = client.get(reverse("evidence:pairing_panel"), headers={"HX-Request": "true"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and 'data-testid="short-code"' in html and 'hx-trigger="every 3s"' in html
    code = world.candidate.pairing_codes.get()
    from django.test import Client

    phone = Client()
    response = phone.post(reverse("evidence:phone"), {"code": code.short_code.lower()})
    assert response.status_code == 302
    assert PhoneDevice.objects.get().registration == world.candidate
    html = client.get(reverse("evidence:pairing_panel"), headers={"HX-Request": "true"}).content.decode()
    assert 'data-testid="phone-paired"' in html and "every 3s" not in html


def test_a_used_code_is_refused(client, world):
    code = pairing_code_issue(registration=world.candidate)
    assert client.get(reverse("evidence:phone_pair", args=[code.token])).status_code == 302
    from django.test import Client

    response = Client().post(reverse("evidence:phone"), {"code": code.short_code})
    assert response.status_code == 400 and b'data-code="used"' in response.content


def test_an_expired_code_is_refused(client, world):
    code = pairing_code_issue(registration=world.candidate)
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        response = client.get(reverse("evidence:phone_pair", args=[code.token]))
    assert response.status_code == 400 and b'data-code="expired"' in response.content


def test_a_code_of_another_exam_is_refused(client, world):
    exam = make_exam(title="Another exam")
    registration, _ = make_registration(exam=exam, room=ExamRoom.objects.create(exam=exam, name="R"), seat=1)
    code = pairing_code_issue(registration=registration)
    response = client.post(reverse("evidence:phone") + f"?exam={world.exam.pk}",
                           {"code": code.short_code, "exam": world.exam.pk})
    assert response.status_code == 400 and b'data-code="other_exam"' in response.content


def test_an_unpaired_browser_cannot_report_or_upload(client, world):
    assert client.get(reverse("evidence:phone_state")).status_code == 403
    assert client.post(reverse("evidence:recording_report"), "{}", content_type="application/json").status_code == 403
