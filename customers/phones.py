"""Phone numbers in E.164 ("+66812345678"), the one form Rapport stores, exports and imports.

A number with its country code ("+60 12-345 6789") is taken as is; one without ("081 234 5678") is read
as a number of the customer's country. Every write path normalises through `normalise_phone` (the
customer services, the form, the API through the services, the CSV import). A leading apostrophe, which
CSV exports add so spreadsheets do not run "+66..." as a formula, is not part of the number.
"""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

INVALID_PHONE = _(
    "“%(value)s” is not a valid phone number. Give it with its country code, e.g. +66 81 234 5678, "
    "or set the customer's country."
)


def normalise_phone(value: str | None, *, country: str = "") -> str:
    """`value` in E.164, "" for blank; ValidationError when it is not a valid number (of `country` when
    it has no country code)."""
    text = (value or "").strip().lstrip("'").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, (country or "").upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(INVALID_PHONE, code="invalid_phone", params={"value": text[:40]}) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(INVALID_PHONE, code="invalid_phone", params={"value": text[:40]})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
