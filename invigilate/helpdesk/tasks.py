"""The help desk's periodic sweeps (Celery beat in production, the embedded scheduler otherwise).
Each is idempotent: a second run right after the first changes nothing."""

from celery import shared_task

from . import services


@shared_task(name="helpdesk.sweep_offers")
def sweep_offers() -> int:
    return services.help_requests_sweep_offers()


@shared_task(name="helpdesk.sweep_unresolved")
def sweep_unresolved() -> int:
    return services.help_requests_sweep_unresolved()


@shared_task(name="helpdesk.sweep_presence")
def sweep_presence() -> int:
    return services.technician_presence_sweep()
