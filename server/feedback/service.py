"""Rating and kudos rules. Both are for people who attended the event, from
their check-in until RATING_WINDOW_DAYS after the event's end; a rating is
given once, each kudo once per giver, receiver and event. Kudos are anonymous:
neither the receiver's notification nor GET /v1/me/kudos says who gave them.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from db.queries import attendance as attendance_q
from db.queries import feedback as q
from db.queries.attendance import EventFacts
from jobs.contract import enqueue_member_metrics
from server.attendance.service import after_event, require_attended
from server.errors import ApiError
from server.feedback.schemas import (
    MAX_COMMENT_CHARS,
    KudoCount,
    KudoGiven,
    KudoIn,
    MyKudos,
    Rating,
    RatingIn,
)
from server.notifications.notify import notify
from server.profiles.service import require_profile_id
from server.settings import Settings


def _check_window(facts: EventFacts, settings: Settings, now: dt.datetime) -> None:
    closes = (facts.ends_at or now) + dt.timedelta(days=settings.rating_window_days)
    if facts.status not in ("published", "completed") or now > closes:
        raise ApiError(409, "rating_closed", "Ratings and kudos for this event are closed")


def _comment(text: str | None) -> str | None:
    text = (text or "").strip()
    if len(text) > MAX_COMMENT_CHARS:
        raise ApiError(
            422, "invalid_comment", f"A comment has at most {MAX_COMMENT_CHARS} characters"
        )
    return text or None


async def rate(
    conn: asyncpg.Connection,
    settings: Settings,
    user_id: uuid.UUID,
    event_id: uuid.UUID,
    data: RatingIn,
    now: dt.datetime | None = None,
) -> Rating:
    """The caller's one rating of the event and its host; the host's average
    follows in the same transaction."""
    now = now or dt.datetime.now(dt.UTC)
    comment = _comment(data.comment)
    async with conn.transaction():
        facts = await after_event(conn, user_id, event_id)
        profile_id = require_attended(facts)
        _check_window(facts, settings, now)
        await q.lock_host(conn, facts.host_id)
        row = await q.insert_rating(
            conn,
            event_id,
            profile_id,
            facts.host_id,
            data.host_rating_value,
            data.event_rating_value,
            comment,
        )
        if row is None:
            raise ApiError(409, "already_rated", "You have rated this event")
        await q.refresh_host_rating(conn, [facts.host_id])
    return Rating(
        id=row.id,
        event_id=row.event_id,
        rated_host_id=row.rated_host_id,
        host_rating_value=row.host_rating_value,
        event_rating_value=row.event_rating_value,
        comment=row.comment,
        created_at=row.created_at,
    )


async def give_kudo(
    conn: asyncpg.Connection,
    settings: Settings,
    user_id: uuid.UUID,
    event_id: uuid.UUID,
    data: KudoIn,
    now: dt.datetime | None = None,
) -> tuple[KudoGiven, bool]:
    """A kudo from one attendee to another; whether it is new. A new one tells the
    receiver (not by whom) and moves their contribution score."""
    now = now or dt.datetime.now(dt.UTC)
    async with conn.transaction():
        facts = await after_event(conn, user_id, event_id)
        giver = require_attended(facts)
        _check_window(facts, settings, now)
        if data.receiver_profile_id == giver:
            raise ApiError(422, "cannot_kudo_self", "Give kudos to the others you met")
        receiver_user_id = await attendance_q.visible_attendee(
            conn, user_id, event_id, data.receiver_profile_id
        )
        if receiver_user_id is None:
            raise ApiError(404, "not_found", "No such attendee of this event")
        row, is_new = await q.give_kudo(conn, event_id, giver, data.receiver_profile_id, data.kudo)
        if is_new:
            label = data.kudo.replace("_", " ")
            await notify(
                conn,
                receiver_user_id,
                "kudos_received",
                {
                    "event_id": event_id,
                    "event_title": facts.title,
                    "kudo": data.kudo,
                    "kudo_label": label,
                },
            )
            await enqueue_member_metrics(conn, [receiver_user_id])
    given = KudoGiven(
        id=row.id,
        event_id=row.event_id,
        receiver_profile_id=row.receiver_profile_id,
        kudo=data.kudo,
        created_at=row.created_at,
    )
    return given, is_new


async def my_kudos(conn: asyncpg.Connection, user_id: uuid.UUID) -> MyKudos:
    profile_id = await require_profile_id(conn, user_id)
    counts = [
        KudoCount(kudo=c.kudo, count=c.count)  # type: ignore[arg-type]  # stored from the Literal
        for c in await q.kudos_received(conn, profile_id)
    ]
    return MyKudos(total=sum(c.count for c in counts), counts=counts)
