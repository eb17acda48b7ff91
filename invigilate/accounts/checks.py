from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def id_number_hash_key_check(app_configs, **kwargs):
    """The ID-number hash must not hang on SECRET_KEY, or rotating it locks candidates out."""
    if settings.ID_NUMBER_HASH_KEY == settings.SECRET_KEY:
        return [
            Warning(
                "ID_NUMBER_HASH_KEY is not set, so ID numbers are hashed with SECRET_KEY: rotating "
                "SECRET_KEY would make every imported candidate unable to sign in.",
                hint="Set ID_NUMBER_HASH_KEY to its own long random value and never change it.",
                id="invigilate.W001",
            )
        ]
    return []
