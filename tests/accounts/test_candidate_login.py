from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from invigilate.accounts.models import CandidateSession
from invigilate.accounts.services import CandidateLoginRefused, candidate_login, second_login_listeners
from invigilate.audit.models import AuditEvent
from invigilate.exams.models import Exam, ExamRoom, Registration
from tests.personas import make_registration


@pytest.fixture(autouse=True)
def clear_throttle():
    cache.clear()


def login(world, *, id_number=None, ticket=None, session_key="key-1", address="10.0.0.1"):
    return candidate_login(
        id_number=id_number or world.candidate_id_number,
        ticket_number=ticket or world.candidate.ticket_number,
        session_key=session_key,
        address=address,
    )


def refusal(callable_, *args, **kwargs) -> CandidateLoginRefused:
    with pytest.raises(CandidateLoginRefused) as error:
        callable_(*args, **kwargs)
    return error.value


def test_it_signs_in_with_id_number_and_ticket_and_audits_it(world):
    session = login(world)
    assert session.registration == world.candidate
    event = AuditEvent.objects.get(event_type="candidate.login")
    assert event.registration_id == world.candidate.pk and event.chain == world.exam.pk


def test_a_wrong_pair_gets_one_message_whichever_half_was_wrong(world):
    wrong_ticket = refusal(login, world, ticket="T999999")
    wrong_person = refusal(login, world, id_number=world.other_candidate_id_number)
    assert wrong_ticket.message == wrong_person.message
    assert wrong_ticket.code == "no_match"
    assert AuditEvent.objects.filter(event_type="candidate.login_failed").count() == 2


def test_a_malformed_id_number_says_so(world):
    assert refusal(login, world, id_number="620121199102020016").code == "bad_id_number"


def test_failures_are_throttled_per_ticket(world, settings):
    for _ in range(settings.CANDIDATE_LOGIN_FAILURES_PER_TICKET):
        refusal(login, world, id_number=world.other_candidate_id_number)
    # Even the right pair is refused now for this ticket ...
    assert refusal(login, world).code == "throttled"
    # ... but not for another candidate in the same hall, behind the same address.
    other = candidate_login(
        id_number=world.other_candidate_id_number, ticket_number=world.other_candidate.ticket_number,
        session_key="key-2", address="10.0.0.1",
    )
    assert other.registration == world.other_candidate


def test_the_throttle_lifts_after_the_lockout(world, settings):
    for _ in range(settings.CANDIDATE_LOGIN_FAILURES_PER_TICKET):
        refusal(login, world, id_number=world.other_candidate_id_number)
    cache.clear()  # the locmem cache's expiry runs on the real clock; Redis' likewise
    assert login(world).registration == world.candidate


def test_sign_in_opens_30_minutes_before_the_start(world):
    with time_machine.travel(world.exam.starts_at - timedelta(minutes=31)):
        refused = refusal(login, world)
        assert refused.code == "window_not_open" and "opens at" in refused.message
    with time_machine.travel(world.exam.starts_at - timedelta(minutes=29)):
        assert login(world)


def test_sign_in_closes_at_the_end_for_a_candidate_who_never_joined(world):
    with time_machine.travel(world.exam.ends_at + timedelta(seconds=1)):
        assert refusal(login, world).code == "window_closed"


@pytest.mark.parametrize("stage", [Registration.Stage.SUBMITTED, Registration.Stage.IN_EXAM,
                                   Registration.Stage.COMPLETE])
def test_a_candidate_who_took_part_signs_in_until_the_incident_window_closes(world, stage):
    Registration.objects.filter(pk=world.candidate.pk).update(stage=stage)
    with time_machine.travel(world.exam.ends_at + timedelta(minutes=1)):
        assert login(world, session_key="after-1").registration == world.candidate
    closes = world.exam.incident_window_closes_at
    with time_machine.travel(closes - timedelta(seconds=1)):
        assert login(world, session_key="after-2").registration == world.candidate
    with time_machine.travel(closes):
        assert refusal(login, world, session_key="after-3").code == "window_closed"


def test_after_the_end_the_journey_shows_the_after_exam_page_never_the_questions(world, client):
    from tests.exams.journey_helpers import add_questions, bring_to_exam

    add_questions(world.exam)
    bring_to_exam(world.candidate)
    with time_machine.travel(world.exam.ends_at + timedelta(minutes=5)):
        client.post(reverse("accounts:candidate_login"),
                    {"id_number": world.candidate_id_number, "ticket_number": world.candidate.ticket_number})
        page = client.get(reverse("exams:journey"))
    world.candidate.refresh_from_db()
    assert world.candidate.stage in (Registration.Stage.SUBMITTED, Registration.Stage.COMPLETE)
    html = page.content.decode()
    assert 'id="submitted"' in html and 'id="question"' not in html
    assert 'name="text"' in html  # the late report form is open


def test_late_entry_is_refused_but_rejoining_is_not(world):
    with time_machine.travel(world.exam.starts_at + timedelta(minutes=1)):
        assert refusal(login, world).code == "late_entry"
        Registration.objects.filter(pk=world.candidate.pk).update(stage=Registration.Stage.IN_EXAM)
        assert login(world)


def test_late_entry_grace_is_honoured(world):
    Exam.objects.filter(pk=world.exam.pk).update(late_entry_grace_minutes=5)
    with time_machine.travel(world.exam.starts_at + timedelta(minutes=4)):
        assert login(world)


def test_the_formal_exam_needs_the_mock_taken(world):
    mock = Exam.objects.create(title="Mock", kind=Exam.Kind.MOCK, starts_at=timezone.now() - timedelta(days=1))
    mock_room = ExamRoom.objects.create(exam=mock, name="Mock room")
    Exam.objects.filter(pk=world.exam.pk).update(required_mock=mock)
    assert refusal(login, world).code == "mock_missing"
    make_registration(exam=mock, room=mock_room, seat=1, ticket=world.candidate.ticket_number,
                      id_number=world.candidate_id_number)
    Registration.objects.filter(exam=mock).update(stage=Registration.Stage.SUBMITTED)
    assert login(world)


def test_a_mock_can_be_taken_once(world):
    Exam.objects.filter(pk=world.exam.pk).update(kind=Exam.Kind.MOCK)
    Registration.objects.filter(pk=world.candidate.pk).update(stage=Registration.Stage.COMPLETE)
    assert refusal(login, world).code == "mock_taken"


def test_a_submitted_mock_with_uploads_outstanding_may_come_back_to_finish_them(world):
    Exam.objects.filter(pk=world.exam.pk).update(kind=Exam.Kind.MOCK)
    Registration.objects.filter(pk=world.candidate.pk).update(stage=Registration.Stage.SUBMITTED)
    assert login(world).registration == world.candidate


def test_a_second_concurrent_login_is_refused_and_recorded(world):
    heard = []
    second_login_listeners.append(heard.append)
    try:
        login(world, session_key="pc-1")
        assert refusal(login, world, session_key="pc-2").code == "second_login"
    finally:
        second_login_listeners.remove(heard.append)
    assert [event.registration for event in heard] == [world.candidate]
    assert AuditEvent.objects.filter(event_type="candidate.second_login_refused").count() == 1
    assert CandidateSession.objects.filter(ended_at__isnull=True).count() == 1


def test_a_dead_session_is_replaced_by_a_new_login(world, settings):
    first = login(world, session_key="pc-1")
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.CANDIDATE_SESSION_LIVE_SECONDS + 1)):
        second = login(world, session_key="pc-2")
    first.refresh_from_db()
    assert first.ended_at and first.end_reason == CandidateSession.EndReason.REPLACED
    assert second.ended_at is None


def test_the_login_page_signs_in_and_out(world, client):
    response = client.post(
        reverse("accounts:candidate_login"),
        {"id_number": world.candidate_id_number, "ticket_number": world.candidate.ticket_number},
    )
    assert response.status_code == 302
    page = client.get(reverse("accounts:candidate_home"), follow=True)
    assert world.candidate.candidate.full_name in page.content.decode()
    client.post(reverse("accounts:candidate_logout"))
    assert client.get(reverse("accounts:candidate_home")).url == reverse("accounts:candidate_login")
    assert CandidateSession.objects.get().end_reason == CandidateSession.EndReason.LOGOUT


def test_the_login_page_shows_the_refusal(world, client):
    response = client.post(
        reverse("accounts:candidate_login"), {"id_number": world.candidate_id_number, "ticket_number": "NOPE1"}
    )
    assert response.status_code == 400
    assert "do not match a registration" in response.content.decode()


def test_the_login_page_speaks_chinese(world, client):
    response = client.post(
        reverse("accounts:candidate_login"),
        {"id_number": world.candidate_id_number, "ticket_number": "NOPE1"},
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    assert "身份证号" in response.content.decode()
