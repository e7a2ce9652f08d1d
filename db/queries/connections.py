"""The Memory Book: one `connections` row per person met, owned by the person
who met them, with a snapshot of the other person taken when they first met."""

from __future__ import annotations

import uuid

import asyncpg

# Every ordered pair of people who attended event $1, each with a snapshot of
# the other taken now: first name, the face card's storage key (else the main
# photo's), and whether their profile was Authentic (an in-app photo under 12
# months old). A pair that met before keeps its entry untouched; a pair with a
# block either way gets none.
_RECORD_MEETINGS = """
WITH people AS (
    SELECT sp.id AS profile_id, sp.user_id, sp.first_name,
           coalesce(fp.image_url, cp.image_url) AS photo_key,
           EXISTS (SELECT 1 FROM profile_photos p
                   WHERE p.profile_id = sp.id AND p.is_in_app_photo
                     AND p.created_at > now() - interval '12 months') AS is_authentic
    FROM attendance a
    JOIN social_profiles sp ON sp.id = a.profile_id
    LEFT JOIN profile_photos fp ON fp.id = sp.current_face_card_photo_id
    LEFT JOIN profile_photos cp ON cp.id = sp.current_photo_id
    WHERE a.event_id = $1 AND a.status = 'attended'
)
INSERT INTO connections (user_profile_id, connected_profile_id, event_id,
                         connected_profile_snapshot_name,
                         connected_profile_snapshot_face_card_url, was_photo_authentic)
SELECT me.profile_id, other.profile_id, $1, other.first_name, other.photo_key,
       other.is_authentic
FROM people me
JOIN people other ON other.profile_id <> me.profile_id
WHERE NOT EXISTS (SELECT 1 FROM blocked_users b
                  WHERE (b.blocker_user_id = me.user_id AND b.blocked_user_id = other.user_id)
                     OR (b.blocker_user_id = other.user_id AND b.blocked_user_id = me.user_id))
ON CONFLICT (user_profile_id, connected_profile_id) DO NOTHING
"""


async def record_meetings(conn: asyncpg.Connection, event_id: uuid.UUID) -> int:
    """Memory Book entries for the event's attendees (see _RECORD_MEETINGS); safe to
    repeat. Returns how many entries are new."""
    status: str = await conn.execute(_RECORD_MEETINGS, event_id)
    return int(status.rsplit(" ", 1)[1])
