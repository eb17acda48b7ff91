"""Decisions: recorded with a reason, superseded not edited, four eyes on violations, audited."""

import pytest
from django.urls import reverse

from invigilate.accounts.models import Role
from invigilate.audit.models import AuditEvent
from invigilate.exams.services import exam_staff_assign
from invigilate.review.models import Decision
from invigilate.review.services import ReviewError, decision_record, decision_second
from tests.personas import PASSWORD, make_user


@pytest.fixture
def second_reviewer(world):
    user = make_user("second-reviewer", Role.REVIEWER)
    exam_staff_assign(exam=world.exam, user=user, role=Role.REVIEWER)
    return user


def test_it_records_a_decision_with_its_reason_and_audits_it(world):
    decision = decision_record(user=world.reviewer, registration=world.candidate, outcome="no_violation",
                               reason="Only the cat walked by.")
    assert decision.status == Decision.Status.RECORDED and decision.in_force
    event = AuditEvent.objects.get(event_type="review.decision_recorded")
    assert event.registration_id == world.candidate.pk and event.data["after"]["outcome"] == "no_violation"
    assert event.data["before"] is None


@pytest.mark.parametrize("fields, message", [
    ({"outcome": "no_violation", "reason": "  "}, "reason"),
    ({"outcome": "violation", "reason": "Seen talking"}, "rule"),
    ({"outcome": "guilty", "reason": "x"}, "decision"),
])
def test_it_refuses_a_decision_without_what_it_needs(world, fields, message):
    with pytest.raises(ReviewError, match=message):
        decision_record(user=world.reviewer, registration=world.candidate, **fields)
    assert not Decision.objects.exists()


def test_a_violation_waits_for_a_second_reviewer_who_is_not_the_first(world, second_reviewer):
    decision = decision_record(user=world.reviewer, registration=world.candidate, outcome="violation",
                               rule="talking", reason="Talks to someone off camera at 10:02")
    assert decision.status == Decision.Status.AWAITING_SECOND and not decision.in_force
    with pytest.raises(ReviewError, match="second reviewer"):
        decision_second(user=world.reviewer, decision=decision, agree=True)
    decision_second(user=second_reviewer, decision=decision, agree=True)
    decision.refresh_from_db()
    assert decision.status == Decision.Status.CONFIRMED and decision.second_by == second_reviewer
    assert AuditEvent.objects.filter(event_type="review.decision_confirmed", registration_id=world.candidate.pk).exists()
    with pytest.raises(ReviewError):
        decision_second(user=second_reviewer, decision=decision, agree=False, note="changed my mind")


def test_a_rejected_violation_leaves_the_candidate_undecided(world, second_reviewer):
    decision = decision_record(user=world.reviewer, registration=world.candidate, outcome="violation",
                               rule="headphones", reason="Earbud visible")
    with pytest.raises(ReviewError, match="why"):
        decision_second(user=second_reviewer, decision=decision, agree=False)
    decision_second(user=second_reviewer, decision=decision, agree=False, note="It is an earring")
    assert Decision.objects.get().status == Decision.Status.REJECTED
    again = decision_record(user=second_reviewer, registration=world.candidate, outcome="no_violation",
                            reason="Earring, not an earbud")
    assert again.status == Decision.Status.RECORDED


def test_without_four_eyes_a_violation_takes_effect_at_once(world):
    world.exam.rules = {"review_violation_needs_second_reviewer": False}
    world.exam.save()
    decision = decision_record(user=world.reviewer, registration=world.candidate, outcome="violation",
                               rule="switching_screens", reason="Screen shows a browser")
    assert decision.status == Decision.Status.RECORDED and decision.in_force


def test_a_new_decision_supersedes_the_standing_one_only_if_the_reviewer_saw_it(world, second_reviewer):
    first = decision_record(user=world.reviewer, registration=world.candidate, outcome="inconclusive",
                            reason="Picture too dark")
    with pytest.raises(ReviewError, match="Another reviewer"):
        decision_record(user=second_reviewer, registration=world.candidate, outcome="no_violation",
                        reason="Checked the phone video", replaces=None)
    decision_record(user=second_reviewer, registration=world.candidate, outcome="no_violation",
                    reason="Checked the phone video", replaces=first.pk)
    statuses = dict(Decision.objects.values_list("pk", "status"))
    assert statuses[first.pk] == Decision.Status.SUPERSEDED
    assert list(statuses.values()).count(Decision.Status.RECORDED) == 1


def test_an_alert_has_its_own_decision(world, reviewed):
    on_alert = decision_record(user=world.reviewer, registration=world.candidate, alert=reviewed.alert,
                               outcome="no_violation", reason="A poster with a face")
    on_candidate = decision_record(user=world.reviewer, registration=world.candidate, outcome="inconclusive",
                                   reason="Needs the phone video")
    assert on_alert.status == on_candidate.status == Decision.Status.RECORDED
    with pytest.raises(ReviewError, match="another candidate"):
        decision_record(user=world.reviewer, registration=world.other_candidate, alert=reviewed.alert,
                        outcome="no_violation", reason="x")


def test_the_page_records_a_decision_and_shows_it(world, reviewed, client):
    client.login(username="reviewer", password=PASSWORD)
    url = reverse("review:candidate", args=[world.candidate.pk])
    response = client.post(reverse("review:decide", args=[world.candidate.pk]),
                           {"outcome": "violation", "rule": "talking", "reason": "Talks at 10:02", "replaces": ""})
    assert response.status_code == 302 and response["Location"].startswith(url)
    page = client.get(url).content.decode()
    assert "Talks at 10:02" in page and "Awaiting a second reviewer" in page
    exam_page = client.get(reverse("review:exam", args=[world.exam.pk]) + "?show=violation").content.decode()
    assert world.candidate.ticket_number in exam_page
