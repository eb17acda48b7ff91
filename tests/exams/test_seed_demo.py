from django.core.management import call_command

from invigilate.accounts.models import User
from invigilate.audit.services import audit_chain_verify
from invigilate.exams.models import Exam, Registration


def test_seed_demo_is_idempotent_and_prints_every_login(db, capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    counts = (User.objects.count(), Exam.objects.count(), Registration.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Exam.objects.count(), Registration.objects.count()) == counts
    assert counts == (7, 2, 48)
    assert "invigilator1" in first and first.count("candidate, Room") == 24
    formal = Exam.objects.get(kind=Exam.Kind.FORMAL)
    assert formal.required_mock.kind == Exam.Kind.MOCK
    assert formal.rooms.count() == 2 and formal.registrations.count() == 24
    assert audit_chain_verify() == []
