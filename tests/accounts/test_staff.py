import pytest
from django.core.cache import cache
from django.urls import reverse

from invigilate.accounts.selectors import exam_list_for_staff, room_list_for_invigilator, user_may_invigilate_room
from tests.personas import PASSWORD


@pytest.fixture(autouse=True)
def clear_throttle():
    cache.clear()


def test_staff_sign_in_through_the_page(world, client):
    response = client.post(reverse("accounts:staff_login"), {"username": "invigilator", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("accounts:home"), follow=True).status_code == 200


def test_staff_sign_in_is_throttled_per_account(world, client, settings):
    for _ in range(settings.STAFF_LOGIN_FAILURES_PER_USER):
        client.post(reverse("accounts:staff_login"), {"username": "invigilator", "password": "wrong"})
    response = client.post(reverse("accounts:staff_login"), {"username": "invigilator", "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed attempts" in response.content.decode()


def test_an_invigilator_sees_only_their_rooms(world):
    assert list(room_list_for_invigilator(user=world.invigilator)) == [world.room_a]
    assert user_may_invigilate_room(user=world.invigilator, room_id=world.room_a.pk)
    assert not user_may_invigilate_room(user=world.invigilator, room_id=world.room_b.pk)
    assert not user_may_invigilate_room(user=world.outsider, room_id=world.room_a.pk)


def test_exam_lists_are_scoped_to_assignments(world):
    assert list(exam_list_for_staff(user=world.supervisor)) == [world.exam]
    assert list(exam_list_for_staff(user=world.technician)) == [world.exam]
    assert list(exam_list_for_staff(user=world.invigilator)) == [world.exam]
    assert list(exam_list_for_staff(user=world.outsider)) == []
    assert list(exam_list_for_staff(user=world.admin)) == [world.exam]


def test_staff_pages_need_a_staff_login(world, client):
    assert client.get(reverse("accounts:home")).status_code == 302
