"""Who may watch which room: every role x every room, forged ids, missing or foreign Origin."""

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.test import Client

from invigilate.proctoring.services import signal_record
from tests.realtime.test_candidate_socket import signed_in_cookie

from .sockets import connect_outcome, room_socket, staff_cookie

# persona -> rooms whose wall it may watch
MATRIX = {
    "invigilator": {"room_a"},
    "other_invigilator": {"room_b"},
    "supervisor": {"room_a", "room_b"},
    "admin": {"room_a", "room_b"},
    "technician": set(),
    "reviewer": set(),
    "outsider": set(),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("persona", list(MATRIX))
@pytest.mark.parametrize("room", ["room_a", "room_b"])
async def test_the_room_socket_admits_exactly_the_rooms_watchers(live_world, persona, room):
    cookie = await sync_to_async(staff_cookie)(getattr(live_world, persona))
    connected, code = await connect_outcome(room_socket(getattr(live_world, room).pk, cookie))
    assert connected is (room in MATRIX[persona])
    if not connected:
        assert code == 4403


@pytest.mark.django_db(transaction=True)
async def test_the_room_socket_refuses_strangers_forged_ids_and_bad_origins(live_world):
    cookie = await sync_to_async(staff_cookie)(live_world.invigilator)
    room = live_world.room_a.pk
    assert (await connect_outcome(room_socket(room, None))) == (False, 4401)  # not signed in
    candidate_cookie = await sync_to_async(signed_in_cookie)(live_world)
    assert (await connect_outcome(room_socket(room, candidate_cookie))) == (False, 4401)  # a candidate
    assert (await connect_outcome(room_socket(999_999, cookie))) == (False, 4403)  # no such room
    assert (await connect_outcome(room_socket(live_world.room_b.pk, cookie))) == (False, 4403)
    assert not (await connect_outcome(room_socket(room, cookie, origin="http://evil.example")))[0]
    assert not (await connect_outcome(room_socket(room, cookie, origin=None)))[0]
    assert (await connect_outcome(room_socket(room, cookie + "x"))) == (False, 4401)  # forged session


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("persona", list(MATRIX))
def test_the_pages_serve_exactly_the_rooms_watchers(world, persona):
    alert = signal_record(registration=world.candidate, kind="paste", source="browser").alert
    client = client_for(getattr(world, persona))
    allowed = "room_a" in MATRIX[persona]
    reg = world.candidate.pk
    gets = [
        f"/proctoring/room/{world.room_a.pk}/", f"/proctoring/room/{world.room_a.pk}/wall/",
        f"/proctoring/room/{world.room_a.pk}/feed/", f"/proctoring/room/{world.room_a.pk}/tile/{reg}/",
        f"/proctoring/candidate/{reg}/", f"/proctoring/candidate/{reg}/photo/",
    ]
    for url in gets:
        status = client.get(url).status_code
        assert (status == 200) is allowed, (url, status)
        assert status in (200, 403, 404)
    response = client.post(f"/proctoring/alert/{alert.pk}/acknowledge/", HTTP_HX_REQUEST="true")
    assert (response.status_code == 200) is allowed
    alert.refresh_from_db()
    assert (alert.status == "acknowledged") is allowed
    response = client.post(f"/proctoring/candidate/{reg}/action/", {"kind": "note", "text": "seen"})
    assert (response.status_code == 302) is allowed


def test_the_pages_refuse_anonymous_visitors_and_forged_ids(world):
    assert Client().get(f"/proctoring/room/{world.room_a.pk}/").status_code == 302  # to sign in
    client = client_for(world.invigilator)
    assert client.get("/proctoring/room/999999/").status_code == 404
    assert client.get(f"/proctoring/room/{world.room_a.pk}/tile/{world.other_candidate.pk}/").status_code == 404
    assert client.get(f"/proctoring/candidate/{world.other_candidate.pk}/photo/").status_code == 404
    foreign = signal_record(registration=world.other_candidate, kind="paste", source="browser").alert
    assert client.post(f"/proctoring/alert/{foreign.pk}/acknowledge/").status_code == 404
