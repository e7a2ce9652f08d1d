"""The waitlist for people outside the launch area."""

from __future__ import annotations

import asyncpg


async def join(conn: asyncpg.Connection, phone: str) -> bool:
    """Add the number; False when it was already there."""
    inserted = await conn.fetchval(
        "INSERT INTO waitlist_users (phone_number) VALUES ($1) "
        "ON CONFLICT (phone_number) DO NOTHING RETURNING id",
        phone,
    )
    return inserted is not None
