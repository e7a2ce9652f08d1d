"""Payment jobs: refunds and reconciliation with Stripe, one payment per job, plus
the sweep that catches whatever a failed job or a lost webhook left behind."""

from __future__ import annotations

import datetime as dt

import asyncpg
import msgspec
import structlog
from pgqueuer.models import Job

from db.queries import payments as q
from jobs.contract import PaymentJob
from server.payments.gateway import GatewayError, StripeGateway
from server.payments.service import reconcile, refund
from server.settings import Settings

logger = structlog.get_logger(__name__)

SWEEP_BATCH = 200


class PaymentJobs:
    """The payment jobs bound to a pool and the Stripe gateway (None: not configured,
    so no payment can exist and the jobs have nothing to do)."""

    def __init__(
        self, pool: asyncpg.Pool, gateway: StripeGateway | None, settings: Settings
    ) -> None:
        self.pool = pool
        self.gateway = gateway
        self.settings = settings

    async def refund_payment(self, job: Job) -> None:
        if self.gateway is None or job.payload is None:
            return
        payment_id = msgspec.json.decode(job.payload, type=PaymentJob).payment_id
        async with self.pool.acquire() as conn:
            await refund(conn, self.gateway, payment_id)

    async def reconcile_payment(self, job: Job) -> None:
        if self.gateway is None or job.payload is None:
            return
        payment_id = msgspec.json.decode(job.payload, type=PaymentJob).payment_id
        async with self.pool.acquire() as conn:
            await reconcile(conn, self.gateway, payment_id, dt.datetime.now(dt.UTC))

    async def sweep(self, now: dt.datetime | None = None) -> tuple[int, int]:
        """Reconcile pending payments that are old or whose hold ran out, and
        refund every payment still marked for a refund; (reconciled, refunded).
        A payment failing at Stripe is logged and left for the next sweep."""
        if self.gateway is None:
            return 0, 0
        now = now or dt.datetime.now(dt.UTC)
        stale_before = now - dt.timedelta(minutes=self.settings.payment_reconcile_after_minutes)
        reconciled = refunded = 0
        async with self.pool.acquire() as conn:
            for payment_id in await q.to_reconcile(conn, now, stale_before, SWEEP_BATCH):
                try:
                    await reconcile(conn, self.gateway, payment_id, now)
                    reconciled += 1
                except GatewayError as exc:
                    logger.warning("reconcile failed", payment_id=str(payment_id), code=exc.code)
            for payment_id in await q.refunds_due(conn, SWEEP_BATCH):
                try:
                    refunded += await refund(conn, self.gateway, payment_id)
                except GatewayError as exc:
                    logger.warning("refund failed", payment_id=str(payment_id), code=exc.code)
        return reconciled, refunded
