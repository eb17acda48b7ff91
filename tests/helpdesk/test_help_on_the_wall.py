"""The help desk on the invigilator's wall: asking raises a help_requested signal (feed and
timeline), the tile carries the help badge and how it ended, a whole wall renders its badges
in a fixed number of queries, and the technician sees the candidate's state as the tile does."""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invigilate.exams.models import Registration
from invigilate.helpdesk.models import ResolutionCategory
from invigilate.helpdesk.services import help_request_claim, help_request_resolve
from invigilate.proctoring.models import Alert, Signal
from tests.personas import make_registration

from .conftest import add_technician, ask_help, more_candidates


def staff(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_asking_for_help_alerts_the_invigilator_and_the_tile_shows_how_it_ended(world):
    request = ask_help(world.candidate)
    signal = Signal.objects.get(registration=world.candidate, kind="help_requested")
    assert signal.source == "server" and signal.data["request_id"] == request.pk
    alert = Alert.objects.get(registration=world.candidate, kind="help_requested")
    assert alert.room_id == world.room_a.pk and alert.sentence == "The candidate asked for help."
    invigilator = staff(world.invigilator)
    tile = invigilator.get(reverse("proctoring:tile", args=[world.room_a.pk, world.candidate.pk])).content.decode()
    assert 'data-help-status="queued"' in tile and "Help asked: queued" in tile

    technician = add_technician(world.exam, "tech-wall")
    help_request_claim(request=request, technician=technician)
    help_request_resolve(request=request, technician=technician, resolution_category=ResolutionCategory.GUIDED)
    tile = invigilator.get(reverse("proctoring:tile", args=[world.room_a.pk, world.candidate.pk])).content.decode()
    assert 'data-help-status="resolved"' in tile and "Help resolved" in tile
    ended = Signal.objects.get(registration=world.candidate, kind="help_ended")
    assert ended.alert_id is None and ended.data["status"] == "resolved"
    drawer = invigilator.get(reverse("proctoring:drawer", args=[world.candidate.pk])).content.decode()
    assert "asked for help" in drawer and "help request ended" in drawer
    # The other room's invigilator sees none of it.
    assert staff(world.other_invigilator).get(
        reverse("proctoring:tile", args=[world.room_a.pk, world.candidate.pk])).status_code == 404


def wall_queries(world) -> tuple[int, str]:
    invigilator = staff(world.invigilator)
    with CaptureQueriesContext(connection) as queries:
        html = invigilator.get(reverse("proctoring:wall", args=[world.room_a.pk])).content.decode()
    return len(queries), html


def test_the_wall_renders_every_help_badge_without_a_query_per_tile(world):
    few = more_candidates(world, 1)
    for registration in [world.candidate, *few]:
        ask_help(registration)
    baseline, html = wall_queries(world)
    assert html.count('class="help-badge') == 2
    many = [make_registration(exam=world.exam, room=world.room_a, seat=seat)[0] for seat in range(3, 9)]
    for registration in many:
        ask_help(registration)
    queries, html = wall_queries(world)
    assert html.count('class="help-badge') == 8
    assert queries == baseline


def test_the_request_page_shows_the_candidates_live_state_as_the_tile_does(world):
    technician = add_technician(world.exam, "tech-page")
    request = ask_help(world.candidate)
    Registration.objects.filter(pk=world.candidate.pk).update(stage=Registration.Stage.IN_EXAM)
    page = staff(technician).get(reverse("helpdesk:request", args=[request.pk]) + "?panel=detail").content.decode()
    live = page[page.index('id="live-state"'):]
    live = live[:live.index("</dd>")]
    assert "In exam" in live and 'class="tile-state"' in live and "1 open alert" in live
    assert 'data-help-status="' in live
