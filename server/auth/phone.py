"""Phone numbers: any common format in, E.164 out, and the US-only launch gate."""

from __future__ import annotations

import phonenumbers

from server.errors import ApiError


def normalize_phone(raw: str) -> phonenumbers.PhoneNumber:
    """Parse a number typed any common way (US numbers may omit +1)."""
    try:
        number = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ApiError(422, "invalid_phone", "That is not a valid phone number")
    return number


def to_e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def us_phone(raw: str) -> str:
    """E.164 of a valid US number; other countries are sent to the waitlist."""
    number = normalize_phone(raw)
    # Region, not country code 1: +1 also covers Canada and the Caribbean.
    if phonenumbers.region_code_for_number(number) != "US":
        raise ApiError(
            403, "waitlist_required", "Momento is US-only for now: join the waitlist instead"
        )
    return to_e164(number)
