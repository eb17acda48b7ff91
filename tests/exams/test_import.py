import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from invigilate.audit.models import AuditEvent
from invigilate.exams.importing import candidates_import
from invigilate.exams.models import Candidate, Registration
from tests.exams.importfiles import build, good_rows, photo_bytes


def test_it_imports_a_good_file(world):
    csv_bytes, photos = build(good_rows(5, start=10))
    report = candidates_import(exam=world.exam, csv_bytes=csv_bytes, photos_zip=photos)
    assert report.ok and report.created == 5
    registration = Registration.objects.get(ticket_number="T00010")
    assert registration.room == world.room_a and registration.seat == 10
    assert registration.candidate.id_number_masked.startswith("6201") and "*" in registration.candidate.id_number_masked
    assert registration.candidate.photo.name.startswith("photos/") and "p10" not in registration.candidate.photo.name
    assert AuditEvent.objects.filter(event_type="candidates.imported").count() == 1


def test_importing_the_same_file_again_changes_nothing(world):
    csv_bytes, photos = build(good_rows(5, start=10))
    candidates_import(exam=world.exam, csv_bytes=csv_bytes, photos_zip=photos)
    before = list(Registration.objects.values_list("pk", "ticket_number", "room_id", "seat", "candidate_id"))
    report = candidates_import(exam=world.exam, csv_bytes=csv_bytes, photos_zip=photos)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 5)
    assert list(Registration.objects.values_list("pk", "ticket_number", "room_id", "seat", "candidate_id")) == before


def test_two_candidates_can_swap_seats(world):
    rows = good_rows(2, start=10)
    candidates_import(exam=world.exam, csv_bytes=build(rows)[0], photos_zip=build(rows)[1])
    rows[0]["seat"], rows[1]["seat"] = rows[1]["seat"], rows[0]["seat"]
    report = candidates_import(exam=world.exam, csv_bytes=build(rows)[0], photos_zip=build(rows)[1])
    assert report.ok and report.updated == 2
    assert Registration.objects.get(ticket_number="T00010").seat == 11


def _bad(rows_change) -> list[dict]:
    rows = good_rows(3, start=10)
    rows_change(rows)
    return rows


@pytest.mark.parametrize(
    "change,line,message",
    [
        (lambda rows: rows[1].update(id_number=rows[1]["id_number"][:-1] + ("0" if rows[1]["id_number"][-1] != "0" else "1")), 3, "check digit"),
        (lambda rows: rows[2].update(ticket_number=rows[0]["ticket_number"]), 4, "repeats line 2"),
        (lambda rows: rows[0].update(photo="missing.jpg"), 2, "not in the zip"),
        (lambda rows: rows[1].update(room="Room Z"), 3, "not a room of this exam"),
        (lambda rows: rows[2].update(phone="12345"), 4, "not a mainland"),
        (lambda rows: rows[2].update(seat="abc"), 4, "seat must be"),
        (lambda rows: rows[2].update(seat=rows[0]["seat"]), 4, "repeats line 2"),
        (lambda rows: rows[2].update(id_number=rows[0]["id_number"]), 4, "ID number repeats"),
        (lambda rows: rows[0].update(full_name=""), 2, "name is missing"),
    ],
    ids=["check-digit", "duplicate-ticket", "missing-photo", "unknown-room", "bad-phone", "bad-seat",
         "duplicate-seat", "duplicate-person", "no-name"],
)
def test_each_kind_of_bad_row_is_reported_by_line_and_nothing_is_written(world, change, line, message):
    rows = _bad(change)
    csv_bytes, photos = build(rows, photos={row["photo"]: photo_bytes(1) for row in rows if row["photo"] != "missing.jpg"})
    before = Registration.objects.count()
    report = candidates_import(exam=world.exam, csv_bytes=csv_bytes, photos_zip=photos)
    assert not report.ok
    assert any(error.row == line and message in error.message for error in report.errors), report.errors
    assert Registration.objects.count() == before
    assert not AuditEvent.objects.filter(event_type="candidates.imported").exists()


def test_a_photo_that_is_not_an_image_is_refused(world):
    rows = good_rows(1, start=10)
    csv_bytes, photos = build(rows, photos={"p10.jpg": b"MZ\x90\x00 not a picture"})
    report = candidates_import(exam=world.exam, csv_bytes=csv_bytes, photos_zip=photos)
    assert "not a readable image" in report.errors[0].message


def test_a_ticket_of_another_person_in_the_database_is_refused(world):
    rows = good_rows(1, start=10)
    rows[0]["ticket_number"] = world.candidate.ticket_number
    rows[0]["seat"] = "5"
    csv_bytes, photos = build(rows)
    report = candidates_import(exam=world.exam, csv_bytes=csv_bytes, photos_zip=photos)
    assert "already belongs to another person" in report.errors[0].message


def test_missing_columns_are_reported(world):
    report = candidates_import(exam=world.exam, csv_bytes=b"ticket_number,full_name\nT1,x\n", photos_zip=build([])[1])
    assert "lacks the columns" in report.errors[0].message


def test_the_command_imports_and_reports_errors(world, tmp_path, capsys):
    csv_bytes, photos = build(good_rows(3, start=10))
    (tmp_path / "c.csv").write_bytes(csv_bytes)
    (tmp_path / "p.zip").write_bytes(photos)
    call_command("import_candidates", world.exam.pk, tmp_path / "c.csv", tmp_path / "p.zip")
    assert "3 created" in capsys.readouterr().out
    (tmp_path / "bad.csv").write_bytes(build(_bad(lambda rows: rows[1].update(room="Nowhere")))[0])
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_candidates", world.exam.pk, tmp_path / "bad.csv", tmp_path / "p.zip")
    assert "line 3" in capsys.readouterr().err


def test_the_admin_upload_imports(world, client):
    client.force_login(world.admin)
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    csv_bytes, photos = build(good_rows(2, start=10))
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("admin:exams_exam_import", args=[world.exam.pk]),
        {"csv_file": SimpleUploadedFile("c.csv", csv_bytes), "photos": SimpleUploadedFile("p.zip", photos)},
    )
    assert response.status_code == 302
    assert Candidate.objects.filter(full_name="考生10").exists()


def test_a_truncated_photo_is_refused(world):
    rows = good_rows(1, start=10)
    whole = photo_bytes(10)
    csv_bytes, photos = build(rows, photos={"p10.jpg": whole[: len(whole) // 2]})
    report = candidates_import(exam=world.exam, csv_bytes=csv_bytes, photos_zip=photos)
    assert [(error.row, "not a readable image" in error.message) for error in report.errors] == [(2, True)]


def test_a_person_already_registered_under_another_ticket_is_refused(world):
    rows = good_rows(1, start=10)
    rows[0]["id_number"] = world.candidate_id_number
    csv_bytes, photos = build(rows)
    report = candidates_import(exam=world.exam, csv_bytes=csv_bytes, photos_zip=photos)
    assert f"already registered for this exam with ticket {world.candidate.ticket_number}" in report.errors[0].message
    assert not Registration.objects.filter(ticket_number="T00010").exists()
