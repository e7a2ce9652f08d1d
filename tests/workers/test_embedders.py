"""Text embedders: the local model (really run) and OpenAI (a local fake server)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import numpy as np
import pytest
from fakes import openai as fake_openai
from fakes.http import serve

from workers.embedders import LocalEmbedder, OpenAIEmbedder, build_embedder


@pytest.fixture(scope="module")
def local() -> LocalEmbedder:
    embedder = build_embedder(openai_api_key=None, openai_api_base=None, dimension=None)
    assert isinstance(embedder, LocalEmbedder)
    return embedder


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


async def test_local_vectors_are_unit_float32_rows(local: LocalEmbedder) -> None:
    texts = ["Hiking", "Vintage film", "Board games", ""]
    vectors = await local.embed(texts)
    assert local.model_id == "local:all-MiniLM-L6-v2-onnx-int8:384"
    assert vectors.shape == (4, local.dimension) == (4, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


async def test_local_vectors_do_not_depend_on_the_call(local: LocalEmbedder) -> None:
    alone = await local.embed(["Board games"])
    again = await local.embed(["Board games"])
    np.testing.assert_array_equal(alone, again)
    # In a batch with a much longer text (more padding) and in another position.
    mixed = await local.embed(["A long evening of " + "jazz and wine " * 20, "Board games"])
    np.testing.assert_allclose(mixed[1], alone[0], atol=1e-4)


async def test_local_related_phrases_are_closer_than_unrelated(local: LocalEmbedder) -> None:
    triples = [
        ("Hiking", "Trail running", "Opera"),
        ("Vintage film", "Classic cinema", "Rock climbing"),
        ("Board games", "Tabletop RPGs", "Marathon training"),
        ("Yoga", "Meditation", "Video games"),
        ("Pottery", "Ceramics", "Football"),
    ]
    vectors = await local.embed([text for triple in triples for text in triple])
    for i, (anchor, related, unrelated) in enumerate(triples):
        a, r, u = vectors[3 * i : 3 * i + 3]
        assert _cosine(a, r) > _cosine(a, u) + 0.1, (anchor, related, unrelated)
    event = (
        "A relaxed Saturday morning walk through the redwood forest, about 8 km with "
        "gentle climbs and a picnic lunch by the creek. Bring water and good shoes."
    )
    e, hiking, opera = await local.embed([event, "Hiking", "Opera"])
    assert _cosine(e, hiking) > _cosine(e, opera) + 0.2


async def test_local_empty_input_and_long_text(local: LocalEmbedder) -> None:
    empty = await local.embed([])
    assert empty.shape == (0, 384)
    assert empty.dtype == np.float32
    # Far past the model's 256 tokens: cut, not an error.
    long = await local.embed(["hiking in the mountains " * 400])
    assert long.shape == (1, 384)
    np.testing.assert_allclose(np.linalg.norm(long[0]), 1.0, atol=1e-5)


async def test_local_model_has_one_native_size() -> None:
    assert build_embedder(openai_api_key=None, openai_api_base=None, dimension=384)
    with pytest.raises(ValueError, match="384"):
        build_embedder(openai_api_key=None, openai_api_base=None, dimension=1536)


@pytest.fixture
def openai_fake() -> Iterator[tuple[str, fake_openai.FakeOpenAIState]]:
    state = fake_openai.FakeOpenAIState()
    with serve(fake_openai.make_handler(state)) as url:
        yield url + "/v1", state


@pytest.fixture
async def openai_embedder(
    openai_fake: tuple[str, fake_openai.FakeOpenAIState],
) -> AsyncIterator[OpenAIEmbedder]:
    embedder = build_embedder(
        openai_api_key=fake_openai.API_KEY, openai_api_base=openai_fake[0], dimension=256
    )
    assert isinstance(embedder, OpenAIEmbedder)
    yield embedder
    await embedder.aclose()


async def test_openai_returns_the_apis_vectors_at_the_configured_size(
    openai_embedder: OpenAIEmbedder, openai_fake: tuple[str, fake_openai.FakeOpenAIState]
) -> None:
    vectors = await openai_embedder.embed(["Hiking", "", "Opera"])
    assert openai_embedder.model_id == "openai:text-embedding-3-small:256"
    assert vectors.shape == (3, 256)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors[0], fake_openai.fake_vector("Hiking", 256), atol=1e-6)
    np.testing.assert_allclose(vectors[2], fake_openai.fake_vector("Opera", 256), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    [request] = openai_fake[1].requests
    assert request["model"] == "text-embedding-3-small"
    assert request["dimensions"] == 256
    # The API refuses empty strings: they are sent as a space.
    assert request["input"] == ["Hiking", " ", "Opera"]
    assert (await openai_embedder.embed([])).shape == (0, 256)
    assert len(openai_fake[1].requests) == 1


async def test_openai_batches_large_inputs(
    openai_embedder: OpenAIEmbedder, openai_fake: tuple[str, fake_openai.FakeOpenAIState]
) -> None:
    texts = [f"interest {i}" for i in range(1200)]
    vectors = await openai_embedder.embed(texts)
    assert [len(r["input"]) for r in openai_fake[1].requests] == [512, 512, 176]
    assert vectors.shape == (1200, 256)
    np.testing.assert_allclose(
        vectors[1199], fake_openai.fake_vector("interest 1199", 256), atol=1e-6
    )


@pytest.mark.parametrize("status", [429, 503])
async def test_openai_retries_rate_limits_and_server_errors(
    openai_embedder: OpenAIEmbedder,
    openai_fake: tuple[str, fake_openai.FakeOpenAIState],
    status: int,
) -> None:
    openai_fake[1].failures = [status]
    vectors = await openai_embedder.embed(["Board games"])
    assert len(openai_fake[1].requests) == 2
    np.testing.assert_allclose(vectors[0], fake_openai.fake_vector("Board games", 256), atol=1e-6)


def test_openai_dimension_is_checked() -> None:
    embedder = build_embedder(openai_api_key="k", openai_api_base=None, dimension=None)
    assert embedder.dimension == 1536
    assert embedder.model_id == "openai:text-embedding-3-small:1536"
    for wrong in (0, 1537):
        with pytest.raises(ValueError, match="1 to 1536"):
            build_embedder(openai_api_key="k", openai_api_base=None, dimension=wrong)
