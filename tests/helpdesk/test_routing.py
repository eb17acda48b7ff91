from collections import Counter

from invigilate.exams.models import Exam
from invigilate.helpdesk.models import HelpCategory, HelpRequest, HelpStatus
from invigilate.helpdesk.services import (
    help_request_claim,
    help_request_pull_oldest,
    help_request_resolve,
    technician_presence_choose,
    technician_skills_set,
)

from .conftest import add_technician, ask_help, more_candidates

S = HelpStatus


def test_it_spreads_offers_round_robin_among_equally_loaded_technicians(world):
    world.exam.rules = {"help_max_open_per_technician": 1}
    world.exam.save()
    technicians = [add_technician(world.exam, f"tech-{n}") for n in range(3)]
    served = Counter()
    for registration in more_candidates(world, 9):
        request = ask_help(registration)
        assert request.status == S.OFFERED
        served[request.technician_id] += 1
        request = help_request_claim(request=request, technician=request.technician)
        help_request_resolve(request=request, technician=request.technician, resolution_category="guided")
    assert sorted(served.values()) == [3, 3, 3]
    assert set(served) == {t.pk for t in technicians}


def test_it_offers_to_the_technician_with_fewest_open_requests(world):
    busy = add_technician(world.exam, "busy")
    idle = add_technician(world.exam, "idle")
    first, second, third = more_candidates(world, 3)
    request = ask_help(first)
    holder = request.technician
    help_request_claim(request=request, technician=holder)
    other = idle if holder == busy else busy
    assert ask_help(second).technician == other
    help_request_claim(request=HelpRequest.objects.get(registration=second), technician=other)
    # Both hold one; a resolved one frees its holder, who is then the least loaded.
    help_request_resolve(request=HelpRequest.objects.get(registration=first), technician=holder,
                         resolution_category="guided")
    assert ask_help(third).technician == holder


def test_it_prefers_the_technician_with_the_skill(world):
    network = add_technician(world.exam, "network-expert")
    camera = add_technician(world.exam, "camera-expert")
    technician_skills_set(user=network, categories=[HelpCategory.NETWORK])
    technician_skills_set(user=camera, categories=[HelpCategory.CAMERA_MICROPHONE])
    a, b = more_candidates(world, 2)
    assert ask_help(a, category=HelpCategory.NETWORK).technician == network
    assert ask_help(b, category=HelpCategory.CAMERA_MICROPHONE).technician == camera


def test_it_offers_nothing_to_away_offline_or_unassigned_technicians(world):
    away = add_technician(world.exam, "away")
    technician_presence_choose(user=away, away=True)
    add_technician(world.exam, "offline", online=False)
    other_exam = Exam.objects.create(title="Other", starts_at=world.exam.starts_at)
    add_technician(other_exam, "elsewhere")
    request = ask_help(world.candidate)
    assert request.status == S.QUEUED
    technician_presence_choose(user=away, away=False)
    request.refresh_from_db()
    assert request.technician == away


def test_a_technician_holds_at_most_one_pending_offer(world):
    add_technician(world.exam, "only")
    first, second = (ask_help(r) for r in more_candidates(world, 2))
    second.refresh_from_db()
    assert first.status == S.OFFERED and second.status == S.QUEUED


def test_pulling_takes_the_oldest_waiting_request(world):
    technician = add_technician(world.exam, "puller", online=False)
    oldest, newer = (ask_help(r) for r in more_candidates(world, 2))
    pulled = help_request_pull_oldest(technician=technician, exam_ids=[world.exam.pk])
    assert pulled.pk == oldest.pk and pulled.status == S.CLAIMED and pulled.technician == technician
    assert help_request_pull_oldest(technician=technician, exam_ids=[world.exam.pk]).pk == newer.pk
    assert help_request_pull_oldest(technician=technician, exam_ids=[world.exam.pk]) is None
