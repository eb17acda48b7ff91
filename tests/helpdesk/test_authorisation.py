import pytest
from django.urls import reverse

from invigilate.accounts.models import Role
from invigilate.exams.models import ExamRoom
from invigilate.exams.services import exam_staff_assign
from invigilate.helpdesk.models import HelpStatus
from invigilate.helpdesk.selectors import (
    help_request_list_for_supervisor,
    help_request_list_mine,
    help_request_list_waiting,
)
from invigilate.helpdesk.services import HelpdeskError, help_request_claim, technician_presence_connect
from tests.personas import PASSWORD, make_exam, make_registration, make_user

from .conftest import ask_help


@pytest.fixture
def other_exam_technician(world):
    exam = make_exam(title="Another exam")
    room = ExamRoom.objects.create(exam=exam, name="Hall")
    registration, _ = make_registration(exam=exam, room=room, seat=1)
    user = make_user("foreign-tech", Role.TECHNICIAN)
    exam_staff_assign(exam=exam, user=user, role=Role.TECHNICIAN)
    return user, registration


def test_a_technician_of_another_exam_sees_nothing(world, client, other_exam_technician):
    foreign, _registration = other_exam_technician
    technician_presence_connect(user=foreign)
    request = ask_help(world.candidate)
    assert request.status == HelpStatus.QUEUED  # never offered to a technician of another exam
    assert list(help_request_list_waiting(user=foreign)) == []
    assert list(help_request_list_waiting(user=world.technician)) == [request]
    client.login(username="foreign-tech", password=PASSWORD)
    page = client.get(reverse("helpdesk:home")).content.decode()
    assert world.candidate.ticket_number not in page
    assert client.get(reverse("helpdesk:request", args=[request.pk])).status_code == 404
    assert client.get(reverse("helpdesk:photo", args=[request.pk])).status_code == 404
    assert client.post(reverse("helpdesk:action", args=[request.pk, "claim"])).status_code == 404
    with pytest.raises(HelpdeskError):
        help_request_claim(request=request, technician=foreign)
    request.refresh_from_db()
    assert request.status == HelpStatus.QUEUED


def test_other_roles_cannot_open_the_console(world, client):
    for username in ("invigilator", "supervisor", "reviewer", "outsider"):
        client.login(username=username, password=PASSWORD)
        assert client.get(reverse("helpdesk:home")).status_code == 403
    client.logout()
    assert client.get(reverse("helpdesk:home")).status_code == 302


def test_the_technician_sees_the_request_page(world, client):
    technician_presence_connect(user=world.technician)
    request = ask_help(world.candidate, phone="13911112222")
    client.login(username="technician", password=PASSWORD)
    page = client.get(reverse("helpdesk:request", args=[request.pk])).content.decode()
    assert world.candidate.candidate.full_name in page and world.candidate.candidate.id_number_masked in page
    assert 'href="tel:13911112222"' in page and "differs from the registered" in page
    assert "Room A" in page and "Invigilator" in page
    assert world.candidate_id_number not in page  # only the masked ID number
    mine = client.get(reverse("helpdesk:home") + "?panel=mine").content.decode()
    assert world.candidate.ticket_number in mine
    assert list(help_request_list_mine(user=world.technician)) == [request]


def test_supervisors_see_the_whole_queue_of_their_exam_only(world, other_exam_technician):
    request = ask_help(world.candidate)
    _foreign, other_registration = other_exam_technician
    foreign_request = ask_help(other_registration)
    assert list(help_request_list_for_supervisor(user=world.supervisor, exam=world.exam)) == [request]
    assert list(help_request_list_for_supervisor(user=world.supervisor, exam=other_registration.exam)) == []
    assert list(help_request_list_for_supervisor(user=world.technician, exam=world.exam)) == []
    assert list(help_request_list_for_supervisor(user=world.admin, exam=other_registration.exam)) == [foreign_request]


def test_the_candidate_status_is_only_their_own(world, client):
    ask_help(world.other_candidate)
    response = client.get(reverse("helpdesk:help_status"))
    assert response.status_code == 200 and b"data-status" not in response.content
