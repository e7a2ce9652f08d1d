"""Notification tests: a fake Expo and a fake Twilio that the real clients talk
to, and the push worker built as a worker process builds it (own pool, Redis
fan-out and presence, the cross-process rate gate)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import msgspec
import pytest
from fakes import twilio
from fakes.expo import FakeExpo
from fakes.http import serve
from redis.asyncio import Redis

from db.pool import create_pool
from realtime.fanout import RedisFanout
from server.settings import Settings
from workers.push.runtime import PushRuntime


@pytest.fixture
def expo() -> Iterator[FakeExpo]:
    fake = FakeExpo()
    with serve(fake.handler()) as url:
        fake.url = url  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def texts() -> Iterator[twilio.FakeTwilioState]:
    state = twilio.FakeTwilioState()
    with serve(twilio.make_handler(state)) as url:
        state.url = url  # type: ignore[attr-defined]
        yield state


@pytest.fixture
def settings(settings: Settings, expo: FakeExpo, texts: twilio.FakeTwilioState) -> Settings:
    return msgspec.structs.replace(
        settings,
        expo_api_base=expo.url,  # type: ignore[attr-defined]
        twilio_account_sid=twilio.ACCOUNT_SID,
        twilio_auth_token=twilio.AUTH_TOKEN,
        twilio_verify_service_sid=twilio.SERVICE_SID,
        twilio_api_base=texts.url,  # type: ignore[attr-defined]
        twilio_messaging_service_sid=twilio.MESSAGING_SID,
        twilio_messages_api_base=texts.url,  # type: ignore[attr-defined]
    )


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    assert settings.redis_url
    client = Redis.from_url(settings.redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def push(database_url: str, settings: Settings, redis: Redis) -> AsyncIterator[PushRuntime]:
    """The push worker of a separate worker process."""
    pool = await create_pool(database_url, min_size=1, max_size=4)
    runtime = PushRuntime(
        pool, settings, RedisFanout(redis, settings.redis_key_prefix), redis, redis
    )
    yield runtime
    await runtime.aclose()
    await pool.close()
