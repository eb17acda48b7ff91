import pytest

from invigilate.audit.services import audit_chain_verify
from invigilate.helpdesk.models import HelpRequest, HelpStatus
from invigilate.helpdesk.services import HelpRequestConflict, help_request_claim, help_request_submit
from tests.racing import race

from .conftest import add_technician, ask_help

pytestmark = pytest.mark.postgres


def test_exactly_one_of_racing_technicians_claims_a_request(world):
    technicians = [add_technician(world.exam, f"racer-{n}", online=False) for n in range(8)]
    for _round in range(3):
        request = ask_help(world.candidate)
        results = race(8, lambda i, pk=request.pk: help_request_claim(
            request=HelpRequest.objects.get(pk=pk), technician=technicians[i]))
        winners = [r for r in results if isinstance(r, HelpRequest)]
        losers = [r for r in results if isinstance(r, HelpRequestConflict)]
        assert len(winners) == 1 and len(losers) == 7, results
        request.refresh_from_db()
        assert request.status == HelpStatus.CLAIMED and request.technician_id == winners[0].technician_id
        assert "already taken" in str(losers[0])
        HelpRequest.objects.filter(pk=request.pk).update(status=HelpStatus.RESOLVED)
    assert audit_chain_verify() == []


def test_racing_help_presses_open_one_request(world):
    results = race(6, lambda i: help_request_submit(
        registration=world.candidate, category="network", description=f"press {i}", phone="13900000000",
        diagnostics={}))
    assert all(isinstance(r, tuple) for r in results), results
    assert sum(created for _request, created in results) == 1
    assert HelpRequest.objects.filter(registration=world.candidate).count() == 1
    assert HelpRequest.objects.get().messages.count() == 5
