"""The exam's candidates, most suspicious first, with filters."""

from django.urls import reverse

from invigilate.proctoring.services import flag_add
from invigilate.review.selectors import candidate_list_for_review
from tests.personas import PASSWORD, make_registration


def test_it_puts_the_candidate_with_alerts_and_flags_first(world, reviewed):
    quiet, _ = make_registration(exam=world.exam, room=world.room_a, seat=2)
    ranked = list(candidate_list_for_review(user=world.reviewer, exam=world.exam))
    assert ranked[0] == world.candidate
    top = ranked[0]
    assert (top.n_alerts, top.n_high_alerts, top.n_unresolved_alerts, top.n_detector_flags, top.n_flags, top.n_gaps) \
        == (1, 1, 1, 1, 1, 1)
    assert {registration.suspicion for registration in ranked[1:]} == {0}


def test_it_narrows_by_filter_room_and_search(world, reviewed):
    flag_add(registration=world.other_candidate, actor=world.other_invigilator, text="Looks down a lot")
    def ranked(**filters):
        return list(candidate_list_for_review(user=world.reviewer, exam=world.exam, **filters))

    assert ranked(show="detector") == [world.candidate]
    assert set(ranked(show="flagged")) == {world.candidate, world.other_candidate}
    assert ranked(show="flagged", room_id=world.room_b.pk) == [world.other_candidate]
    assert ranked(search=world.other_candidate.ticket_number) == [world.other_candidate]
    assert set(ranked(show="undecided")) == {world.candidate, world.other_candidate}


def test_it_shows_nothing_to_someone_who_does_not_review_the_exam(world, reviewed):
    assert not candidate_list_for_review(user=world.supervisor, exam=world.exam).exists()


def test_the_exam_page_lists_and_filters_with_htmx(world, reviewed, client):
    client.login(username="reviewer", password=PASSWORD)
    url = reverse("review:exam", args=[world.exam.pk])
    fragment = client.get(url + "?show=detector", headers={"HX-Request": "true"}).content.decode()
    assert "<table" in fragment and "<html" not in fragment
    assert world.candidate.ticket_number in fragment and world.other_candidate.ticket_number not in fragment
