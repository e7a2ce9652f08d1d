"""The human-readable `match_reason` an invitation carries.

The host sees invitations' reasons too, so a reason only ever uses what both
may see: public interests and the event itself (never distance or home).
"""

from __future__ import annotations


def _and(names: list[str]) -> str:
    lowered = [n.lower() for n in names]
    if len(lowered) == 1:
        return lowered[0]
    return ", ".join(lowered[:-1]) + " and " + lowered[-1]


def match_reason(*, host_name: str, shared: list[str], own: list[str]) -> str:
    """ "You and Maya both love hiking and vintage film" when the invitee shares
    interests with the host; else the invitee's interests closest to the event;
    else a plain line."""
    if shared:
        return f"You and {host_name} both love {_and(shared[:2])}"
    if own:
        return f"Picked for your love of {_and(own[:2])}"
    return f"Picked for you from {host_name}'s plan"
