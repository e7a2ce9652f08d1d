"""The availability slot an event falls in: local weekday and day or night."""

from __future__ import annotations

import datetime as dt

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Local start hours counted as "day"; the rest (17:00-04:59) is "night".
DAY_HOURS = range(5, 17)


def availability_slot(local_start: dt.datetime) -> tuple[str, str]:
    """(`mon`..`sun`, `day`|`night`) as used by users.availability_preferences,
    e.g. {"sat": {"night": "red"}}."""
    slot = "day" if local_start.hour in DAY_HOURS else "night"
    return WEEKDAY_KEYS[local_start.weekday()], slot
