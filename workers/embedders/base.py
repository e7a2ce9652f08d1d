"""The one interface every text-embedding model is used through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into unit vectors.

    `model_id` is stored next to every vector: vectors with different model ids
    live in different spaces and are never compared (a change of model or
    dimension means recomputing, never mixing).
    """

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """One row per text, in order: shape (len(texts), dimension), float32,
        each row of L2 norm 1. Never blocks the event loop."""
        ...

    async def aclose(self) -> None:
        """Release connections (call once, at shutdown)."""
        ...


def normalise(rows: npt.NDArray[np.floating]) -> Vectors:
    """Rows scaled to unit L2 norm, as float32 (an all-zero row stays zero)."""
    out = np.array(rows, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out
