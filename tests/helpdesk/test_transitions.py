import pytest

from invigilate.audit.models import AuditEvent
from invigilate.helpdesk.models import CallAttempt, HelpMessage, HelpRequest, HelpStatus, ResolutionCategory
from invigilate.helpdesk.services import (
    TRANSITIONS,
    HelpdeskError,
    HelpRequestConflict,
    help_request_call_log,
    help_request_call_start,
    help_request_cancel_by_candidate,
    help_request_claim,
    help_request_decline,
    help_request_mark_unreachable,
    help_request_message_send,
    help_request_resolve,
    help_request_submit,
    help_request_transfer,
    technician_presence_connect,
)

from .conftest import add_technician, ask_help

S = HelpStatus


def moves(request) -> list[tuple[str, str, str]]:
    return [
        (event.data.get("from"), event.data.get("to"), event.actor_label)
        for event in AuditEvent.objects.filter(subject_type="helpdesk.helprequest", subject_id=str(request.pk))
        if event.data.get("to")
    ]


def test_it_declares_every_status_and_only_ends_in_terminal_ones(db):
    assert set(TRANSITIONS) == set(S.values)
    assert {s for s, targets in TRANSITIONS.items() if not targets} == {S.RESOLVED, S.UNREACHABLE, S.TRANSFERRED, S.CANCELLED}


def test_it_queues_without_online_technicians_and_offers_when_one_comes(world):
    request = ask_help(world.candidate)
    assert request.status == S.QUEUED
    technician_presence_connect(user=world.technician)
    request.refresh_from_db()
    assert request.status == S.OFFERED and request.technician == world.technician
    assert request.first_offered_at is not None
    assert moves(request) == [("queued", "offered", "system")]


def test_it_walks_a_request_through_claim_call_log_and_resolve_with_an_audit_of_each_move(world):
    technician_presence_connect(user=world.technician)
    request = ask_help(world.candidate)
    request = help_request_claim(request=request, technician=world.technician)
    request = help_request_call_start(request=request, technician=world.technician)
    assert request.status == S.CALLING
    help_request_call_log(request=request, technician=world.technician, outcome=CallAttempt.Outcome.REACHED, note="ok")
    request.refresh_from_db()
    assert request.status == S.CLAIMED
    request = help_request_resolve(request=request, technician=world.technician,
                                   resolution_category=ResolutionCategory.BROWSER_DEVICE, note="camera permission")
    assert request.status == S.RESOLVED and request.closed_at and request.resolution_category == "browser_device"
    tech = f"user:{world.technician.pk}"
    assert moves(request) == [
        ("queued", "offered", "system"), ("offered", "claimed", tech), ("claimed", "calling", tech),
        ("calling", "claimed", tech), ("claimed", "resolved", tech),
    ]
    assert AuditEvent.objects.filter(event_type="help.requested", registration_id=world.candidate.pk).exists()


def test_it_refuses_an_illegal_move_with_a_readable_reason(world):
    technician_presence_connect(user=world.technician)
    request = ask_help(world.candidate)
    with pytest.raises(HelpdeskError, match="claim it first"):
        help_request_resolve(request=request, technician=world.technician, resolution_category="guided")
    request = help_request_claim(request=request, technician=world.technician)
    request = help_request_resolve(request=request, technician=world.technician, resolution_category="guided")
    with pytest.raises(HelpdeskError, match="closed: resolved"):
        help_request_call_start(request=request, technician=world.technician)


def test_a_second_press_adds_to_the_open_request(world):
    first = ask_help(world.candidate)
    again, created = help_request_submit(registration=world.candidate, category="network", description="and now no network",
                                         phone="13900000002", diagnostics={"online": False})
    assert not created and again.pk == first.pk
    assert again.phone == "13900000002" and again.diagnostics == {"online": False}
    assert HelpMessage.objects.get(request=first).text == "and now no network"
    assert HelpRequest.objects.filter(registration=world.candidate).count() == 1


def test_the_candidate_cancels_and_may_ask_again(world):
    request = ask_help(world.candidate)
    request = help_request_cancel_by_candidate(request=request)
    assert request.status == S.CANCELLED
    assert moves(request)[-1] == ("queued", "cancelled", f"candidate:{world.candidate.pk}")
    assert ask_help(world.candidate).pk != request.pk


def test_a_declined_offer_goes_to_another_technician(world):
    technician_presence_connect(user=world.technician)
    other = add_technician(world.exam, "tech-two")
    request = ask_help(world.candidate)
    first_choice = request.technician
    request = help_request_decline(request=request, technician=first_choice)
    request.refresh_from_db()
    assert request.status == S.OFFERED and request.technician != first_choice
    assert request.technician in (world.technician, other)


def test_unreachable_after_a_call_without_answer(world):
    technician_presence_connect(user=world.technician)
    request = help_request_claim(request=ask_help(world.candidate), technician=world.technician)
    help_request_call_log(request=request, technician=world.technician, outcome="no_answer")
    request.refresh_from_db()
    request = help_request_mark_unreachable(request=request, technician=world.technician, note="3 tries")
    assert request.status == S.UNREACHABLE and request.closed_at


def test_a_transfer_to_a_technician_offers_a_successor_and_to_the_invigilator_ends_it(world):
    technician_presence_connect(user=world.technician)
    other = add_technician(world.exam, "tech-two")
    request = help_request_claim(request=ask_help(world.candidate), technician=world.technician)
    successor = help_request_transfer(request=request, technician=world.technician, to_user=other, note="needs network")
    request.refresh_from_db()
    assert request.status == S.TRANSFERRED and request.transferred_to == other
    assert successor.status == S.OFFERED and successor.technician == other and successor.previous == request
    successor = help_request_claim(request=successor, technician=other)
    with pytest.raises(HelpdeskError):
        help_request_transfer(request=successor, technician=other, to_user=world.other_invigilator)  # not their room
    assert help_request_transfer(request=successor, technician=other, to_user=world.invigilator) is None
    successor.refresh_from_db()
    assert successor.status == S.TRANSFERRED and successor.closed_at
    assert not HelpRequest.objects.filter(registration=world.candidate, status__in=["queued", "offered", "claimed", "calling"]).exists()


def test_a_message_to_the_candidate_needs_the_request_held(world):
    technician_presence_connect(user=world.technician)
    request = ask_help(world.candidate)
    with pytest.raises(HelpdeskError):
        help_request_message_send(request=request, technician=world.technician, text="Restart your browser")
    request = help_request_claim(request=request, technician=world.technician)
    help_request_message_send(request=request, technician=world.technician, text="Restart your browser")
    assert request.messages.get().kind == HelpMessage.Kind.TO_CANDIDATE


def test_a_claim_that_lost_says_who_won(world):
    technician_presence_connect(user=world.technician)
    other = add_technician(world.exam, "tech-two")
    request = ask_help(world.candidate)
    stale = HelpRequest.objects.get(pk=request.pk)
    help_request_claim(request=request, technician=other)
    with pytest.raises(HelpRequestConflict, match="Tech-Two has already taken"):
        help_request_claim(request=stale, technician=world.technician)
