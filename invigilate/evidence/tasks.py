from celery import shared_task


@shared_task(name="evidence.uploads_expire")
def uploads_expire() -> int:
    from .services import uploads_expire as expire

    return expire()


@shared_task(name="evidence.phone_silence_sweep")
def phone_silence_sweep() -> int:
    """Alert on phones that stopped sending while their exam runs (once per silence)."""
    from .services import phone_silence_sweep as sweep

    return sweep()


@shared_task(name="evidence.late_sweep")
def evidence_late_sweep() -> int:
    """Refresh the tiles of candidates whose late recording parts changed (by the clock)."""
    from .services import evidence_late_sweep as sweep

    return sweep()
