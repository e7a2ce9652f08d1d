"""Everything a person gave us, for GET /v1/me/export.

Each section is one query over rows the caller owns, with $1 the user's id.
Internal scores and vectors are derived by the system and not exported;
other people appear only by their public profile id.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from db.queries.users import OWN_USER_COLUMNS

_MY_PROFILE = "(SELECT id FROM social_profiles WHERE user_id = $1)"

_SECTIONS: dict[str, str] = {
    "social_profile": "SELECT * FROM social_profiles WHERE user_id = $1",
    "host_profile": "SELECT * FROM host_profiles WHERE user_id = $1",
    "profile_photos": f"SELECT * FROM profile_photos WHERE profile_id = {_MY_PROFILE}",
    "host_photos": "SELECT p.* FROM host_photos p JOIN host_profiles h ON h.id = p.host_id "
    "WHERE h.user_id = $1",
    "interests": "SELECT i.id, i.name FROM profile_interests pi JOIN interests i "
    f"ON i.id = pi.interest_id WHERE pi.profile_id = {_MY_PROFILE}",
    "invitations": "SELECT id, event_id, status, decline_reason, match_reason, created_at, "
    f"updated_at FROM invitations WHERE profile_id = {_MY_PROFILE}",
    "attendance": "SELECT event_id, status, source, check_in_latitude, check_in_longitude, "
    "check_in_accuracy_meters, check_in_stop_id, created_at, updated_at "
    f"FROM attendance WHERE profile_id = {_MY_PROFILE}",
    "ratings_given": f"SELECT * FROM ratings WHERE rater_profile_id = {_MY_PROFILE}",
    "kudos_given": "SELECT event_id, receiver_profile_id, kudo, created_at FROM attendee_kudos "
    f"WHERE giver_profile_id = {_MY_PROFILE}",
    "check_in_attempts": "SELECT event_id, attempts, nearest_meters, last_attempt_at "
    f"FROM check_in_attempts WHERE profile_id = {_MY_PROFILE}",
    # Counts only: who gave which kudo is the givers' to keep (API_NOTES).
    "kudos_received": "SELECT kudo, count(*) AS count FROM attendee_kudos "
    f"WHERE receiver_profile_id = {_MY_PROFILE} GROUP BY kudo ORDER BY kudo",
    "event_posts": "SELECT id, event_id, content, created_at FROM event_posts WHERE user_id = $1",
    "messages_sent": "SELECT id, conversation_id, content, created_at FROM messages "
    f"WHERE sender_profile_id = {_MY_PROFILE}",
    "connections": f"SELECT * FROM connections WHERE user_profile_id = {_MY_PROFILE}",
    "social_links": "SELECT * FROM user_social_links WHERE user_id = $1",
    "social_links_shared": "SELECT receiver_profile_id, social_link_id, created_at "
    f"FROM social_connections WHERE sharer_profile_id = {_MY_PROFILE}",
    "social_links_shared_with_me": "SELECT s.sharer_profile_id, l.platform, l.url, s.created_at "
    "FROM social_connections s JOIN user_social_links l ON l.id = s.social_link_id "
    f"WHERE s.receiver_profile_id = {_MY_PROFILE}",
    "event_photos": "SELECT id, event_id, image_url, thumbnail_url, status, created_at "
    "FROM event_photos "
    "WHERE uploader_user_id = $1",
    "payments": "SELECT id, event_id, amount_in_cents, currency, status, created_at "
    "FROM payments WHERE user_id = $1",
    "blocks": "SELECT sp.id AS blocked_profile_id, b.created_at FROM blocked_users b "
    "LEFT JOIN social_profiles sp ON sp.user_id = b.blocked_user_id WHERE b.blocker_user_id = $1",
    "reports_filed": "SELECT id, category, comments, status, event_id, created_at FROM reports "
    "WHERE reporter_user_id = $1",
    "support_tickets": "SELECT id, ticket_number, reply_to_email, category, body, status, "
    "associated_event_id, associated_payment_id, created_at, updated_at FROM support_tickets "
    "WHERE submitter_user_id = $1",
    "push_tokens": "SELECT token, platform, device_id, is_active, created_at "
    "FROM push_notification_tokens WHERE user_id = $1",
    "notification_settings": "SELECT category, push_enabled, sms_enabled, updated_at "
    "FROM user_notification_settings WHERE user_id = $1",
    "sign_in_sessions": "SELECT id, created_at, last_refreshed_at, revoked_at, user_agent "
    "FROM auth_sessions WHERE user_id = $1",
}


async def export_user(conn: asyncpg.Connection, user_id: uuid.UUID) -> dict[str, Any] | None:
    user = await conn.fetchval(
        f"SELECT to_jsonb(x) FROM (SELECT {OWN_USER_COLUMNS} FROM users u WHERE u.id = $1) x",
        user_id,
    )
    if user is None:
        return None
    data: dict[str, Any] = {"user": user}
    for name, query in _SECTIONS.items():
        data[name] = await conn.fetchval(
            f"SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]'::jsonb) FROM ({query}) x",
            user_id,
        )
    for single in ("social_profile", "host_profile"):
        data[single] = data[single][0] if data[single] else None
    return data
