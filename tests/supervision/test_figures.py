"""The figures supervision keeps about invigilators, replayed from hand-built histories."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from invigilate.accounts.models import CandidateSession
from invigilate.exams.models import Registration
from invigilate.proctoring.models import Alert
from invigilate.proctoring.services import (
    alert_acknowledge,
    alert_resolve,
    alerts_escalate_overdue,
    flag_add,
    note_add,
    signal_record,
    warning_issue,
)
from invigilate.supervision import selectors, services

T0 = datetime(2031, 5, 4, 9, 0, tzinfo=UTC)


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def raise_alert(registration, kind, when):
    with time_machine.travel(when, tick=False):
        return signal_record(registration=registration, kind=kind, source="browser").alert


def connect(user, room, start, end=None, channel="c"):
    with time_machine.travel(start, tick=False):
        services.dashboard_connection_open(user=user, room=room, channel_name=f"{channel}-{start.timestamp()}")
    if end is not None:
        with time_machine.travel(end, tick=False):
            services.dashboard_connection_close(channel_name=f"{channel}-{start.timestamp()}")


def test_it_measures_online_stretches_and_gaps_from_dashboard_connections(world):
    invigilator, room = world.invigilator, world.room_a
    connect(invigilator, room, at(0), at(10))
    connect(invigilator, room, at(10, 4), at(20))  # a reload: 4 s, not a gap
    connect(invigilator, room, at(25), None)  # back after 5 minutes away
    connect(invigilator, room, at(26), at(27), channel="second-tab")  # a second tab overlaps

    during_gap = selectors.presence_for_user(user=invigilator, exam=world.exam, now=at(22))
    assert not during_gap.online and during_gap.since == at(20)
    assert [(gap.start, gap.end) for gap in during_gap.gaps] == [(at(20), None)]

    later = selectors.presence_for_user(user=invigilator, exam=world.exam, now=at(30))
    assert later.online and later.since == at(25)
    assert [(gap.start, gap.end) for gap in later.gaps] == [(at(20), at(25))]
    assert later.offline_seconds(at(30)) == 300

    early = selectors.presence_for_user(user=invigilator, exam=world.exam, now=at(12))
    assert early.online and early.since == at(0)  # the reload did not restart "online since"
    never = selectors.presence_for_user(user=world.other_invigilator, exam=world.exam, now=at(30))
    assert not never.online and never.since is None and never.gaps == []


def test_it_measures_time_to_acknowledge_and_resolve_and_what_is_left_open(world):
    world.exam.rules = {"alert_escalate_after_seconds": 60}
    world.exam.save()
    first = raise_alert(world.candidate, "paste", at(0))
    second = raise_alert(world.candidate, "copy", at(1))
    third = raise_alert(world.candidate, "devtools_opened", at(2))
    with time_machine.travel(at(0, 30), tick=False):
        alert_acknowledge(alert=first, actor=world.invigilator)
    with time_machine.travel(at(2), tick=False):
        alert_resolve(alert=first, actor=world.invigilator)
    with time_machine.travel(at(3), tick=False):
        assert alerts_escalate_overdue() == 2  # second and third: nobody answered in 60 s
    with time_machine.travel(at(4), tick=False):
        alert_acknowledge(alert=second, actor=world.supervisor)

    alerts = Alert.objects.filter(room=world.room_a)
    now = selectors.alert_figures(alerts=alerts, now=at(5))
    assert (now.total, now.responded, now.unacknowledged_now, now.escalated_now) == (3, 2, 1, 1)
    assert now.escalations == 2 and now.acknowledged_on_behalf == 1
    assert [r.response_seconds for r in now.responses] == [30, 180, None]
    assert now.median_response_seconds == 105 and now.max_response_seconds == 180
    assert now.median_resolve_seconds == 120
    assert now.oldest_unacknowledged_seconds == 180

    # The same history seen at an earlier moment: nothing after it counts yet.
    earlier = selectors.alert_figures(alerts=alerts, now=at(1, 30))
    assert (earlier.total, earlier.responded, earlier.unacknowledged_now, earlier.escalations) == (2, 1, 1, 0)
    assert earlier.median_resolve_seconds is None
    assert third.pk not in [r.alert_id for r in earlier.responses]


def test_it_lists_candidates_nobody_looked_at_for_the_exams_limit(world):
    world.exam.rules = {"unwatched_after_minutes": 10}
    world.exam.save()
    watched, never = world.candidate, world.other_candidate
    for registration, joined in [(watched, at(0)), (never, at(2))]:
        Registration.objects.filter(pk=registration.pk).update(stage=Registration.Stage.IN_EXAM)
        CandidateSession.objects.create(registration=registration, session_key=f"k{registration.pk}", started_at=joined,
                                        last_seen_at=joined, ended_at=joined + timedelta(hours=1))
    with time_machine.travel(at(5), tick=False):
        services.candidate_view_record(viewer=world.invigilator, registration=watched, kind="drawer")
    with time_machine.travel(at(6), tick=False):  # a refresh of the open drawer extends the same look
        view = services.candidate_view_record(viewer=world.invigilator, registration=watched, kind="drawer")
    assert view.opened_at == at(5) and view.last_seen_at == at(6)

    rooms = [world.room_a, world.room_b]

    def unwatched(now):
        return {(item.registration.pk, item.since) for item in selectors.candidates_unwatched(rooms=rooms, exam=world.exam, now=now)}

    assert unwatched(at(11)) == set()
    assert unwatched(at(12)) == {(never.pk, at(2))}  # joined at 2, nobody ever opened it
    assert unwatched(at(16)) == {(never.pk, at(2)), (watched.pk, at(6))}
    with time_machine.travel(at(17), tick=False):
        services.candidate_view_record(viewer=world.supervisor, registration=watched, kind="focus")
    assert unwatched(at(18)) == {(never.pk, at(2))}
    Registration.objects.filter(pk=never.pk).update(stage=Registration.Stage.SUBMITTED)
    assert unwatched(at(18)) == set()  # finished candidates need no watching


def test_it_gathers_an_invigilators_figures_across_their_rooms(world):
    invigilator = world.invigilator
    connect(invigilator, world.room_a, at(0), at(30))
    alert = raise_alert(world.candidate, "paste", at(1))
    raise_alert(world.other_candidate, "paste", at(1))  # room B: not theirs
    with time_machine.travel(at(1, 20), tick=False):
        alert_acknowledge(alert=alert, actor=invigilator)
        services.candidate_view_record(viewer=invigilator, registration=world.candidate, kind="drawer")
        warning_issue(registration=world.candidate, actor=invigilator, message="Eyes on the screen")
        note_add(registration=world.candidate, actor=invigilator, text="looked away twice")
        flag_add(registration=world.candidate, actor=invigilator, text="second person?")
        note_add(registration=world.other_candidate, actor=world.other_invigilator, text="not theirs")
    services.audit_note_add(author=world.supervisor, exam=world.exam, subject_user=invigilator, severity="concern",
                            text="alert on seat 1 answered in 20 s")

    figures = selectors.invigilator_figures(invigilator=invigilator, exam=world.exam, now=at(40))
    assert figures.rooms == [world.room_a]
    assert not figures.presence.online and figures.presence.since == at(30)
    assert figures.alerts.total == 1 and figures.alerts.median_response_seconds == 20
    assert figures.viewed_candidates == 1 and figures.views[0].registration == world.candidate
    assert figures.actions == {"warning": 1, "note": 1, "flag": 1}
    assert [note.severity for note in figures.notes] == ["concern"]
    assert selectors.sparkline_points(figures.alerts.responses).startswith("0,")

    room = selectors.room_figures(room=world.room_b, now=at(40))
    assert room.alerts.unacknowledged_now == 1 and room.actions["note"] == 1
    assert [(user, presence.online) for user, presence in room.invigilators] == [(world.other_invigilator, False)]
    exam = selectors.exam_figures(exam=world.exam, now=at(40))
    assert exam.alerts.total == 2 and exam.actions["note"] == 2


@pytest.mark.parametrize("responses, expected", [([], ""), ([10, 20], "0,16 160,2")])
def test_it_draws_the_sparkline_of_response_times(responses, expected):
    items = [selectors.AlertResponse(i, i, T0, value, None, False) for i, value in enumerate(responses)]
    assert selectors.sparkline_points(items) == expected
