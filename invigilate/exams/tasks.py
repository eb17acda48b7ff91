from celery import shared_task

from .services import submission_force_due


@shared_task(name="exams.force_submission_sweep", acks_late=True)
def force_submission_sweep() -> int:
    """Force-submit everyone still in an ended exam. Idempotent: safe to run twice or after a crash."""
    return submission_force_due()
