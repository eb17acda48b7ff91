"""Rows the admin shows and never lets anyone add, change or delete (``ReadOnlyModelAdmin``)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["audit_auditevent", "review_decision", "media_mediaworker"])
def test_a_superuser_reads_them_and_cannot_add_or_change(world, client, model):
    client.force_login(world.admin)
    assert client.get(reverse(f"admin:{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:{model}_add")).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse(f"admin:{model}_changelist") in index and reverse(f"admin:{model}_add") not in index
