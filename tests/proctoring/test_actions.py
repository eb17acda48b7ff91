import pytest

from invigilate.accounts.services import CandidateLoginRefused, candidate_login
from invigilate.audit.models import AuditEvent
from invigilate.proctoring.models import Alert, InvigilatorAction
from invigilate.proctoring.services import flag_add, note_add, warning_confirm, warning_issue


def test_it_records_a_warning_and_its_confirmation_once(world):
    warning = warning_issue(registration=world.candidate, actor=world.invigilator, message="Face the camera, please.")
    assert warning.confirmed_at is None
    assert warning_confirm(registration=world.other_candidate, warning_id=warning.pk) is False  # not theirs
    assert warning_confirm(registration=world.candidate, warning_id=warning.pk) is True
    assert warning_confirm(registration=world.candidate, warning_id=warning.pk) is False
    warning.refresh_from_db()
    assert warning.confirmed_at is not None
    assert {"candidate.warned", "candidate.warning_confirmed"} <= set(AuditEvent.objects.values_list("event_type", flat=True))


def test_it_records_notes_and_flags_with_their_author(world):
    note_add(registration=world.candidate, actor=world.invigilator, text="Asked to show the paper.")
    flag_add(registration=world.candidate, actor=world.supervisor, text="Second voice at 10:42.")
    kinds = list(InvigilatorAction.objects.values_list("kind", "author_role"))
    assert kinds == [("note", "invigilator"), ("flag", "supervisor")]
    with pytest.raises(ValueError):
        note_add(registration=world.candidate, actor=world.invigilator, text="   ")


def test_a_refused_second_login_raises_an_alert(world):
    candidate_login(id_number=world.candidate_id_number, ticket_number=world.candidate.ticket_number,
                    session_key="first", address="10.0.0.1")
    with pytest.raises(CandidateLoginRefused):
        candidate_login(id_number=world.candidate_id_number, ticket_number=world.candidate.ticket_number,
                        session_key="second", address="10.0.0.2")
    alert = Alert.objects.get()
    assert alert.kind == "second_login" and alert.severity == "high" and alert.registration == world.candidate
