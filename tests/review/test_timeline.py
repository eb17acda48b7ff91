from django.utils import timezone

from invigilate.review.timeline import TimelineEntry, timeline_for_registration, timeline_kinds, timeline_provider


def test_it_gathers_every_app_into_one_ordered_timeline(world, reviewed):
    entries = timeline_for_registration(registration=world.candidate)
    kinds = {entry.kind for entry in entries}
    assert {"alert", "detector", "note", "flag", "recording", "gap", "system"} <= kinds
    assert [entry.at for entry in entries] == sorted(entry.at for entry in entries)
    alert = next(entry for entry in entries if entry.kind == "alert" and entry.alert_id)
    assert alert.severity == "high" and "More than one face" in str(alert.title)
    detector = next(entry for entry in entries if entry.kind == "detector")
    assert detector.evidence[0].category == "detection" and detector.evidence[0].media == "image"
    recordings = [entry for entry in entries if entry.kind == "recording"]
    assert {entry.source for entry in recordings} == {"media", "evidence"}
    assert all(entry.evidence[0].sha256 for entry in recordings)
    system = {str(entry.title) for entry in entries if entry.kind == "system"}
    assert {"alert.raised", "candidate.flag", "media.segment_recorded"} <= system


def test_it_filters_by_kind(world, reviewed):
    entries = timeline_for_registration(registration=world.candidate, kinds=["note", "flag"])
    assert sorted(entry.kind for entry in entries) == ["flag", "note"]
    assert "Someone walked behind" in entries[0].detail or "Someone walked behind" in entries[1].detail


def test_it_keeps_other_candidates_out(world, reviewed):
    assert not [entry for entry in timeline_for_registration(registration=world.other_candidate)
                if entry.kind in {"alert", "note", "recording"}]


def test_it_takes_entries_from_a_registered_provider(world):
    @timeline_provider(source="tests", kinds={"audit_note": "Audit notes"})
    def audit_notes(*, registration):
        yield TimelineEntry(at=timezone.now(), kind="audit_note", source="tests", title="Alert on seat 7 ignored 4 min",
                            severity="medium", actor="supervisor")

    try:
        entries = timeline_for_registration(registration=world.candidate, kinds=["audit_note"])
        assert [str(entry.title) for entry in entries] == ["Alert on seat 7 ignored 4 min"]
        assert timeline_kinds()["audit_note"] == "Audit notes"
    finally:
        from invigilate.review import timeline

        timeline._providers.pop("tests.audit_notes")
        timeline._kind_labels.pop("audit_note")
