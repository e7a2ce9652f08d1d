"""The job queue: a handler for every name in jobs/contract.py, and each schedule,
registered in one place."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable

import asyncpg
import structlog
from pgqueuer import PgQueuer
from pgqueuer.models import Schedule

from jobs import contract
from server.payments.gateway import StripeGateway
from server.settings import Settings
from workers.after_event import AfterEventJobs
from workers.embedders import Embedder, build_embedder
from workers.embeddings import Embeddings
from workers.events import cancel_underfilled_events, complete_events
from workers.maintenance import keep_match_candidates_in_order, purge_auth_records
from workers.matching import Matcher
from workers.payments import PaymentJobs
from workers.push.expo import ExpoClient
from workers.push.receipts import check_receipts
from workers.reminders import send_event_reminders, send_expiring_notices, send_rating_prompts

logger = structlog.get_logger(__name__)

RESTART_FIRST_SECONDS = 0.5
RESTART_MAX_SECONDS = 10.0
# Jobs are announced by NOTIFY; the queue also looks for due ones this often,
# so a lost LISTEN (a database restart) delays a job by this much at most.
POLL = dt.timedelta(seconds=5)


async def run_queue(make: Callable[[], PgQueuer], stop: asyncio.Event) -> None:
    """Run the job queue until `stop` is set. When it fails (the database went
    away: pgqueuer's listener health check fails within 20 s and shuts it
    down), a new one is built and started after a pause that doubles up to
    10 s; jobs wait in their table meanwhile, none is lost."""
    delay = RESTART_FIRST_SECONDS
    while not stop.is_set():
        pgq = make()
        stopper = asyncio.create_task(_shut_down_on(stop, pgq))
        try:
            await pgq.run(dequeue_timeout=POLL, shutdown_on_listener_failure=True)
            delay = RESTART_FIRST_SECONDS
        except Exception as exc:
            logger.warning("job queue stopped; restarting", error=repr(exc), retry_seconds=delay)
        finally:
            stopper.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, RESTART_MAX_SECONDS)


async def _shut_down_on(stop: asyncio.Event, pgq: PgQueuer) -> None:
    await stop.wait()
    pgq.shutdown.set()


def embedder_for(settings: Settings) -> Embedder:
    """The configured embedder; the caller closes it when the queue stops."""
    return build_embedder(
        openai_api_key=settings.openai_api_key,
        openai_api_base=settings.openai_api_base,
        dimension=settings.embedding_dimension,
    )


def build_queue(
    pool: asyncpg.Pool,
    settings: Settings,
    embedder: Embedder,
    gateway: StripeGateway | None,
    expo: ExpoClient,
) -> PgQueuer:
    """Every job; `embedder`, `gateway` and `expo` belong to the caller, who closes them."""
    pgq = PgQueuer.from_asyncpg_pool(pool)
    payments = PaymentJobs(pool, gateway, settings)
    embeddings = Embeddings(pool, embedder, settings)
    matcher = Matcher(pool, embeddings, settings)
    after_event = AfterEventJobs(pool, settings)
    cutoff = dt.timedelta(hours=settings.min_attendees_cutoff_hours)
    expiring_notice = dt.timedelta(hours=settings.invitation_expiring_notice_hours)

    pgq.entrypoint(contract.USER_VECTORS_CHANGED)(embeddings.user_vectors_changed)
    pgq.entrypoint(contract.MATCH_EVENT)(matcher.match_event)
    pgq.entrypoint(contract.REFUND_PAYMENT)(payments.refund_payment)
    pgq.entrypoint(contract.RECONCILE_PAYMENT)(payments.reconcile_payment)
    pgq.entrypoint(contract.REFRESH_MEMBER_METRICS)(after_event.refresh_member_metrics)

    @pgq.schedule(contract.PAYMENTS_SWEEP, "* * * * *")
    async def _payments(_: Schedule) -> None:
        await payments.sweep()

    @pgq.schedule(contract.PURGE_AUTH_RECORDS, "17 * * * *")
    async def _purge(_: Schedule) -> None:
        await purge_auth_records(pool)

    @pgq.schedule(contract.EMBED_PENDING, "*/5 * * * *")
    async def _embed(_: Schedule) -> None:
        await embeddings.embed_catalog()
        await embeddings.embed_events()

    @pgq.schedule(contract.EXPIRE_INVITATIONS, "* * * * *")
    async def _expire(_: Schedule) -> None:
        await matcher.expire_invitations()

    @pgq.schedule(contract.REMATCH_QUIET_EVENTS, "*/5 * * * *")
    async def _rematch(_: Schedule) -> None:
        await matcher.rematch_quiet_events()

    @pgq.schedule(contract.EVENT_LIFECYCLE, "* * * * *")
    async def _lifecycle(_: Schedule) -> None:
        await complete_events(pool)
        await cancel_underfilled_events(pool, cutoff)

    @pgq.schedule(contract.CLOSE_ATTENDANCE, "*/5 * * * *")
    async def _close_attendance(_: Schedule) -> None:
        await after_event.close_attendance()

    @pgq.schedule(contract.NOTIFICATION_REMINDERS, "*/5 * * * *")
    async def _reminders(_: Schedule) -> None:
        now = dt.datetime.now(dt.UTC)
        await send_event_reminders(pool, now)
        await send_expiring_notices(pool, now, expiring_notice)
        await send_rating_prompts(pool, now)

    # 09:30 UTC: the small hours across the US.
    @pgq.schedule(contract.RECLUSTER_MATCH_CANDIDATES, "30 9 * * *")
    async def _recluster(_: Schedule) -> None:
        await keep_match_candidates_in_order(pool)

    @pgq.schedule(contract.PUSH_RECEIPTS, "*/5 * * * *")
    async def _receipts(_: Schedule) -> None:
        await check_receipts(pool, expo, dt.datetime.now(dt.UTC))

    return pgq
