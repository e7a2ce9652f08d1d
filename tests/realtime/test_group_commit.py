"""Group commit (server/messaging/writer.py): many sends, one transaction, and
every sender told exactly what was stored.

These call messaging.send, the function the WebSocket `send` op and the REST
POSTs both use, with a Writer on its own pool and the in-process fan-out, so
the test controls when sends arrive: all of a test's sends are handed to the
writer before its first batch leaves. Each batch is one transaction, so the
number of distinct `xmin`s among the stored rows is the number of batches.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from boards.steps import STORAGE
from builders import Kit, met, start
from helpers import bearer, until

from db.pool import create_pool
from realtime.channels import Channel
from realtime.fanout import Delivery, Fanout
from server.errors import ApiError
from server.messaging import service as messaging
from server.messaging.writer import Writer
from tests.realtime.steps import Serve


class Heard:
    """Listens to channels on the fan-out: the seqs published on each."""

    def __init__(self) -> None:
        self.seqs: dict[str, list[int]] = {}

    def deliver(self, channel: str, delivery: Delivery) -> None:
        assert delivery.seq is not None
        self.seqs.setdefault(channel, []).append(delivery.seq)

    def resync(self, channel: str) -> None:
        raise AssertionError("the in-process fan-out never asks for a resync")


@pytest.fixture
async def writer(database_url: str) -> AsyncIterator[Writer]:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    writer = Writer(pool, Fanout(), STORAGE, acquire_timeout=5)
    try:
        yield writer
    finally:
        await writer.stop()
        await pool.close()


async def _send(
    writer: Writer, user: dict[str, Any], channel: Channel, content: str, **kw: Any
) -> tuple[Any, bool] | ApiError | Exception:
    """The sender's answer: (item, created), or what it raised."""
    try:
        return await messaging.send(
            writer.pool,
            writer,
            uuid.UUID(user["user_id"]),
            channel,
            content,
            kw.get("client_id"),
        )
    except Exception as exc:
        return exc


async def _listen(writer: Writer, channels: list[Channel]) -> Heard:
    heard = Heard()
    for channel in channels:
        await writer.fanout.listen(channel.name, heard)
    return heard


async def test_200_sends_across_20_boards_share_commits_and_each_bad_one_fails_alone(
    kit: Kit, writer: Writer
) -> None:
    host = await kit.host()
    guests = [await kit.person(f"Guest {n}") for n in range(4)]
    stranger = await kit.person("Stranger")
    boards = []
    for _ in range(20):
        event = await kit.published(host)
        for guest in guests:
            await kit.invite(event, guest, "confirmed")
        boards.append(Channel("event", uuid.UUID(event["id"])))
    heard = await _listen(writer, boards)
    senders = [host, *guests]
    repeated = uuid.uuid4()
    sends = []
    for b, board in enumerate(boards):
        for k in range(10):
            sends.append((senders[k % 5], board, f"board {b} message {k}", {}))
    # Each alone in the same batch: too long, and someone who is not on the board;
    # and the same client_id twice (an app's retry before the first answer).
    sends[17] = (guests[0], boards[1], "x" * 2001, {})
    sends[42] = (stranger, boards[4], "let me in", {})
    sends[60] = (guests[1], boards[6], "once", {"client_id": repeated})
    sends[61] = (guests[1], boards[6], "once", {"client_id": repeated})

    answers = await asyncio.gather(*(_send(writer, u, c, t, **kw) for u, c, t, kw in sends))

    too_long, stranger_answer = answers[17], answers[42]
    assert isinstance(too_long, ApiError) and too_long.code == "invalid_content"
    assert isinstance(stranger_answer, ApiError) and stranger_answer.code == "not_found"
    first, retry = answers[60], answers[61]
    assert isinstance(first, tuple) and isinstance(retry, tuple)
    assert first[0].id == retry[0].id and {first[1], retry[1]} == {True, False}
    stored = {
        (r["event_id"], r["seq"]): r
        for r in await kit.db.fetch(
            "SELECT id, event_id, seq, content, xmin::text AS tx FROM event_posts"
            " WHERE event_id = ANY ($1::uuid[])",
            [b.id for b in boards],
        )
    }
    assert len(stored) == 200 - 3  # everything but the two refusals and the retry
    for (_, channel, content, _), answer in zip(sends, answers, strict=True):
        if isinstance(answer, Exception):
            continue
        item, _created = answer
        # The ack carries the seq and id the item was stored with.
        row = stored[(channel.id, item.seq)]
        assert (row["id"], row["content"]) == (item.id, content)
    for board in boards:
        seqs = sorted(seq for event_id, seq in stored if event_id == board.id)
        assert seqs == list(range(1, len(seqs) + 1))  # gap-free per channel
        # Published once each, in seq order (the board's live readers see no gap).
        await until(lambda b=board.name, s=seqs: heard.seqs.get(b) == s)
    # All 200 were handed over before the first batch left: two batches (FLUSHES)
    # of at most 100 and a few one-item retries, not a commit per send.
    assert len({r["tx"] for r in stored.values()}) <= 4


async def test_messages_in_a_batch_get_their_seqs_and_move_read_markers(
    kit: Kit, writer: Writer
) -> None:
    host = await kit.host()
    ann, bob, cy = [await kit.person(name) for name in ("Ann", "Bob", "Cy")]
    await met(kit, host, ann, bob, cy)
    chats = [
        Channel("conversation", uuid.UUID((await start(kit, ann, other))["id"]))
        for other in (bob, cy)
    ]
    heard = await _listen(writer, chats)
    sends = [
        (who, chat, f"{n}")
        for n in range(20)
        for chat, who in ((chats[0], (ann, bob)[n % 2]), (chats[1], (ann, cy)[n % 2]))
    ]
    answers = await asyncio.gather(*(_send(writer, u, c, t) for u, c, t in sends))
    for chat in chats:
        rows = await kit.db.fetch(
            "SELECT seq, content FROM messages WHERE conversation_id = $1 ORDER BY seq", chat.id
        )
        assert [r["seq"] for r in rows] == list(range(1, 21))
        await until(lambda c=chat.name: heard.seqs.get(c) == list(range(1, 21)))
        # Stored in the order the sends were handed over (one sender's sends keep theirs).
        assert [r["content"] for r in rows] == [t for _, c, t in sends if c == chat]
        markers = await kit.db.fetch(
            "SELECT sp.user_id, cp.last_read_seq FROM conversation_participants cp"
            " JOIN social_profiles sp ON sp.id = cp.profile_id WHERE cp.conversation_id = $1",
            chat.id,
        )
        # Writing means having read: each marker at its sender's last message.
        assert sorted(m["last_read_seq"] for m in markers) == [19, 20]
    assert all(isinstance(a, tuple) and a[1] for a in answers), answers


async def test_a_database_error_fails_every_send_of_the_batch_and_the_next_batch_works(
    kit: Kit, writer: Writer
) -> None:
    host = await kit.host()
    guest = await kit.person("Guest")
    event = await kit.published(host)
    await kit.invite(event, guest, "confirmed")
    board = Channel("event", uuid.UUID(event["id"]))
    heard = await _listen(writer, [board])
    # PostgreSQL fails the statement on one row of the batch.
    await kit.db.execute(
        """
        CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.content = 'boom' THEN RAISE EXCEPTION 'boom'; END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER refuse_boom BEFORE INSERT ON event_posts
            FOR EACH ROW EXECUTE FUNCTION refuse_boom();
        """
    )
    contents = [f"before {n}" for n in range(10)] + ["boom"] + [f"after {n}" for n in range(10)]
    answers = await asyncio.gather(
        *(_send(writer, (host, guest)[n % 2], board, c) for n, c in enumerate(contents))
    )
    # Every sender hears the error; nothing was stored, so nothing was acked or published.
    assert all(isinstance(a, asyncpg.RaiseError) for a in answers), answers
    assert (
        await kit.db.fetchval("SELECT count(*) FROM event_posts WHERE event_id = $1", board.id) == 0
    )
    assert heard.seqs == {}
    # The next batch works, and the failed one took no seq.
    again = await asyncio.gather(*(_send(writer, guest, board, f"again {n}") for n in range(5)))
    assert sorted(a[0].seq for a in again if isinstance(a, tuple)) == [1, 2, 3, 4, 5]
    # Published once the senders were answered.
    await until(lambda: heard.seqs.get(board.name) == [1, 2, 3, 4, 5])


async def test_rest_posts_in_a_batch_whose_connection_is_lost_answer_503(
    kit: Kit, serve: Serve
) -> None:
    host = await kit.host()
    guest = await kit.person("Guest")
    event = await kit.published(host)
    await kit.invite(event, guest, "confirmed")
    url = f"/v1/events/{event['id']}/posts"
    # Holds the batch's statement until the test has cut its connection.
    await kit.db.execute(
        """
        CREATE FUNCTION hold_slow() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.content = 'slow' THEN PERFORM pg_sleep(30); END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER hold_slow BEFORE INSERT ON event_posts
            FOR EACH ROW EXECUTE FUNCTION hold_slow();
        """
    )

    async def cut() -> None:
        for _ in range(100):
            pid = await kit.db.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE query LIKE '%AS i(user_id, event_id,%'"
                " AND wait_event = 'PgSleep'"  # the batch holding 'slow', not any batch
            )
            if pid is not None:
                await kit.db.execute("SELECT pg_terminate_backend($1)", pid)
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the batch never reached PostgreSQL")

    # A real server: its requests run concurrently with the test's own queries.
    live = await serve()
    base = live.ws_url.replace("ws:", "http:").removesuffix("/v1/ws")
    http = httpx.AsyncClient(base_url=base, timeout=30)
    posts = [
        http.post(url, headers=bearer(who), json={"content": content})
        for who, content in ((host, "slow"), (guest, "one"), (host, "two"), (guest, "three"))
    ]
    async with http:
        *responses, _ = await asyncio.gather(*posts, cut())
    # Whichever batch each post rode in, none is half-stored: a post is either
    # answered 201 and stored, or answered 503 and not stored.
    stored = {
        r["content"]
        for r in await kit.db.fetch(
            "SELECT content FROM event_posts WHERE event_id = $1", event["id"]
        )
    }
    assert responses[0].status_code == 503  # the one held when its connection went
    for content, response in zip(("slow", "one", "two", "three"), responses, strict=True):
        if response.status_code == 201:
            assert content in stored
        else:
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "database_unavailable"
            assert content not in stored
    # The writer's pool reconnects: the next post is stored with the next seq.
    await kit.db.execute("DROP TRIGGER hold_slow ON event_posts")
    r = await kit.client.post(url, headers=bearer(guest), json={"content": "later"})
    assert r.status_code == 201, r.text
    assert r.json()["seq"] == len(stored) + 1
