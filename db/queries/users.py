"""Users: sign-up by phone, the caller's own account, deletion."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from db.queries.profiles import OWN_PROFILE_COLUMNS

# The caller's own users row as the API shows it (never payment_customer_id).
OWN_USER_COLUMNS = """
    u.id, u.phone_number, u.email, u.last_name, u.birth_date, u.is_verified, u.status,
    u.active_role, u.user_number, u.min_lead_time_days, u.availability_preferences,
    u.distance_preference, u.price_sensitivity, u.home_latitude, u.home_longitude,
    u.created_at, u.updated_at
"""

# Columns PATCH /v1/me may change; anything else never reaches the SQL.
EDITABLE_COLUMNS = frozenset(
    {
        "email",
        "last_name",
        "birth_date",
        "active_role",
        "min_lead_time_days",
        "availability_preferences",
        "distance_preference",
        "price_sensitivity",
        "home_latitude",
        "home_longitude",
    }
)


async def get_or_create_by_phone(conn: asyncpg.Connection, phone: str) -> tuple[uuid.UUID, bool]:
    """The user with this phone number, created if new; (id, created)."""
    created_id = await conn.fetchval(
        "INSERT INTO users (phone_number) VALUES ($1) ON CONFLICT (phone_number) DO NOTHING "
        "RETURNING id",
        phone,
    )
    if created_id is not None:
        return created_id, True
    existing_id: uuid.UUID = await conn.fetchval(
        "SELECT id FROM users WHERE phone_number = $1", phone
    )
    return existing_id, False


async def user_id_by_phone(conn: asyncpg.Connection, phone: str) -> uuid.UUID | None:
    user_id: uuid.UUID | None = await conn.fetchval(
        "SELECT id FROM users WHERE phone_number = $1", phone
    )
    return user_id


async def get_account(conn: asyncpg.Connection, user_id: uuid.UUID) -> asyncpg.Record | None:
    """The caller's user row with their social and host profiles (jsonb or NULL)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        SELECT {OWN_USER_COLUMNS},
               (SELECT to_jsonb(own)
                FROM (SELECT {OWN_PROFILE_COLUMNS}
                      FROM social_profiles sp WHERE sp.user_id = u.id) own) AS social_profile,
               to_jsonb(hp) AS host_profile
        FROM users u
        LEFT JOIN host_profiles hp ON hp.user_id = u.id
        WHERE u.id = $1
        """,
        user_id,
    )
    return row


async def update_user(
    conn: asyncpg.Connection, user_id: uuid.UUID, changes: dict[str, Any]
) -> None:
    unknown = set(changes) - EDITABLE_COLUMNS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if not changes:
        return
    columns = list(changes)
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(columns, start=2))
    await conn.execute(
        f"UPDATE users SET {assignments}, updated_at = now() WHERE id = $1",
        user_id,
        *(changes[c] for c in columns),
    )


async def delete_user(conn: asyncpg.Connection, user_id: uuid.UUID) -> bool:
    """Erase the person: their rows cascade; payments, reports and tickets stay, anonymised."""
    phone = await conn.fetchval("SELECT phone_number FROM users WHERE id = $1 FOR UPDATE", user_id)
    if phone is None:
        return False
    await conn.execute(
        "UPDATE support_tickets SET reply_to_email = NULL, metadata = '{}'::jsonb "
        "WHERE submitter_user_id = $1",
        user_id,
    )
    await conn.execute("DELETE FROM otp_codes WHERE phone_number = $1", phone)
    await conn.execute("DELETE FROM users WHERE id = $1", user_id)
    return True
