"""The matching jobs: invite the best-fitting people to published events, in waves.

A wave (`match_event`) runs on publish, when an invitation is declined or
expires, and from a periodic sweep for unfilled events with nobody left to
answer. Each wave recomputes everything from the database under a per-event
lock, so a wave queued twice, or run by two workers at once, invites nobody
twice and never more people than the event still needs (docs/MATCHING.md).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import asyncpg
import msgspec
import structlog
from pgqueuer.models import Job

from db.queries import audience as audience_q
from db.queries import matching as q
from db.queries.embeddings import Vector
from jobs.contract import MatchEvent, enqueue_match_event
from server.matching.reasons import match_reason
from server.matching.slots import availability_slot
from server.matching.waves import acceptance_rate, invitation_expiry, wave_size
from server.notifications.notify import notify
from server.settings import Settings
from workers.embeddings import Embeddings

logger = structlog.get_logger(__name__)

# The acceptance rate looks back this far, and is re-read at most this often.
ACCEPTANCE_WINDOW = dt.timedelta(days=90)
ACCEPTANCE_CACHE_SECONDS = 300.0
# absentee_rating runs from 0 (never shows up) to 1 (always does); people
# without history yet are assumed fairly reliable.
UNKNOWN_RELIABILITY = 0.9


class WaveResult(msgspec.Struct, frozen=True):
    """What one wave did: whom it invited, or why it invited nobody."""

    invited: list[uuid.UUID]
    outcome: str  # invited | closed | full | covered | no_candidates


class Matcher:
    """Waves and the sweeps that trigger them, bound to one pool and settings."""

    def __init__(self, pool: asyncpg.Pool, embeddings: Embeddings, settings: Settings) -> None:
        self.pool = pool
        self.embeddings = embeddings
        self.settings = settings
        self._rate: tuple[float, float] | None = None  # (value, monotonic time read)

    @property
    def weights(self) -> tuple[float, float, float, float, float, float, float]:
        return self.settings.match_weights

    async def _acceptance_rate(self, conn: asyncpg.Connection, now: dt.datetime) -> float:
        cached = self._rate
        if cached is not None and time.monotonic() - cached[1] < ACCEPTANCE_CACHE_SECONDS:
            return cached[0]
        accepted, resolved = await q.observed_acceptance(conn, now - ACCEPTANCE_WINDOW)
        rate = acceptance_rate(accepted, resolved, self.settings.matching_prior_acceptance_rate)
        self._rate = (rate, time.monotonic())
        return rate

    def candidate_search(
        self, ev: asyncpg.Record, vector: Vector, now: dt.datetime, *, limit: int
    ) -> q.CandidateSearch:
        """The candidate query for an event as `q.wave_event` read it."""
        weekday, slot = availability_slot(ev["local_start"])
        return q.CandidateSearch(
            event_id=ev["id"],
            latitude=ev["latitude"],
            longitude=ev["longitude"],
            event_date=ev["local_start"].date(),
            age_min=ev["age_min"],
            age_max=ev["age_max"],
            price_level=ev["price_level"],
            weekday=weekday,
            slot=slot,
            starts_at=ev["starts_at"],
            ends_at=ev["ends_at"],
            now=now,
            excluded_user_ids=[ev["host_user_id"], *ev["collaborator_user_ids"]],
            event_vector=vector,
            model_id=self.embeddings.model_id,
            positive_type=self.embeddings.positive_type,
            negative_type=self.embeddings.negative_type,
            recent_since=now - dt.timedelta(days=self.settings.match_recent_invite_days),
            weights=self.weights,
            unknown_reliability=UNKNOWN_RELIABILITY,
            limit=limit,
        )

    async def run_wave(self, event_id: uuid.UUID, now: dt.datetime | None = None) -> WaveResult:
        now = now or dt.datetime.now(dt.UTC)
        async with self.pool.acquire() as conn, conn.transaction():
            await q.lock_event_for_matching(conn, event_id)
            ev = await q.wave_event(conn, event_id)
            if (
                ev is None
                or ev["status"] != "published"
                or ev["starts_at"] is None
                or ev["starts_at"] <= now
                or ev["latitude"] is None
            ):
                return WaveResult(invited=[], outcome="closed")
            if ev["taken"] >= ev["max_attendees"]:
                return WaveResult(invited=[], outcome="full")
            size = wave_size(
                max_attendees=ev["max_attendees"],
                taken=ev["taken"],
                open_invitations=ev["open_invitations"],
                rate=await self._acceptance_rate(conn, now),
                max_wave=self.settings.matching_max_wave_size,
            )
            if size == 0:
                return WaveResult(invited=[], outcome="covered")

            if ev["event_vector"] is not None and ev["embedding_model"] == self.embeddings.model_id:
                vector = ev["event_vector"].to_numpy()
            else:
                vector = await self.embeddings.event_vector(
                    conn, event_id, ev["title"], ev["description"]
                )
            candidates = await q.ranked_candidates(
                conn, self.candidate_search(ev, vector, now, limit=size)
            )
            if not await q.still_matchable(conn, event_id, now):
                return WaveResult(invited=[], outcome="closed")
            # An empty wave counts too: the quiet-event sweep waits before retrying.
            wave = await q.record_wave(conn, event_id, now)
            if not candidates:
                return WaveResult(invited=[], outcome="no_candidates")

            profile_ids = [c.profile_id for c in candidates]
            material = await q.reason_material(
                conn, profile_ids, ev["host_profile_id"], vector, self.embeddings.model_id
            )
            ttl = dt.timedelta(hours=self.settings.invitation_ttl_hours)
            invited = await q.insert_invitations(
                conn,
                event_id,
                wave,
                profile_ids,
                [
                    match_reason(
                        host_name=ev["host_name"],
                        shared=material[p][0],
                        own=material[p][1],
                    )
                    for p in profile_ids
                ],
                [
                    invitation_expiry(
                        now=now,
                        ttl=ttl,
                        starts_at=ev["starts_at"],
                        lead_time_days=c.min_lead_time_days,
                    )
                    for c in candidates
                ],
                [c.score for c in candidates],
            )
            for row in await audience_q.wave_invitees(conn, event_id, invited):
                await notify(
                    conn,
                    row["user_id"],
                    "invitation_received",
                    {
                        "event_id": event_id,
                        "invitation_id": row["invitation_id"],
                        "event_title": ev["title"],
                        "match_reason": row["match_reason"],
                    },
                )
        logger.info("matching wave", event_id=str(event_id), wave=wave, invited=len(invited))
        return WaveResult(invited=invited, outcome="invited")

    async def match_event(self, job: Job) -> None:
        if job.payload is None:
            logger.warning("match_event without payload", job_id=job.id)
            return
        await self.run_wave(msgspec.json.decode(job.payload, type=MatchEvent).event_id)

    async def expire_invitations(self, now: dt.datetime | None = None) -> int:
        """Expire unanswered invitations and queue the next wave for their events."""
        now = now or dt.datetime.now(dt.UTC)
        async with self.pool.acquire() as conn, conn.transaction():
            event_ids = await q.expire_invitations(conn, now)
            for event_id in event_ids:
                await enqueue_match_event(conn, event_id)
        return len(event_ids)

    async def rematch_quiet_events(self, now: dt.datetime | None = None) -> int:
        """Queue a wave for unfilled events that nobody is answering any more:
        people may have joined, moved or changed their preferences since."""
        now = now or dt.datetime.now(dt.UTC)
        quiet_since = now - dt.timedelta(minutes=self.settings.matching_retry_minutes)
        async with self.pool.acquire() as conn, conn.transaction():
            event_ids = await q.events_needing_a_wave(conn, now, quiet_since)
            for event_id in event_ids:
                await enqueue_match_event(conn, event_id)
        return len(event_ids)
