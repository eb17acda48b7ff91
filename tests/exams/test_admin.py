import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from invigilate.audit.models import AuditEvent
from invigilate.audit.services import audit_chain_verify
from invigilate.exams.models import ExamStaff, Registration, RoomInvigilator
from tests.exams.importfiles import build, good_rows


@pytest.fixture
def staff_client(world, client):
    client.force_login(world.admin)
    return client


def _events(event_type: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("position"))


def test_invigilator_assignments_made_in_the_admin_are_audited(world, staff_client):
    add = staff_client.post(
        reverse("admin:exams_roominvigilator_add"), {"room": world.room_b.pk, "user": world.invigilator.pk}
    )
    assert add.status_code == 302
    [added] = _events("assignment.invigilator_added")[-1:]
    assert (added.actor, added.data["room"], added.data["user"]) == (world.admin, "Room B", world.invigilator.pk)

    assignment = RoomInvigilator.objects.get(room=world.room_a, user=world.invigilator)
    moved = staff_client.post(
        reverse("admin:exams_roominvigilator_change", args=[assignment.pk]),
        {"room": world.room_a.pk, "user": world.other_invigilator.pk},
    )
    assert moved.status_code == 302
    assert [e.data["username"] for e in _events("assignment.invigilator_removed")] == ["invigilator"]
    assert _events("assignment.invigilator_added")[-1].data["username"] == "other-invigilator"

    gone = RoomInvigilator.objects.get(room=world.room_b, user=world.invigilator)
    staff_client.post(reverse("admin:exams_roominvigilator_delete", args=[gone.pk]), {"post": "yes"})
    assert not RoomInvigilator.objects.filter(user=world.invigilator).exists()
    assert _events("assignment.invigilator_removed")[-1].data["room"] == "Room B"
    assert audit_chain_verify() == []


def test_only_invigilators_can_be_put_in_a_room(world, staff_client):
    response = staff_client.post(
        reverse("admin:exams_roominvigilator_add"), {"room": world.room_a.pk, "user": world.supervisor.pk}
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not RoomInvigilator.objects.filter(user=world.supervisor).exists()


def test_staff_assignments_made_in_the_admin_are_audited(world, staff_client):
    world.outsider.role = "technician"
    world.outsider.save()
    response = staff_client.post(
        reverse("admin:exams_examstaff_add"), {"exam": world.exam.pk, "user": world.outsider.pk, "role": "technician"}
    )
    assert response.status_code == 302
    added = _events("assignment.staff_added")[-1]
    assert (added.actor, added.data["user"], added.data["role"]) == (world.admin, world.outsider.pk, "technician")
    refused = staff_client.post(
        reverse("admin:exams_examstaff_add"), {"exam": world.exam.pk, "user": world.outsider.pk, "role": "janitor"}
    )
    assert refused.status_code == 200
    assert ExamStaff.objects.filter(user=world.outsider).count() == 1


def test_moving_a_candidate_in_the_admin_is_audited_and_the_stage_is_not_editable(world, staff_client):
    registration = world.candidate
    response = staff_client.post(
        reverse("admin:exams_registration_change", args=[registration.pk]),
        {"exam": world.exam.pk, "candidate": registration.candidate_id, "ticket_number": registration.ticket_number,
         "room": world.room_b.pk, "seat": 7, "stage": "submitted"},
    )
    assert response.status_code == 302
    registration.refresh_from_db()
    assert (registration.room, registration.seat, registration.stage) == (world.room_b, 7, "not_joined")
    [event] = _events("registration.changed")
    assert event.registration_id == registration.pk and event.actor == world.admin
    assert event.data == {"room": [world.room_a.pk, world.room_b.pk], "seat": [1, 7]}


def test_the_admin_import_page_shows_each_row_error(world, staff_client):
    rows = good_rows(3, start=10)
    rows[1]["room"] = "Nowhere"
    rows[2]["phone"] = "12345"
    csv_bytes, photos = build(rows)
    response = staff_client.post(
        reverse("admin:exams_exam_import", args=[world.exam.pk]),
        {"csv_file": SimpleUploadedFile("c.csv", csv_bytes), "photos": SimpleUploadedFile("p.zip", photos)},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "2 problems; nothing was imported." in page
    assert "<td>3</td><td>room &#x27;Nowhere&#x27; is not a room of this exam</td>" in page
    assert "<td>4</td><td>phone number &#x27;12345&#x27; is not a mainland mobile or landline number</td>" in page
    assert not Registration.objects.filter(ticket_number__in=["T00010", "T00011", "T00012"]).exists()


@pytest.mark.parametrize(
    "url,chinese",
    [
        (lambda w: reverse("admin:index"), ["考试", "考场监考员", "考试工作人员", "审计日志", "语言"]),
        (lambda w: reverse("admin:exams_exam_change", args=[w.exam.pk]), ["导入考生", "开始时间", "考场"]),
        (lambda w: reverse("admin:exams_exam_import", args=[w.exam.pk]), ["向 Formal interview 导入考生", "逐行校验"]),
        (lambda w: reverse("admin:exams_registration_changelist"), ["准考证号", "座位", "阶段"]),
        (lambda w: reverse("admin:exams_roominvigilator_changelist"), ["考场监考员", "监考员"]),
        (lambda w: reverse("admin:exams_examstaff_changelist"), ["考试工作人员", "角色"]),
        (lambda w: reverse("admin:audit_auditevent_changelist"), ["审计事件", "操作者"]),
    ],
    ids=["index", "exam", "import", "registrations", "invigilators", "exam-staff", "audit"],
)
def test_the_admin_pages_speak_chinese(world, staff_client, url, chinese):
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = staff_client.get(url(world)).content.decode()
    assert 'name="language"' in page  # the same switch as every other page
    missing = [text for text in chinese if text not in page]
    assert not missing, missing
