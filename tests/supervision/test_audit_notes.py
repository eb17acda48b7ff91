"""A supervisor's audit notes on an invigilator or a room, with a severity."""

import pytest

from invigilate.audit.models import AuditEvent
from invigilate.supervision import selectors, services
from invigilate.supervision.models import AuditNote


def test_it_records_a_note_on_an_invigilator_and_one_on_a_room(world, client):
    client.force_login(world.supervisor)
    client.post(f"/supervision/exam/{world.exam.pk}/notes/", {
        "invigilator": world.invigilator.pk, "severity": "serious", "text": "alert on seat 1 ignored 4 min"})
    client.post(f"/supervision/exam/{world.exam.pk}/notes/", {
        "room": world.room_b.pk, "severity": "info", "text": "room B calm", "next": f"/supervision/room/{world.room_b.pk}/"})
    about_invigilator, about_room = AuditNote.objects.order_by("pk")
    assert (about_invigilator.subject_user, about_invigilator.severity) == (world.invigilator, "serious")
    assert about_room.room == world.room_b
    assert AuditEvent.objects.filter(event_type="supervision.note_added", actor=world.supervisor).count() == 2

    # For the review timeline: what a reviewer of each candidate should know.
    assert list(selectors.audit_note_list_for_registration(registration=world.candidate)) == [about_invigilator]
    assert list(selectors.audit_note_list_for_registration(registration=world.other_candidate)) == [about_room]
    assert list(selectors.audit_note_list_for_room(room=world.room_a)) == [about_invigilator]
    page = client.get(f"/supervision/exam/{world.exam.pk}/invigilator/{world.invigilator.pk}/").content.decode()
    assert "alert on seat 1 ignored 4 min" in page


def test_it_refuses_notes_without_text_or_outside_the_exam(world):
    with pytest.raises(services.SupervisionError):
        services.audit_note_add(author=world.supervisor, exam=world.exam, room=world.room_a, text=" ")
    with pytest.raises(services.SupervisionError):
        services.audit_note_add(author=world.supervisor, exam=world.exam, subject_user=world.outsider, text="x")
    with pytest.raises(services.SupervisionError):
        services.audit_note_add(author=world.invigilator, exam=world.exam, room=world.room_a, text="x")
    assert not AuditNote.objects.exists()


def test_notes_and_staff_messages_go_on_the_review_timeline(world):
    from invigilate.review.timeline import timeline_for_registration

    services.audit_note_add(author=world.supervisor, exam=world.exam, subject_user=world.invigilator,
                            severity="serious", text="alert on seat 1 ignored 4 min")
    services.staff_message_post(author=world.invigilator, exam=world.exam, room=world.room_a,
                                registration=world.candidate, text="Seat 1 keeps looking left")
    entries = {entry.kind: entry for entry in timeline_for_registration(registration=world.candidate)
               if entry.source == "supervision"}
    assert entries["audit_note"].severity == "high" and "ignored 4 min" in entries["audit_note"].detail
    assert entries["staff_message"].detail == "Seat 1 keeps looking left"
    other = timeline_for_registration(registration=world.other_candidate, kinds=["audit_note", "staff_message"])
    assert other == []
