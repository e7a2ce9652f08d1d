"""The job queue: every entrypoint and schedule, registered in one place."""

from __future__ import annotations

import asyncpg
from pgqueuer import PgQueuer
from pgqueuer.models import Schedule

from workers.embeddings import USER_INTERESTS_CHANGED, user_interests_changed
from workers.maintenance import purge_auth_records


def build_queue(pool: asyncpg.Pool) -> PgQueuer:
    pgq = PgQueuer.from_asyncpg_pool(pool)

    @pgq.schedule("purge_auth_records", "17 * * * *")
    async def _purge(_: Schedule) -> None:
        await purge_auth_records(pool)

    pgq.entrypoint(USER_INTERESTS_CHANGED)(user_interests_changed)

    return pgq
