"""Where supervision's measurements come from: the room dashboard's socket, the drawer, the focus view."""

from datetime import timedelta

import pytest
import time_machine
from channels.db import database_sync_to_async as sync_to_async
from django.utils import timezone

from invigilate.audit.models import AuditEvent
from invigilate.supervision import services
from invigilate.supervision.models import CandidateView, DashboardConnection
from tests.proctoring.sockets import room_socket, staff_cookie


@pytest.mark.django_db(transaction=True)
async def test_the_room_dashboard_socket_records_when_it_was_open(live_world):
    socket = room_socket(live_world.room_a.pk, await sync_to_async(staff_cookie)(live_world.invigilator))
    assert (await socket.connect())[0]
    connection = await sync_to_async(DashboardConnection.objects.get)()
    assert connection.user_id == live_world.invigilator.pk and connection.role == "invigilator"
    assert connection.disconnected_at is None
    await socket.send_json_to({"type": "sync"})
    await socket.receive_json_from(timeout=3)
    await socket.disconnect()
    await sync_to_async(connection.refresh_from_db)()
    assert connection.disconnected_at is not None and connection.last_seen_at >= connection.connected_at


def test_the_sweep_closes_a_connection_gone_silent_at_its_last_sign_of_life(world):
    opened = timezone.now()
    with time_machine.travel(opened, tick=False):
        services.dashboard_connection_open(user=world.invigilator, room=world.room_a, channel_name="lost")
    with time_machine.travel(opened + timedelta(seconds=20), tick=False):
        services.dashboard_connection_touch(channel_name="lost")
    assert services.dashboard_connections_sweep(now=opened + timedelta(seconds=60)) == 0
    assert services.dashboard_connections_sweep(now=opened + timedelta(seconds=70)) == 1
    assert DashboardConnection.objects.get().disconnected_at == opened + timedelta(seconds=20)
    assert services.dashboard_connections_sweep(now=opened + timedelta(seconds=90)) == 0


def test_opening_the_drawer_or_the_focus_view_records_a_look(world, client):
    client.force_login(world.invigilator)
    assert client.get(f"/proctoring/candidate/{world.candidate.pk}/").status_code == 200
    assert client.get(f"/proctoring/candidate/{world.candidate.pk}/", HTTP_HX_REQUEST="true").status_code == 200
    assert client.get(f"/media/focus/{world.candidate.pk}/").status_code == 200
    views = list(CandidateView.objects.values_list("viewer_id", "registration_id", "kind"))
    assert views == [(world.invigilator.pk, world.candidate.pk, "drawer"), (world.invigilator.pk, world.candidate.pk, "focus")]
    client.force_login(world.other_invigilator)  # not their room: no look recorded
    assert client.get(f"/proctoring/candidate/{world.candidate.pk}/").status_code == 404
    assert CandidateView.objects.count() == 2


def test_dropping_in_is_on_the_record(world, client):
    client.force_login(world.supervisor)
    response = client.get(f"/supervision/room/{world.room_a.pk}/")
    html = response.content.decode()
    assert response.status_code == 200 and 'id="drop-in-banner"' in html and 'id="wall"' in html
    assert f'data-socket="/ws/room/{world.room_a.pk}/"' in html
    event = AuditEvent.objects.get(event_type="supervision.dropped_in")
    assert event.actor == world.supervisor and event.data["room"] == world.room_a.pk
