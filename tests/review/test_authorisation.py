"""Who may see a candidate's review: the exam's reviewers and exam admins, nobody else."""

import pytest
from django.urls import reverse

from invigilate.accounts.models import Role
from tests.personas import PASSWORD, make_exam, make_user

DENIED_STAFF = ["invigilator", "other-invigilator", "supervisor", "technician", "outsider"]


def _urls(world, reviewed):
    registration = world.candidate.pk
    return [
        reverse("review:exam", args=[world.exam.pk]),
        reverse("review:candidate", args=[registration]),
        reverse("review:file", args=[registration, "segment", reviewed.segment_id]),
        reverse("review:file", args=[registration, "upload", reviewed.upload_id]),
        reverse("review:file", args=[registration, "detection", reviewed.detection_signal_id]),
        reverse("review:export", args=[registration]),
    ]


@pytest.mark.parametrize("username", ["reviewer", "admin"])
def test_the_exams_reviewer_and_an_exam_admin_see_everything(world, reviewed, client, username):
    client.login(username=username, password=PASSWORD)
    assert world.exam.title in client.get(reverse("review:home")).content.decode()
    for url in _urls(world, reviewed):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("username", DENIED_STAFF)
def test_other_staff_are_refused_everywhere(world, reviewed, client, username):
    client.login(username=username, password=PASSWORD)
    assert client.get(reverse("review:home")).status_code == 403
    for url in _urls(world, reviewed):
        assert client.get(url).status_code == 403, url
    decide = client.post(reverse("review:decide", args=[world.candidate.pk]),
                         {"outcome": "no_violation", "reason": "fine"})
    assert decide.status_code == 403
    assert not world.candidate.review_decisions.exists()


def test_a_reviewer_of_another_exam_sees_nothing_of_this_one(world, reviewed, client):
    from invigilate.exams.services import exam_staff_assign

    foreign = make_user("foreign-reviewer", Role.REVIEWER)
    exam_staff_assign(exam=make_exam(title="Another exam"), user=foreign, role=Role.REVIEWER)
    client.login(username="foreign-reviewer", password=PASSWORD)
    home = client.get(reverse("review:home")).content.decode()
    assert "Another exam" in home and world.exam.title not in home
    for url in _urls(world, reviewed):
        assert client.get(url).status_code == 403, url


def test_a_candidate_is_sent_to_sign_in(world, reviewed, client):
    signed_in = client.post(reverse("accounts:candidate_login"),
                            {"id_number": world.candidate_id_number, "ticket_number": world.candidate.ticket_number})
    assert signed_in.status_code == 302
    for url in _urls(world, reviewed):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"], url


def test_a_file_of_another_candidate_is_not_found_through_this_one(world, reviewed, client):
    client.login(username="reviewer", password=PASSWORD)
    other = world.other_candidate.pk
    for category, key in (("segment", reviewed.segment_id), ("upload", reviewed.upload_id),
                          ("detection", reviewed.detection_signal_id), ("thumbnail", "camera-1"),
                          ("nonsense", "1")):
        assert client.get(reverse("review:file", args=[other, category, key])).status_code == 404
