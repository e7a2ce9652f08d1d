"""Users' positive/negative vectors, the catalog's and events' vectors: computed by
jobs from what the database holds, with the real local model."""

from __future__ import annotations

import uuid

import asyncpg
import numpy as np
from matching.population import event, invite, person

from workers.embeddings import Embeddings


async def _interests(conn: asyncpg.Connection, profile_id: uuid.UUID, *names: str) -> None:
    await conn.execute(
        "INSERT INTO profile_interests (profile_id, interest_id) "
        "SELECT $1, id FROM interests WHERE name = ANY($2)",
        profile_id,
        list(names),
    )


async def _vector(conn: asyncpg.Connection, user_id: uuid.UUID, kind: str) -> np.ndarray | None:
    row = await conn.fetchrow(
        "SELECT vector, embedding_model FROM user_interest_vectors "
        "WHERE user_id = $1 AND vector_type = $2",
        user_id,
        kind,
    )
    return None if row is None else row["vector"].to_numpy()


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


async def test_catalog_is_embedded_once_per_model(
    db_conn: asyncpg.Connection, embeddings: Embeddings
) -> None:
    total = await db_conn.fetchval("SELECT count(*) FROM interests")
    assert await embeddings.embed_catalog() == total
    assert await embeddings.embed_catalog() == 0
    models = await db_conn.fetch("SELECT DISTINCT embedding_model FROM interests")
    assert [m["embedding_model"] for m in models] == [embeddings.model_id]


async def test_positive_vector_follows_interests_and_likes(
    db_conn: asyncpg.Connection, embeddings: Embeddings
) -> None:
    hiker = await person(db_conn)
    await _interests(db_conn, hiker.profile_id, "Hiking", "Camping")
    await embeddings.refresh_user_vectors(hiker.user_id)
    positive = await _vector(db_conn, hiker.user_id, embeddings.positive_type)
    assert positive is not None
    assert abs(float(np.linalg.norm(positive)) - 1) < 1e-3
    hiking, opera = await embeddings.embedder.embed(["Hiking", "Opera"])
    assert _cos(positive, hiking) > _cos(positive, opera) + 0.2

    # Liking an opera lover pulls the vector toward opera.
    diva = await person(db_conn)
    await _interests(db_conn, diva.profile_id, "Opera", "Classical Music")
    await db_conn.execute(
        "UPDATE social_profiles SET liked_profiles = ARRAY[$2::uuid] WHERE id = $1",
        hiker.profile_id,
        diva.profile_id,
    )
    await embeddings.refresh_user_vectors(hiker.user_id)
    after = await _vector(db_conn, hiker.user_id, embeddings.positive_type)
    assert after is not None
    assert _cos(after, opera) > _cos(positive, opera)

    # No interests and no likes: no vector (nothing to rank on), not a stale one.
    await db_conn.execute("DELETE FROM profile_interests WHERE profile_id = $1", hiker.profile_id)
    await db_conn.execute(
        "UPDATE social_profiles SET liked_profiles = '{}' WHERE id = $1", hiker.profile_id
    )
    await embeddings.refresh_user_vectors(hiker.user_id)
    assert await _vector(db_conn, hiker.user_id, embeddings.positive_type) is None


async def test_negative_vector_comes_from_not_interested_declines_only(
    db_conn: asyncpg.Connection, embeddings: Embeddings
) -> None:
    someone = await person(db_conn)
    karaoke = await event(db_conn, title="Karaoke night", description="Sing your heart out")
    busy_night = await event(db_conn, title="Pottery class", description="Wheel throwing")
    await invite(db_conn, busy_night, someone, "declined", decline_reason="busy")
    await embeddings.refresh_user_vectors(someone.user_id)
    assert await _vector(db_conn, someone.user_id, embeddings.negative_type) is None

    await invite(db_conn, karaoke, someone, "declined", decline_reason="not_interested")
    await embeddings.refresh_user_vectors(someone.user_id)
    negative = await _vector(db_conn, someone.user_id, embeddings.negative_type)
    assert negative is not None
    singing, pottery = await embeddings.embedder.embed(["Singing karaoke", "Pottery"])
    assert _cos(negative, singing) > _cos(negative, pottery)
    # The declined event got its vector on the way.
    assert (
        await db_conn.fetchval("SELECT embedding_model FROM events WHERE id = $1", karaoke.id)
        == embeddings.model_id
    )


async def test_an_event_vector_is_not_stored_over_newer_text(
    db_conn: asyncpg.Connection, embeddings: Embeddings
) -> None:
    ev = await event(db_conn, status="draft", title="Old title", description="Same text")
    await db_conn.execute("UPDATE events SET title = 'New title' WHERE id = $1", ev.id)
    # A job that read the old text finishes after the edit: its vector is dropped.
    await embeddings.event_vector(db_conn, ev.id, "Old title", "Same text")
    assert await db_conn.fetchval("SELECT event_vector FROM events WHERE id = $1", ev.id) is None
    assert await embeddings.embed_events() == 1
    assert (
        await db_conn.fetchval("SELECT embedding_model FROM events WHERE id = $1", ev.id)
        == embeddings.model_id
    )


async def test_a_deleted_user_is_skipped(
    db_conn: asyncpg.Connection, embeddings: Embeddings
) -> None:
    gone = await person(db_conn)
    await _interests(db_conn, gone.profile_id, "Hiking")
    await db_conn.execute("DELETE FROM users WHERE id = $1", gone.user_id)
    await embeddings.refresh_user_vectors(gone.user_id)
    assert await db_conn.fetchval("SELECT count(*) FROM user_interest_vectors") == 0
