"""Messages between invigilators, supervisors and technicians, scoped to who works where."""

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.layers import get_channel_layer

from invigilate.audit.models import AuditEvent
from invigilate.realtime.groups import exam_group, helpdesk_group, room_group
from invigilate.supervision import selectors, services
from invigilate.supervision.models import StaffMessage


def test_invigilators_read_their_rooms_and_supervisors_and_technicians_the_exam(world):
    services.staff_message_post(author=world.supervisor, exam=world.exam, room=world.room_a, text="Seat 1 looks away a lot")
    services.staff_message_post(author=world.other_invigilator, exam=world.exam, room=world.room_b,
                                registration=world.other_candidate, text="Seat 1 has no sound")
    services.staff_message_post(author=world.technician, exam=world.exam, text="Network trouble in the east wing")

    def texts(user, room=None):
        return [m.text for m in selectors.staff_message_list_for_user(user=user, exam=world.exam, room=room)]

    assert texts(world.invigilator) == ["Seat 1 looks away a lot"]
    assert texts(world.other_invigilator) == ["Seat 1 has no sound"]
    assert len(texts(world.supervisor)) == 3 and len(texts(world.technician)) == 3
    assert texts(world.technician, world.room_b) == ["Seat 1 has no sound"]
    assert texts(world.reviewer) == [] and texts(world.outsider) == []
    assert AuditEvent.objects.filter(event_type="staff.message_posted").count() == 3


def test_nobody_writes_where_they_do_not_work(world):
    with pytest.raises(services.SupervisionError):
        services.staff_message_post(author=world.invigilator, exam=world.exam, room=world.room_b, text="hello")
    with pytest.raises(services.SupervisionError):
        services.staff_message_post(author=world.invigilator, exam=world.exam, text="to the whole exam")
    with pytest.raises(services.SupervisionError):
        services.staff_message_post(author=world.outsider, exam=world.exam, room=world.room_a, text="hello")
    with pytest.raises(services.SupervisionError):
        services.staff_message_post(author=world.supervisor, exam=world.exam, room=world.room_a,
                                    registration=world.other_candidate, text="wrong room")
    assert not StaffMessage.objects.exists()


def test_the_panels_post_and_show_messages_in_each_dashboard(world, client):
    client.force_login(world.invigilator)
    response = client.post("/supervision/messages/", {"exam": world.exam.pk, "room": world.room_a.pk, "seat": "1",
                                                      "text": "Can a technician call seat 1?"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Can a technician call seat 1?" in response.content.decode()
    assert StaffMessage.objects.get().registration == world.candidate
    assert client.post("/supervision/messages/", {"exam": world.exam.pk, "room": world.room_a.pk, "seat": "9",
                                                  "text": "x"}, HTTP_HX_REQUEST="true").status_code == 400
    assert client.get(f"/supervision/messages/?exam={world.exam.pk}&room={world.room_b.pk}").status_code == 404
    room_page = client.get(f"/proctoring/room/{world.room_a.pk}/").content.decode()
    assert f"/supervision/room/{world.room_a.pk}/staff/" in room_page
    assert "Can a technician call seat 1?" in client.get(f"/supervision/room/{world.room_a.pk}/staff/").content.decode()

    client.force_login(world.technician)
    console = client.get("/helpdesk/").content.decode()
    assert "/supervision/console/" in console
    panel = client.get("/supervision/console/").content.decode()
    assert "Can a technician call seat 1?" in panel and "Seat 1" in panel
    client.post("/supervision/messages/", {"exam": world.exam.pk, "to_room": world.room_a.pk, "text": "Calling now"},
                HTTP_HX_REQUEST="true")

    client.force_login(world.supervisor)
    panel = client.get(f"/supervision/messages/?exam={world.exam.pk}").content.decode()
    assert panel.index("Can a technician call seat 1?") < panel.index("Calling now")


@pytest.mark.django_db(transaction=True)
async def test_a_message_is_pushed_to_the_room_the_supervisors_and_the_technicians(live_world):
    layer = get_channel_layer()
    channels = {}
    for group in (room_group(live_world.room_a.pk), exam_group(live_world.exam.pk), helpdesk_group(live_world.exam.pk)):
        channels[group] = await layer.new_channel()
        await layer.group_add(group, channels[group])
    message = await sync_to_async(services.staff_message_post)(
        author=live_world.supervisor, exam=live_world.exam, room=live_world.room_a, text="Please check seat 1")
    for channel in channels.values():
        event = await layer.receive(channel)
        assert event == {"type": "staff_message.posted", "message_id": message.pk, "exam_id": live_world.exam.pk,
                         "room_id": live_world.room_a.pk}
