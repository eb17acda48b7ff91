"""The exam overview: every room's state, sorted by what needs the supervisor first."""

from datetime import timedelta

from django.utils import timezone

from invigilate.exams.models import ExamRoom, Registration
from invigilate.exams.services import room_invigilator_assign
from invigilate.helpdesk.models import HelpRequest, HelpStatus
from invigilate.proctoring.services import alert_escalate, signal_record
from invigilate.supervision import selectors, services
from tests.personas import make_registration, make_user


def test_it_counts_candidates_by_state_and_sorts_rooms_by_need(world):
    room_c = ExamRoom.objects.create(exam=world.exam, name="Room C")
    room_invigilator_assign(room=room_c, user=make_user("third", "invigilator"))
    services.dashboard_connection_open(user=world.invigilator, room=world.room_a, channel_name="a")
    services.dashboard_connection_open(user=world.other_invigilator, room=world.room_b, channel_name="b")
    stages = ["in_exam", "in_exam", "waiting", "device_check", "submitted", "complete"]
    for seat, stage in enumerate(stages, start=2):
        registration, _ = make_registration(exam=world.exam, room=world.room_a, seat=seat)
        Registration.objects.filter(pk=registration.pk).update(stage=stage)
    Registration.objects.filter(pk=world.candidate.pk).update(
        stage="in_exam", connected=False, disconnected_since=timezone.now() - timedelta(seconds=30))
    alert = signal_record(registration=world.other_candidate, kind="paste", source="browser").alert
    alert_escalate(alert=alert)
    HelpRequest.objects.create(
        exam=world.exam, registration=world.candidate, category="network", phone="139", created_at=timezone.now(),
        status_changed_at=timezone.now(), status=HelpStatus.QUEUED,
    )

    summaries = selectors.room_summaries_for_exam(exam=world.exam)
    # Room B has an escalated alert; room C's invigilator is not online; room A is calm-ish.
    assert [summary.room.name for summary in summaries] == ["Room B", "Room C", "Room A"]
    room_a = summaries[2]
    assert room_a.counts == {"not_joined": 0, "waiting": 2, "in_exam": 3, "disconnected": 1, "submitted": 1,
                             "complete": 1}
    assert room_a.total == 7 and room_a.open_help == 1 and room_a.open_alerts == 0
    assert [status.presence.online for status in room_a.invigilators] == [True]
    assert summaries[0].escalated_alerts == 1 and summaries[0].open_alerts == 1
    assert summaries[1].invigilators_offline == 1

    only_b = selectors.room_summaries_for_exam(exam=world.exam, room_ids=[world.room_b.pk])
    assert [summary.room for summary in only_b] == [world.room_b]


def test_it_lists_escalated_alerts_and_unclaimed_help_for_the_supervisor(world):
    alert = signal_record(registration=world.candidate, kind="paste", source="browser").alert
    alert_escalate(alert=alert)
    help_request = HelpRequest.objects.create(
        exam=world.exam, registration=world.other_candidate, category="network", phone="139", created_at=timezone.now(),
        status_changed_at=timezone.now(), status=HelpStatus.QUEUED, escalated_at=timezone.now(),
        escalation_reason="not_offered",
    )
    escalations = selectors.escalations_for_exam(user=world.supervisor, exam=world.exam)
    assert escalations.alerts == [alert] and escalations.help_requests == [help_request]
    assert escalations.key == f"a{alert.pk},h{help_request.pk}"
    assert selectors.escalations_for_exam(user=world.invigilator, exam=world.exam).count == 0


def test_the_overview_page_shows_rooms_escalations_and_figures(world, client):
    alert = signal_record(registration=world.candidate, kind="paste", source="browser").alert
    alert_escalate(alert=alert)
    client.force_login(world.supervisor)
    response = client.get(f"/supervision/exam/{world.exam.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="room-{world.room_a.pk}"' in html and f'id="room-{world.room_b.pk}"' in html
    assert "Pasted into the exam page." in html and "Drop in" in html
    assert html.index(f'id="room-{world.room_a.pk}"') < html.index(f'id="room-{world.room_b.pk}"')
    rooms = client.get(f"/supervision/exam/{world.exam.pk}/?panel=rooms", HTTP_HX_REQUEST="true")
    assert rooms.content.decode().count('class="room-row') == 2
    # One supervisor, one exam: their home is the overview.
    assert client.get("/supervision/").url == f"/supervision/exam/{world.exam.pk}/"


def test_the_invigilator_panel_shows_their_figures(world, client):
    alert = signal_record(registration=world.candidate, kind="paste", source="browser").alert
    from invigilate.proctoring.services import alert_acknowledge

    alert_acknowledge(alert=alert, actor=world.invigilator)
    client.force_login(world.supervisor)
    response = client.get(f"/supervision/exam/{world.exam.pk}/invigilator/{world.invigilator.pk}/")
    html = response.content.decode()
    assert response.status_code == 200 and "<polyline" in html and 'id="figure-alerts">1<' in html
    fragment = client.get(f"/supervision/exam/{world.exam.pk}/invigilator/{world.invigilator.pk}/", HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode() and "figure-median" in fragment.content.decode()
