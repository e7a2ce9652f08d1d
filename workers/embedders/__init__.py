"""Text embeddings for matching, behind one interface (`Embedder`).

`build_embedder` picks OpenAI when a key is configured, else the local model
that ships with the install. Every vector is stored with its embedder's
`model_id`; vectors from different model ids are never compared.
"""

from __future__ import annotations

from workers.embedders.base import Embedder, Vectors
from workers.embedders.local import LocalEmbedder
from workers.embedders.openai_api import OpenAIEmbedder

__all__ = ["Embedder", "LocalEmbedder", "OpenAIEmbedder", "Vectors", "build_embedder"]

DEFAULT_OPENAI_DIMENSION = 1536


def build_embedder(
    *, openai_api_key: str | None, openai_api_base: str | None, dimension: int | None
) -> Embedder:
    """OpenAI's `text-embedding-3-small` when a key is given (`dimension`
    1..1536, default 1536), else the local model, whose size is fixed.

    Raises ValueError for a dimension the chosen model cannot make.
    """
    if openai_api_key:
        return OpenAIEmbedder(
            api_key=openai_api_key,
            api_base=openai_api_base,
            dimension=DEFAULT_OPENAI_DIMENSION if dimension is None else dimension,
        )
    local = LocalEmbedder()
    if dimension is not None and dimension != local.dimension:
        raise ValueError(
            f"without an OpenAI key, embeddings come from the local model "
            f"({local.model_id}), which makes {local.dimension}-dimension vectors; "
            f"set the embedding dimension to {local.dimension} or leave it unset "
            f"(it is {dimension})"
        )
    return local
