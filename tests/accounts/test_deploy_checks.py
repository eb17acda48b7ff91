from django.core.checks import run_checks


def _ids() -> set[str]:
    return {message.id for message in run_checks(include_deployment_checks=True)}


def test_it_warns_when_id_numbers_are_hashed_with_the_secret_key(settings):
    settings.ID_NUMBER_HASH_KEY = settings.SECRET_KEY
    assert "invigilate.W001" in _ids()
    settings.ID_NUMBER_HASH_KEY = "a-separate-key-" + "k" * 40
    assert "invigilate.W001" not in _ids()
