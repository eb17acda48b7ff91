from celery import shared_task


@shared_task(name="evidence.uploads_expire")
def uploads_expire() -> int:
    from .services import uploads_expire as expire

    return expire()
