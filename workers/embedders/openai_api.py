"""OpenAI embeddings: `text-embedding-3-small`, shortened to the configured dimension.

Used when an OpenAI key is configured. Requests go through the official async
client, which retries 429s, 5xx answers and dropped connections itself (with
backoff, honouring Retry-After); `openai_api_base` points it elsewhere (a
local fake in tests, a proxy, a compatible service).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from openai import AsyncOpenAI, Timeout

from workers.embedders.base import Vectors, normalise

MODEL = "text-embedding-3-small"
MAX_DIMENSION = 1536
# The API's limits are 2048 inputs, 8192 tokens each and 300,000 tokens per
# request. A token is at least one UTF-8 byte, so byte counts bound token counts.
MAX_INPUTS_PER_REQUEST = 512
MAX_INPUT_BYTES = 8191
MAX_REQUEST_BYTES = 300_000
TIMEOUT = Timeout(60.0, connect=5.0)
MAX_RETRIES = 4


def _prepare(text: str) -> str:
    """The API refuses empty inputs and inputs over its token limit."""
    if not text:
        return " "
    data = text.encode()
    if len(data) <= MAX_INPUT_BYTES:
        return text
    return data[:MAX_INPUT_BYTES].decode(errors="ignore")


def _batches(texts: list[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    size = 0
    for text in texts:
        length = len(text.encode())
        if batch and (len(batch) == MAX_INPUTS_PER_REQUEST or size + length > MAX_REQUEST_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(text)
        size += length
    if batch:
        yield batch


class OpenAIEmbedder:
    """`text-embedding-3-small` at `dimension` (1..1536) dimensions."""

    def __init__(self, *, api_key: str, api_base: str | None, dimension: int) -> None:
        if not 1 <= dimension <= MAX_DIMENSION:
            raise ValueError(
                f"{MODEL} makes vectors of 1 to {MAX_DIMENSION} dimensions, not {dimension}"
            )
        self._dimension = dimension
        self._client = AsyncOpenAI(
            api_key=api_key, base_url=api_base, timeout=TIMEOUT, max_retries=MAX_RETRIES
        )

    @property
    def model_id(self) -> str:
        return f"openai:{MODEL}:{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    async def embed(self, texts: Sequence[str]) -> Vectors:
        rows: list[list[float]] = []
        for batch in _batches([_prepare(text) for text in texts]):
            response = await self._client.embeddings.create(
                model=MODEL, input=batch, dimensions=self._dimension
            )
            data = sorted(response.data, key=lambda item: item.index)
            if len(data) != len(batch) or any(len(d.embedding) != self._dimension for d in data):
                raise RuntimeError(f"{MODEL} answered with the wrong number or size of vectors")
            rows.extend(item.embedding for item in data)
        if not rows:
            return np.zeros((0, self._dimension), dtype=np.float32)
        # The API's vectors are already unit length, up to float rounding.
        return normalise(np.array(rows, dtype=np.float32))

    async def aclose(self) -> None:
        await self._client.close()
