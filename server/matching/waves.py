"""How many people a wave invites, and how long each invitation stays open."""

from __future__ import annotations

import datetime as dt
import math

# How many past answers weigh as much as the prior rate.
PRIOR_WEIGHT = 20
# Never assume fewer than this share accepts, or one wave could invite hundreds.
MIN_RATE = 0.05


def acceptance_rate(accepted: int, resolved: int, prior: float) -> float:
    """The observed share of invitations accepted, pulled toward `prior` while
    there are few answers (a beta prior worth PRIOR_WEIGHT answers)."""
    rate = (accepted + prior * PRIOR_WEIGHT) / (resolved + PRIOR_WEIGHT)
    return min(1.0, max(MIN_RATE, rate))


def wave_size(
    *, max_attendees: int, taken: int, open_invitations: int, rate: float, max_wave: int
) -> int:
    """Invitations to send so that, at `rate`, the open ones plus these are
    expected to fill the remaining places; 0 when full or already covered."""
    remaining = max_attendees - taken
    shortfall = remaining - open_invitations * rate
    if remaining <= 0 or shortfall <= 1e-9:
        return 0
    return min(max_wave, math.ceil(shortfall / rate - 1e-9))


def invitation_expiry(
    *, now: dt.datetime, ttl: dt.timedelta, starts_at: dt.datetime, lead_time_days: int
) -> dt.datetime:
    """An invitation closes after `ttl`, and always before the invitee's own lead
    time before the start runs out (they asked for that much notice)."""
    return min(now + ttl, starts_at - dt.timedelta(days=lead_time_days))
