"""Vectors for matching, always computed by jobs, never in a request.

- The interest catalog: each name embedded once per model (a sweep).
- Events: title + description, embedded when a wave needs it or by the sweep;
  editing either clears the stored vector (db/queries/events.py).
- Users: `positive_<v>` is the mean of their interests' vectors plus, at half
  weight, the interests of the profiles they liked; `negative_<v>` is the mean
  of the events they recently declined as `not_interested`. Recomputed by the
  `user_vectors_changed` job, which the web side queues in the transaction
  that changes those inputs.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import asyncpg
import msgspec
import numpy as np
import structlog
from pgqueuer.models import Job

from db.queries import embeddings as q
from jobs.contract import UserVectorsChanged
from server.settings import Settings

if TYPE_CHECKING:  # the model's runtime loads only in workers, not in the web process
    from workers.embedders import Embedder

logger = structlog.get_logger(__name__)

# Liked profiles say less about a person than their own interests.
LIKED_WEIGHT = 0.5
DECLINES_CONSIDERED = 20
SWEEP_BATCH = 256


def event_text(title: str, description: str | None) -> str:
    return f"{title}\n{description}" if description else title


def _mean(vectors: list[q.Vector]) -> q.Vector | None:
    return np.mean(np.stack(vectors), axis=0) if vectors else None


def _unit(vector: q.Vector) -> q.Vector | None:
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm > 1e-9 else None


class Embeddings:
    """The vector jobs, bound to one pool and one embedder."""

    def __init__(self, pool: asyncpg.Pool, embedder: Embedder, settings: Settings) -> None:
        self.pool = pool
        self.embedder = embedder
        self.positive_type = f"positive_{settings.embedding_vector_version}"
        self.negative_type = f"negative_{settings.embedding_vector_version}"

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    async def embed_catalog(self) -> int:
        """Embed every interest without a vector from the current model."""
        done = 0
        while True:
            async with self.pool.acquire() as conn:
                rows = await q.interests_to_embed(conn, self.model_id, SWEEP_BATCH)
                if not rows:
                    return done
                vectors = await self.embedder.embed([r["name"] for r in rows])
                await q.set_interest_vectors(
                    conn, [r["id"] for r in rows], list(vectors), self.model_id
                )
            done += len(rows)

    async def embed_events(self) -> int:
        """Embed drafts and published events whose vector is missing or stale."""
        async with self.pool.acquire() as conn:
            rows = await q.events_to_embed(conn, self.model_id, SWEEP_BATCH)
            for row in rows:
                await self.event_vector(conn, row["id"], row["title"], row["description"])
        return len(rows)

    async def event_vector(
        self, conn: asyncpg.Connection, event_id: uuid.UUID, title: str, description: str | None
    ) -> q.Vector:
        """Embed the event's text and store it (unless the text changed meanwhile)."""
        vector: q.Vector = (await self.embedder.embed([event_text(title, description)]))[0]
        await q.set_event_vector(conn, event_id, vector, self.model_id, title, description)
        return vector

    async def refresh_user_vectors(self, user_id: uuid.UUID) -> None:
        """Recompute both of the user's vectors from what the database holds now."""
        async with self.pool.acquire() as conn:
            own, unembedded = await q.own_interest_vectors(conn, user_id, self.model_id)
            if unembedded:
                await self.embed_catalog()
                own, _ = await q.own_interest_vectors(conn, user_id, self.model_id)
            liked = await q.liked_interest_vectors(conn, user_id, self.model_id)
            for row in await q.declined_events_to_embed(
                conn, user_id, self.model_id, DECLINES_CONSIDERED
            ):
                await self.event_vector(conn, row["id"], row["title"], row["description"])
            declined, _ = await q.declined_event_vectors(
                conn, user_id, self.model_id, DECLINES_CONSIDERED
            )

            own_mean, liked_mean = _mean(own), _mean(liked)
            positive = own_mean
            if liked_mean is not None:
                positive = LIKED_WEIGHT * liked_mean + (own_mean if own_mean is not None else 0)
            negative = _mean(declined)
            async with conn.transaction():
                await q.put_user_vector(
                    conn,
                    user_id,
                    self.positive_type,
                    None if positive is None else _unit(positive),
                    self.model_id,
                )
                await q.put_user_vector(
                    conn,
                    user_id,
                    self.negative_type,
                    None if negative is None else _unit(negative),
                    self.model_id,
                )

    async def user_vectors_changed(self, job: Job) -> None:
        if job.payload is None:
            logger.warning("user_vectors_changed without payload", job_id=job.id)
            return
        change = msgspec.json.decode(job.payload, type=UserVectorsChanged)
        await self.refresh_user_vectors(change.user_id)
