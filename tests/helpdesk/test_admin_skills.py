"""Technician skills edited in the Django admin go through ``technician_skills_set`` (audited)."""

from django.test import Client
from django.urls import reverse

from invigilate.audit.models import AuditEvent
from invigilate.helpdesk.models import TechnicianSkill


def test_skills_added_and_removed_in_the_admin_are_audited_with_who_and_before(world):
    admin = Client()
    admin.force_login(world.admin)
    response = admin.post(reverse("admin:helpdesk_technicianskill_add"),
                          {"user": world.technician.pk, "category": "network"})
    assert response.status_code == 302, response.content[:2000]
    admin.post(reverse("admin:helpdesk_technicianskill_add"), {"user": world.technician.pk, "category": "upload"})
    assert sorted(TechnicianSkill.objects.filter(user=world.technician).values_list("category", flat=True)) == [
        "network", "upload"]
    # Only technicians can be given skills.
    refused = admin.post(reverse("admin:helpdesk_technicianskill_add"), {"user": world.invigilator.pk, "category": "network"})
    assert refused.status_code == 200 and not TechnicianSkill.objects.filter(user=world.invigilator).exists()

    skill = TechnicianSkill.objects.get(user=world.technician, category="network")
    admin.post(reverse("admin:helpdesk_technicianskill_delete", args=[skill.pk]), {"post": "yes"})
    assert list(TechnicianSkill.objects.filter(user=world.technician).values_list("category", flat=True)) == ["upload"]

    events = list(AuditEvent.objects.filter(event_type="help.skills_set").order_by("position"))
    assert [(e.actor, e.data["before"], e.data["categories"]) for e in events] == [
        (world.admin, [], ["network"]),
        (world.admin, ["network"], ["network", "upload"]),
        (world.admin, ["network", "upload"], ["upload"]),
    ]
