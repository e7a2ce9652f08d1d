"""Vectors: the interest catalog's, events', and users' positive/negative ones."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg
import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]


async def interests_to_embed(
    conn: asyncpg.Connection, model_id: str, limit: int
) -> list[asyncpg.Record]:
    """Catalog interests with no vector from this model yet: (id, name)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT id, name FROM interests
        WHERE embedding_model IS DISTINCT FROM $1
        ORDER BY id LIMIT $2
        """,
        model_id,
        limit,
    )
    return rows


async def set_interest_vectors(
    conn: asyncpg.Connection, ids: Sequence[int], vectors: Sequence[Vector], model_id: str
) -> None:
    await conn.executemany(
        "UPDATE interests SET vector = $2, embedding_model = $3 WHERE id = $1",
        [(i, v, model_id) for i, v in zip(ids, vectors, strict=True)],
    )


async def events_to_embed(
    conn: asyncpg.Connection, model_id: str, limit: int
) -> list[asyncpg.Record]:
    """Drafts and published events whose vector is missing or from another model."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT id, title, description FROM events
        WHERE status IN ('draft', 'published') AND embedding_model IS DISTINCT FROM $1
        ORDER BY created_at LIMIT $2
        """,
        model_id,
        limit,
    )
    return rows


async def set_event_vector(
    conn: asyncpg.Connection,
    event_id: uuid.UUID,
    vector: Vector,
    model_id: str,
    title: str,
    description: str | None,
) -> bool:
    """Store the event's vector unless its text changed since it was read."""
    status: str = await conn.execute(
        """
        UPDATE events SET event_vector = $2, embedding_model = $3
        WHERE id = $1 AND title = $4 AND description IS NOT DISTINCT FROM $5
        """,
        event_id,
        vector,
        model_id,
        title,
        description,
    )
    return status == "UPDATE 1"


async def own_interest_vectors(
    conn: asyncpg.Connection, user_id: uuid.UUID, model_id: str
) -> tuple[list[Vector], int]:
    """The user's interests' vectors from this model, and how many of their
    interests have none yet."""
    rows = await conn.fetch(
        """
        SELECT CASE WHEN i.embedding_model = $2 THEN i.vector END AS vector
        FROM social_profiles sp
        JOIN profile_interests pi ON pi.profile_id = sp.id
        JOIN interests i ON i.id = pi.interest_id
        WHERE sp.user_id = $1
        """,
        user_id,
        model_id,
    )
    vectors = [r["vector"].to_numpy() for r in rows if r["vector"] is not None]
    return vectors, len(rows) - len(vectors)


async def liked_interest_vectors(
    conn: asyncpg.Connection, user_id: uuid.UUID, model_id: str
) -> list[Vector]:
    """Vectors of the interests of the active profiles the user liked."""
    rows = await conn.fetch(
        """
        SELECT i.vector
        FROM social_profiles me
        JOIN social_profiles liked ON liked.id = ANY(me.liked_profiles)
        JOIN users lu ON lu.id = liked.user_id AND lu.status = 'active'
        JOIN profile_interests pi ON pi.profile_id = liked.id
        JOIN interests i ON i.id = pi.interest_id AND i.embedding_model = $2
        WHERE me.user_id = $1
        """,
        user_id,
        model_id,
    )
    return [r["vector"].to_numpy() for r in rows]


async def declined_event_vectors(
    conn: asyncpg.Connection, user_id: uuid.UUID, model_id: str, limit: int
) -> tuple[list[Vector], int]:
    """Vectors of the events the user most recently declined as `not_interested`,
    and how many of those have no vector from this model yet."""
    rows = await conn.fetch(
        """
        SELECT CASE WHEN e.embedding_model = $2 THEN e.event_vector END AS vector
        FROM social_profiles sp
        JOIN invitations inv ON inv.profile_id = sp.id
        JOIN events e ON e.id = inv.event_id
        WHERE sp.user_id = $1 AND inv.status = 'declined'
          AND inv.decline_reason = 'not_interested'
        ORDER BY inv.updated_at DESC
        LIMIT $3
        """,
        user_id,
        model_id,
        limit,
    )
    vectors = [r["vector"].to_numpy() for r in rows if r["vector"] is not None]
    return vectors, len(rows) - len(vectors)


async def declined_events_to_embed(
    conn: asyncpg.Connection, user_id: uuid.UUID, model_id: str, limit: int
) -> list[asyncpg.Record]:
    """(id, title, description) of the user's recent `not_interested` declines
    whose event has no vector from this model (any event status)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT e.id, e.title, e.description
        FROM social_profiles sp
        JOIN invitations inv ON inv.profile_id = sp.id
        JOIN events e ON e.id = inv.event_id
        WHERE sp.user_id = $1 AND inv.status = 'declined'
          AND inv.decline_reason = 'not_interested'
          AND e.embedding_model IS DISTINCT FROM $2
        ORDER BY inv.updated_at DESC
        LIMIT $3
        """,
        user_id,
        model_id,
        limit,
    )
    return rows


async def put_user_vector(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    vector_type: str,
    vector: Vector | None,
    model_id: str,
) -> None:
    """Store the user's vector of this type, or remove it when there is none; a
    user deleted meanwhile is skipped."""
    if vector is None:
        await conn.execute(
            "DELETE FROM user_interest_vectors WHERE user_id = $1 AND vector_type = $2",
            user_id,
            vector_type,
        )
        return
    await conn.execute(
        """
        INSERT INTO user_interest_vectors (user_id, vector, embedding_model, vector_type)
        SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM users WHERE id = $1)
        ON CONFLICT (user_id, vector_type) DO UPDATE
            SET vector = EXCLUDED.vector, embedding_model = EXCLUDED.embedding_model,
                updated_at = now()
        """,
        user_id,
        vector,
        model_id,
        vector_type,
    )
