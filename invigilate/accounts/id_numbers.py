"""Mainland resident ID numbers (GB 11643-1999): validation, keyed hashing, masking.

The raw number is personal data and is never stored: a keyed hash finds a candidate at login,
and a masked form (``6201**********123X``) is what staff see.
"""

import hmac
import re
from datetime import date
from hashlib import sha256

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def id_number_normalise(raw: str) -> str:
    return (raw or "").strip().replace(" ", "").upper()


def id_number_check_character(first_seventeen: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first_seventeen, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def id_number_validate(raw: str) -> str:
    """Return the normalised number, or raise ValidationError saying what is wrong."""
    number = id_number_normalise(raw)
    if not _SHAPE.match(number):
        raise ValidationError(_("An ID number has 17 digits followed by a digit or X."))
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("The ID number does not contain a valid date of birth.")) from None
    if id_number_check_character(number[:17]) != number[17]:
        raise ValidationError(_("The ID number's check digit is wrong; please check the number."))
    return number


def id_number_hash(number: str) -> str:
    key = settings.ID_NUMBER_HASH_KEY.encode()
    return hmac.new(key, id_number_normalise(number).encode(), sha256).hexdigest()


def id_number_mask(number: str) -> str:
    number = id_number_normalise(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
