"""Fixtures for matching: a pool on the test database, the real local embedder."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from db.pool import create_pool
from server.settings import Settings
from workers.embedders import Embedder, build_embedder
from workers.embeddings import Embeddings
from workers.matching import Matcher


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return build_embedder(openai_api_key=None, openai_api_base=None, dimension=None)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, min_size=1, max_size=6)
    yield pool
    await pool.close()


@pytest.fixture
def embeddings(pool: asyncpg.Pool, embedder: Embedder, settings: Settings) -> Embeddings:
    return Embeddings(pool, embedder, settings)


@pytest.fixture
def matcher(pool: asyncpg.Pool, embeddings: Embeddings, settings: Settings) -> Matcher:
    return Matcher(pool, embeddings, settings)
