"""Periodic sweeps of live alerts (Celery beat in production, the embedded scheduler otherwise)."""

from celery import shared_task

from . import services


@shared_task(name="proctoring.alerts_escalate_overdue")
def alerts_escalate_overdue() -> int:
    return services.alerts_escalate_overdue()


@shared_task(name="proctoring.registrations_mark_disconnected")
def registrations_mark_disconnected() -> int:
    return services.registrations_mark_disconnected()
