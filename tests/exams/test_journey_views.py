"""The journey's HTTP surface: who may see what, and the errors a page gets."""

import json

import pytest
from django.test import Client

from invigilate.accounts.middleware import SESSION_ID_KEY
from invigilate.accounts.services import candidate_login
from invigilate.exams import services
from invigilate.exams.models import Registration
from tests.exams.journey_helpers import add_questions, bring_to_exam
from tests.personas import PASSWORD

Stage = Registration.Stage


def candidate_client(world) -> Client:
    client = Client()
    client.get("/candidate/login/")
    session = client.session
    session.save()
    signed_in = candidate_login(id_number=world.candidate_id_number, ticket_number=world.candidate.ticket_number,
                                session_key=session.session_key, address="127.0.0.1")
    session[SESSION_ID_KEY] = signed_in.pk
    session.save()
    return client


def staff_client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def awaiting_review(world):
    registration = world.candidate
    services.registration_stage_set(registration=registration, stage=Stage.DEVICE_CHECK)
    services.registration_stage_set(registration=registration, stage=Stage.IDENTITY_CHECK)
    return services.identity_attempt_record(registration=registration, photo=b"\xff\xd8live")


def test_it_sends_a_signed_in_candidate_to_the_device_check(world):
    client = candidate_client(world)
    response = client.get("/candidate/", follow=True)
    assert response.redirect_chain[-1][0] == "/exams/journey/"
    assert b"Device check" in response.content
    world.candidate.refresh_from_db()
    assert world.candidate.stage == Stage.DEVICE_CHECK


def test_it_shows_identity_reviews_only_to_the_rooms_invigilators(world, awaiting_review):
    own = staff_client(world.invigilator).get("/exams/identity/review/")
    assert world.candidate.ticket_number.encode() in own.content
    other = staff_client(world.other_invigilator)
    assert world.candidate.ticket_number.encode() not in other.get("/exams/identity/review/").content
    assert other.get(f"/exams/identity/{awaiting_review.pk}/photo/").status_code == 404
    assert other.post(f"/exams/identity/{awaiting_review.pk}/decide/", {"decision": "approve"}).status_code == 404
    assert staff_client(world.technician).get("/exams/identity/review/").status_code == 403


def test_it_lets_the_invigilator_reject_with_a_reason(world, awaiting_review):
    client = staff_client(world.invigilator)
    assert b"".join(client.get(f"/exams/identity/{awaiting_review.pk}/photo/").streaming_content) == b"\xff\xd8live"
    client.post(f"/exams/identity/{awaiting_review.pk}/decide/", {"decision": "reject", "reason": "different person"})
    awaiting_review.refresh_from_db()
    assert awaiting_review.outcome == "rejected" and awaiting_review.decided_by == world.invigilator


def test_it_answers_a_late_write_with_a_clear_json_error(world, time_machine):
    add_questions(world.exam)
    client = candidate_client(world)
    bring_to_exam(world.candidate)
    time_machine.move_to(world.exam.ends_at)
    response = client.post("/exams/journey/answers/1/", json.dumps({"client_id": "a", "revision": 1, "take": 1}),
                           content_type="application/json")
    assert response.status_code == 409
    assert response.json()["error"] == "deadline_passed" and "ended at" in response.json()["message"]


def test_it_shows_staff_the_device_checks_and_who_missed_the_mock(world):
    from invigilate.exams.models import Exam

    mock = Exam.objects.create(title="Mock", kind="mock", starts_at=world.exam.starts_at)
    world.exam.required_mock = mock
    world.exam.save()
    services.registration_stage_set(registration=world.candidate, stage=Stage.DEVICE_CHECK)
    services.device_check_record(registration=world.candidate, results={}, bandwidth_mbps=0.5)
    page = staff_client(world.supervisor).get(f"/exams/{world.exam.pk}/readiness/")
    assert b"2 candidates have not completed the mock exam" in page.content
    assert b"0.5 Mbit/s measured" in page.content
    invigilator_page = staff_client(world.invigilator).get(f"/exams/{world.exam.pk}/readiness/").content
    assert world.candidate.ticket_number.encode() in invigilator_page
    assert world.other_candidate.ticket_number.encode() not in invigilator_page


def test_the_pairing_step_says_why_it_cannot_go_on_until_a_phone_is_paired(world):
    from invigilate.evidence import services as evidence_services

    client = candidate_client(world)
    for stage in (Stage.DEVICE_CHECK, Stage.IDENTITY_CHECK, Stage.PHONE_PAIRING):
        services.registration_stage_set(registration=world.candidate, stage=stage)
    refused = client.post("/exams/journey/pairing/done/")
    assert refused.status_code == 409 and b'id="pairing-error"' in refused.content
    assert b"has not reported in" in refused.content and b'id="pairing-step"' in refused.content
    code = evidence_services.pairing_code_issue(registration=world.candidate)
    evidence_services.pairing_code_redeem(token=code.token, session_key="phone-session")
    assert client.post("/exams/journey/pairing/done/").status_code == 302
    world.candidate.refresh_from_db()
    assert world.candidate.stage == Stage.PAPER_CHECK


def test_a_take_is_declared_then_sent_with_tus_under_the_servers_id_then_confirmed(world):
    from invigilate.exams.integrations import answer_recording_id
    from tests.exams.journey_helpers import recording, upload_take

    add_questions(world.exam)
    bring_to_exam(world.candidate)
    client = candidate_client(world)
    data, sha, size = recording()
    declared = client.post("/exams/journey/answers/1/", json.dumps(
        {"client_id": "page-1", "revision": 1, "take": 1, "sha256": sha, "size": size, "duration_ms": 2000}),
        content_type="application/json").json()
    assert declared["upload_recording"] == answer_recording_id(registration_id=world.candidate.pk, position=1, take=1)
    assert not declared["recording_held"]
    early = client.post("/exams/journey/answers/1/recording/", json.dumps({"take": 1}), content_type="application/json")
    assert early.status_code == 409 and early.json()["error"] == "not_received"
    upload_take(world.candidate, position=1, take=1, data=data)
    held = client.post("/exams/journey/answers/1/recording/", json.dumps({"take": 1}), content_type="application/json")
    assert held.status_code == 200 and held.json() == {"held": True, "sha256": sha}


def test_the_identity_review_page_follows_the_invigilators_rooms_live_not_by_polling(world, awaiting_review):
    page = staff_client(world.invigilator).get("/exams/identity/review/").content.decode()
    assert f'data-rooms="{world.room_a.pk}"' in page and "identity-review.js" in page
    assert "every 3s" not in page and 'hx-trigger="identity-review-changed from:body"' in page


def test_the_identity_page_decides_with_the_servers_face_match(world):
    from django.core.files.base import ContentFile

    from tests.media import material

    world.candidate.candidate.photo.save("registered.jpg", ContentFile(material.jpeg(material.astronaut())))
    client = candidate_client(world)
    for stage in (Stage.DEVICE_CHECK, Stage.IDENTITY_CHECK):
        services.registration_stage_set(registration=world.candidate, stage=stage)
    other = client.post("/exams/journey/identity/", material.jpeg(material.webcam_like(material.grace_hopper())),
                        content_type="image/jpeg").json()
    assert other["outcome"] == "not_matched" and other["stage"] == Stage.IDENTITY_CHECK
    same = client.post("/exams/journey/identity/", material.jpeg(material.webcam_like(material.astronaut())),
                       content_type="image/jpeg").json()
    assert same["outcome"] == "matched" and same["score"] > other["score"] and same["stage"] == Stage.PHONE_PAIRING
    assert client.get("/exams/journey/identity/").status_code == 405
