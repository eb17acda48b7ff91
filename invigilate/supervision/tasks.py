"""Periodic sweeps of supervision (Celery beat in production, the embedded scheduler otherwise)."""

from celery import shared_task

from . import services


@shared_task(name="supervision.dashboard_connections_sweep")
def dashboard_connections_sweep() -> int:
    return services.dashboard_connections_sweep()
