import pytest
from django.core.exceptions import ValidationError

from invigilate.accounts.id_numbers import id_number_hash, id_number_mask, id_number_validate

# A number whose check character is X: weights give a remainder of 2.
VALID_X = "11010519491231002X"
VALID = "620121199102020015"


def test_it_accepts_valid_numbers_and_normalises_x():
    assert id_number_validate(VALID) == VALID
    assert id_number_validate(VALID_X.lower()) == VALID_X
    assert id_number_validate(" 6201 2119 9102 0200 15 ") == VALID


@pytest.mark.parametrize(
    "bad,why",
    [("620121199102020016", "check digit"), ("62012119910202001", "17 digits"),
     ("620121199113020015", "date of birth"), ("62012119910202001A", "17 digits")],
)
def test_it_rejects_bad_numbers_with_the_reason(bad, why):
    with pytest.raises(ValidationError) as error:
        id_number_validate(bad)
    assert why in error.value.messages[0]


def test_it_masks_all_but_the_ends():
    assert id_number_mask(VALID_X) == "1101**********002X"


def test_the_hash_is_keyed_and_stable(settings):
    first = id_number_hash(VALID)
    assert first == id_number_hash(VALID.lower())
    assert VALID not in first
    settings.ID_NUMBER_HASH_KEY = "another key"
    assert id_number_hash(VALID) != first
