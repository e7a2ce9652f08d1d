"""After-event jobs: the close of attendance, and each person's metrics."""

from __future__ import annotations

import asyncpg
import msgspec
import structlog
from pgqueuer.models import Job

from db.queries import metrics as metrics_q
from jobs.contract import MemberMetrics
from server.attendance.service import close_attendance
from server.settings import Settings

logger = structlog.get_logger(__name__)


class AfterEventJobs:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings

    async def close_attendance(self) -> int:
        async with self.pool.acquire() as conn:
            closed = await close_attendance(conn, self.settings)
        if closed:
            logger.info("attendance closed", events=closed)
        return closed

    async def refresh_member_metrics(self, job: Job) -> None:
        if job.payload is None:
            logger.warning("refresh_member_metrics without payload", job_id=job.id)
            return
        change = msgspec.json.decode(job.payload, type=MemberMetrics)
        async with self.pool.acquire() as conn:
            await metrics_q.refresh_member_metrics(conn, change.user_id)
