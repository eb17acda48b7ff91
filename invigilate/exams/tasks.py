from celery import shared_task

from .services import submission_completion_sweep, submission_force_due


@shared_task(name="exams.force_submission_sweep", acks_late=True)
def force_submission_sweep() -> int:
    """Force-submit everyone still in an ended exam. Idempotent: safe to run twice or after a crash."""
    return submission_force_due()


@shared_task(name="exams.completion_sweep", acks_late=True)
def completion_sweep() -> int:
    """Complete submissions whose last uploads arrived while no page was asking."""
    return submission_completion_sweep()
