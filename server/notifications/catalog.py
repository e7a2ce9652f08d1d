"""Every kind of notification: its category, copy and how it is delivered.

Copy is written when the notification is made (the inbox shows what was
pushed). A kind that collapses keeps one unread inbox row per `collapse` key
(one per event for board posts, one per conversation for messages): the next
one updates that row, its `summary` (with `{count}`) becomes the body, and it
is pushed again only if `repush` says so. A kind with `dedupe` is written once
per key, however often the job that makes it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args

import msgspec

from server.notifications.settings import Category

Kind = Literal[
    "invitation_received",
    "invitation_expiring",
    "payment_succeeded",
    "payment_failed",
    "payment_refunded",
    "event_updated",
    "event_reminder",
    "event_cancelled",
    "event_post",
    "direct_message",
    "kudos_received",
    "rating_prompt",
]
KINDS: tuple[Kind, ...] = get_args(Kind)

Data = Mapping[str, Any]
# Longest excerpt of a post or message put in a notification.
PREVIEW_CHARS = 120


def preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


class KindSpec(msgspec.Struct, frozen=True):
    category: Category
    title: Callable[[Data], str]
    body: Callable[[Data], str]
    # Sent by SMS when the user has no active push token (and allows SMS).
    sms_fallback: bool = False
    collapse: Callable[[Data], str] | None = None
    summary: Callable[[Data], str] | None = None
    repush: bool = False
    dedupe: Callable[[Data], str] | None = None


def _invited_body(d: Data) -> str:
    reason = d.get("match_reason")
    return f"{reason} Accept before the spots go." if reason else "Accept before the spots go."


def _cancelled_body(d: Data) -> str:
    refund = " Your confirmation fee will be refunded." if d.get("refund") else ""
    return f"{d['event_title']} was cancelled.{refund}"


CATALOG: Mapping[Kind, KindSpec] = {
    "invitation_received": KindSpec(
        category="invitations",
        title=lambda d: f"You're invited: {d['event_title']}",
        body=_invited_body,
        sms_fallback=True,
    ),
    "invitation_expiring": KindSpec(
        category="invitations",
        title=lambda d: f"Your invitation to {d['event_title']} expires soon",
        body=lambda d: "Accept now to keep your spot.",
        dedupe=lambda d: f"invitation_expiring:{d['invitation_id']}",
    ),
    "payment_succeeded": KindSpec(
        category="payments",
        title=lambda d: "You're confirmed",
        body=lambda d: f"Payment received: see you at {d['event_title']}.",
    ),
    "payment_failed": KindSpec(
        category="payments",
        title=lambda d: "Payment didn't go through",
        body=lambda d: f"Your spot at {d['event_title']} is no longer held.",
    ),
    "payment_refunded": KindSpec(
        category="payments",
        title=lambda d: "Payment refunded",
        body=lambda d: f"Your payment for {d['event_title']} will be refunded.",
    ),
    "event_updated": KindSpec(
        category="event_updates",
        title=lambda d: f"{d['event_title']} was updated",
        body=lambda d: "Open the event to see what changed.",
        collapse=lambda d: f"event_updated:{d['event_id']}",
        summary=lambda d: "Open the event to see what changed.",
    ),
    "event_reminder": KindSpec(
        category="event_reminders",
        title=lambda d: d["event_title"],
        body=lambda d: f"Starts {d['starts_at_local']}. See you there!",
        # One per stage: a day before, two hours before.
        dedupe=lambda d: f"event_reminder:{d['event_id']}:{d['stage']}",
    ),
    "event_cancelled": KindSpec(
        category="event_updates",
        title=lambda d: "Event cancelled",
        body=_cancelled_body,
        sms_fallback=True,
        dedupe=lambda d: f"event_cancelled:{d['event_id']}",
    ),
    "event_post": KindSpec(
        category="event_posts",
        title=lambda d: d["event_title"],
        body=lambda d: f"{d['author_name']}: {d['preview']}",
        collapse=lambda d: f"event_post:{d['event_id']}",
        summary=lambda d: f"{{count}} new posts. {d['author_name']}: {d['preview']}",
    ),
    "direct_message": KindSpec(
        category="direct_messages",
        title=lambda d: d["sender_name"],
        body=lambda d: d["preview"],
        collapse=lambda d: f"direct_message:{d['conversation_id']}",
        summary=lambda d: f"{{count}} new messages. {d['preview']}",
        repush=True,
    ),
    "kudos_received": KindSpec(
        category="kudos",
        title=lambda d: "You got kudos",
        # Never who gave it: kudos are anonymous (docs/API_NOTES.md).
        body=lambda d: f"Someone you met at {d['event_title']} gave you kudos: {d['kudo_label']}.",
    ),
    "rating_prompt": KindSpec(
        category="ratings",
        title=lambda d: f"How was {d['event_title']}?",
        body=lambda d: "Rate the event and give kudos to the people you met.",
        dedupe=lambda d: f"rating_prompt:{d['event_id']}",
    ),
}
