"""Channels: who may subscribe, replay from `since`, send with ack, typing and read events."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
from helpers import bearer, block, until

from realtime.presence import CONNECTED, is_watching
from server.boards import service as boards
from tests.realtime.steps import (
    Board,
    Chat,
    Connect,
    Frame,
    Kit,
    Serve,
    Socket,
    seqs,
)


async def post(kit: Kit, board: Board, who: str = "attendee", content: str = "Hi") -> Frame:
    person = getattr(board, who)
    r = await kit.client.post(
        f"/v1/events/{board.event_id}/posts", headers=bearer(person), json={"content": content}
    )
    assert r.status_code == 201, r.text
    created: Frame = r.json()
    return created


async def messages(client: Socket, count: int) -> list[Frame]:
    return [await client.expect("message") for _ in range(count)]


async def test_subscribing_is_for_the_channels_audience_only(
    serve: Serve, ws: Connect, board: Board, chat: Chat
) -> None:
    live = await serve()
    for person in (board.host, board.attendee):
        client = await ws(live, person)
        assert await client.subscribe(board.channel, ref=1) == {
            "type": "subscribed",
            "channel": board.channel,
            "ref": 1,
            "last_seq": 0,
            "recovered": True,
        }
    invitee = await ws(live, board.invitee)
    stranger = await ws(live, board.stranger)
    for client in (invitee, stranger):
        await client.send(op="subscribe", channel=board.channel, ref="b")
        assert (await client.expect("error"))["code"] == "forbidden"
        await client.send(op="subscribe", channel=chat.channel, ref="c")
        error = await client.expect("error")
        assert (error["code"], error["ref"]) == ("forbidden", "c")
    for channel in (f"event:{uuid.uuid4()}", f"conversation:{uuid.uuid4()}"):
        await stranger.send(op="subscribe", channel=channel)
        assert (await stranger.expect("error"))["code"] == "forbidden"
    for channel in ("event:nope", f"dm:{board.event_id}", f"user:{board.host['user_id']}"):
        await stranger.send(op="subscribe", channel=channel)
        assert (await stranger.expect("error"))["code"] == "invalid_channel"
    for person in (chat.me, chat.friend):
        assert (await (await ws(live, person)).subscribe(chat.channel))["last_seq"] == 0


async def test_send_is_acked_then_delivered_to_every_subscriber(
    serve: Serve, ws: Connect, chat: Chat, kit: Kit
) -> None:
    live = await serve()
    me, friend = await ws(live, chat.me), await ws(live, chat.friend)
    await me.subscribe(chat.channel)
    await friend.subscribe(chat.channel)
    await me.send(op="send", channel=chat.channel, content=" Hi! ", client_id=None, ref="r1")
    ack = await me.expect("ack")
    assert (ack["ref"], ack["seq"]) == ("r1", 1)
    delivered = [await client.expect("message") for client in (me, friend)]
    assert delivered[0] == delivered[1]
    assert delivered[0]["channel"] == chat.channel
    assert delivered[0]["seq"] == 1
    assert delivered[0]["data"]["id"] == ack["id"]
    assert delivered[0]["data"]["content"] == "Hi!"
    assert delivered[0]["data"]["sender_profile_id"] == chat.me["profile_id"]
    # The very object the REST list returns.
    r = await kit.client.get(
        f"/v1/conversations/{chat.conversation_id}/messages", headers=bearer(chat.friend)
    )
    assert r.json()["items"] == [delivered[0]["data"]]


async def test_a_retried_send_is_acked_again_and_delivered_once(
    serve: Serve, ws: Connect, chat: Chat, db_conn: asyncpg.Connection
) -> None:
    live = await serve()
    me, friend = await ws(live, chat.me), await ws(live, chat.friend)
    await friend.subscribe(chat.channel)
    client_id = str(uuid.uuid4())
    acks = []
    for ref in ("first", "retry"):
        await me.send(op="send", channel=chat.channel, content="Once", client_id=client_id, ref=ref)
        acks.append(await me.expect("ack"))
    assert [a["ref"] for a in acks] == ["first", "retry"]
    assert acks[0]["id"] == acks[1]["id"] and acks[0]["seq"] == acks[1]["seq"] == 1
    assert (await friend.expect("message"))["seq"] == 1
    await friend.nothing()
    count = await db_conn.fetchval(
        "SELECT count(*) FROM messages WHERE conversation_id = $1", chat.conversation_id
    )
    assert count == 1


async def test_refused_sends_answer_an_error_with_the_ref(
    serve: Serve, ws: Connect, board: Board, chat: Chat
) -> None:
    live = await serve()
    invitee = await ws(live, board.invitee)
    for channel in (board.channel, chat.channel):
        await invitee.send(op="send", channel=channel, content="Hi", ref=9)
        error = await invitee.expect("error")
        assert error["ref"] == 9
        assert error["code"] in ("forbidden", "not_found")
    attendee = await ws(live, board.attendee)
    await attendee.send(op="send", channel=board.channel, content="   ", ref="empty")
    assert (await attendee.expect("error"))["code"] == "invalid_content"
    await attendee.send(op="send", channel=board.channel, content="nul\x00byte", ref="nul")
    assert (await attendee.expect("error"))["code"] == "invalid_content"


async def test_since_replays_in_order_then_goes_live(
    serve: Serve, ws: Connect, board: Board, kit: Kit
) -> None:
    live = await serve()
    for n in range(1, 6):
        await post(kit, board, content=f"#{n}")
    reader = await ws(live, board.other)
    subscribed = await reader.subscribe(board.channel, since=2)
    assert (subscribed["last_seq"], subscribed["recovered"]) == (5, True)
    replayed = await messages(reader, 3)
    assert seqs(replayed) == [3, 4, 5]
    assert [m["data"]["content"] for m in replayed] == ["#3", "#4", "#5"]
    writer = await ws(live, board.attendee)
    await writer.send(op="send", channel=board.channel, content="#6", ref=1)
    assert (await reader.expect("message"))["seq"] == 6
    # `since` at or past the end replays nothing; null never replays.
    for since in (6, 100, None):
        again = await ws(live, board.host)
        assert (await again.subscribe(board.channel, since=since))["last_seq"] == 6
        await again.nothing()


async def test_replay_meets_live_items_with_no_gap_and_no_duplicate(
    serve: Serve, ws: Connect, board: Board
) -> None:
    live = await serve()
    writer = await ws(live, board.attendee)
    total = 60

    async def write() -> None:
        for n in range(1, total + 1):
            await writer.send(op="send", channel=board.channel, content=f"#{n}", ref=n)
            await writer.expect("ack")

    writing = asyncio.create_task(write())
    readers: list[tuple[Socket, int]] = []
    for person, since in ((board.host, 0), (board.other, None), (board.host, 3)):
        await asyncio.sleep(0.05)
        reader = await ws(live, person)
        subscribed = await reader.subscribe(board.channel, since=since)
        start = since if since is not None else subscribed["last_seq"]
        readers.append((reader, start))
    await writing
    for reader, start in readers:
        got = await messages(reader, total - start)
        assert seqs(got) == list(range(start + 1, total + 1))
        assert [m["data"]["content"] for m in got] == [f"#{n}" for n in range(start + 1, total + 1)]
        await reader.nothing()


async def test_a_lost_live_item_is_read_from_the_database(
    serve: Serve, ws: Connect, board: Board, db_conn: asyncpg.Connection
) -> None:
    live = await serve()
    reader = await ws(live, board.host)
    await reader.subscribe(board.channel, since=0)
    user_id = uuid.UUID(board.attendee["user_id"])
    storage = live.app.state.storage
    stored = [
        (await boards.create_post(db_conn, storage, user_id, board.event_id, f"#{n}", None))[0]
        for n in range(1, 4)
    ]
    # Only the last one is published (the others' publishes were lost).
    await live.app.state.fanout.publish(board.channel, stored[2].seq, stored[2])
    got = await messages(reader, 3)
    assert seqs(got) == [1, 2, 3]
    await reader.nothing()


async def test_a_gap_longer_than_the_replay_limit_is_not_recovered(
    serve: Serve, ws: Connect, board: Board, kit: Kit
) -> None:
    live = await serve(ws_replay_limit=3)
    for n in range(1, 6):
        await post(kit, board, content=f"#{n}")
    reader = await ws(live, board.other)
    assert await reader.subscribe(board.channel, since=1) == {
        "type": "subscribed",
        "channel": board.channel,
        "ref": "s",
        "last_seq": 5,
        "recovered": False,
    }
    await reader.nothing()
    assert (await reader.subscribe(board.channel, since=2))["recovered"] is True
    assert seqs(await messages(reader, 3)) == [3, 4, 5]


async def test_typing_is_delivered_to_the_others_and_never_stored(
    serve: Serve, ws: Connect, chat: Chat, db_conn: asyncpg.Connection
) -> None:
    live = await serve()
    me, friend = await ws(live, chat.me), await ws(live, chat.friend)
    await me.send(op="typing", channel=chat.channel, ref=1)
    assert (await me.expect("error"))["code"] == "not_subscribed"
    await me.subscribe(chat.channel)
    await friend.subscribe(chat.channel)
    await me.send(op="typing", channel=chat.channel)
    assert await friend.recv() == {
        "type": "typing",
        "channel": chat.channel,
        "profile_id": chat.me["profile_id"],
    }
    await me.nothing()
    assert (
        await db_conn.fetchval(
            "SELECT last_seq FROM conversations WHERE id = $1", chat.conversation_id
        )
        == 0
    )


async def test_read_is_stored_and_told_to_the_channel(
    serve: Serve, ws: Connect, chat: Chat, board: Board, kit: Kit
) -> None:
    live = await serve()
    me, friend = await ws(live, chat.me), await ws(live, chat.friend)
    await me.subscribe(chat.channel)
    await friend.subscribe(chat.channel)
    await friend.send(op="send", channel=chat.channel, content="Are you coming?", ref=1)
    await friend.expect("ack")
    await friend.expect("message")
    await me.expect("message")
    await me.send(op="read", channel=chat.channel, seq=1)
    event = {"type": "read", "channel": chat.channel, "profile_id": chat.me["profile_id"], "seq": 1}
    assert await friend.recv() == event
    assert await me.recv() == event  # the reader's other devices learn it too
    r = await kit.client.get("/v1/conversations", headers=bearer(chat.me))
    assert r.json()["items"][0]["unread_count"] == 0
    attendee = await ws(live, board.attendee)
    await attendee.send(op="read", channel=board.channel, seq=1, ref="x")
    assert (await attendee.expect("error"))["code"] == "invalid_channel"


async def test_people_with_a_block_are_not_delivered_live(
    serve: Serve, ws: Connect, board: Board, db_conn: asyncpg.Connection
) -> None:
    live = await serve()
    await block(db_conn, board.other, board.attendee)
    host, other = await ws(live, board.host), await ws(live, board.other)
    attendee = await ws(live, board.attendee)
    for client in (host, other, attendee):
        await client.subscribe(board.channel)
    await attendee.send(op="typing", channel=board.channel)
    await attendee.send(op="send", channel=board.channel, content="Hello all", ref=1)
    assert (await host.expect("typing"))["profile_id"] == board.attendee["profile_id"]
    assert (await host.expect("message"))["seq"] == 1
    await other.send(op="send", channel=board.channel, content="Hi host", ref=2)
    assert (await other.expect("ack"))["seq"] == 2
    assert (await other.expect("message"))["seq"] == 2  # nothing from the attendee before it
    assert (await host.expect("message"))["seq"] == 2
    await attendee.expect("ack")
    assert seqs([await attendee.expect("message")]) == [1]
    await attendee.nothing()  # nor the other way round


async def test_people_with_a_block_are_not_replayed(
    serve: Serve, ws: Connect, board: Board, kit: Kit, db_conn: asyncpg.Connection
) -> None:
    """Replays are read once for every reader of the channel (gateway/catch_up.py);
    each reader's writer leaves out whom they may not see."""
    live = await serve()
    await post(kit, board, "attendee", "from the attendee")
    await post(kit, board, "other", "from the other")
    await post(kit, board, "host", "from the host")
    await block(db_conn, board.other, board.attendee)
    for reader, expected in (
        (board.other, [2, 3]),
        (board.attendee, [1, 3]),
        (board.host, [1, 2, 3]),
    ):
        client = await ws(live, reader)
        assert (await client.subscribe(board.channel, since=0))["last_seq"] == 3
        assert seqs(await messages(client, len(expected))) == expected
        await client.nothing()


async def test_a_block_made_mid_session_hides_live_items_at_once(
    serve: Serve, ws: Connect, board: Board, db_conn: asyncpg.Connection
) -> None:
    live = await serve()
    attendee, other = await ws(live, board.attendee), await ws(live, board.other)
    for client in (attendee, other):
        await client.subscribe(board.channel)
    await other.send(op="send", channel=board.channel, content="Before", ref=1)
    assert (await attendee.expect("message"))["seq"] == 1  # seen, and remembered
    await other.expect("ack")
    await other.expect("message")
    await block(db_conn, board.attendee, board.other)
    # The block's notification reaches the process (no resubscribe needed).
    visibility = live.app.state.realtime.visibility
    reader, author = uuid.UUID(board.attendee["user_id"]), uuid.UUID(board.other["user_id"])

    async def forgotten() -> bool:
        return not visibility.remembers(reader, author)

    await until(forgotten)
    await other.send(op="send", channel=board.channel, content="After", ref=2)
    assert (await other.expect("ack"))["seq"] == 2
    host = await ws(live, board.host)
    await host.subscribe(board.channel, since=2)
    await host.send(op="send", channel=board.channel, content="Host", ref=3)
    assert (await attendee.expect("message"))["seq"] == 3  # nothing from the blocked before it


async def test_notifications_reach_every_connection_of_their_user(
    serve: Serve, ws: Connect, chat: Chat
) -> None:
    live = await serve()
    phone, tablet = await ws(live, chat.me), await ws(live, chat.me)
    friend = await ws(live, chat.friend)
    data = {"kind": "invitation", "event_id": str(uuid.uuid4())}
    await live.app.state.fanout.notify_user(uuid.UUID(chat.me["user_id"]), data)
    for client in (phone, tablet):
        assert await client.recv() == {"type": "notification", "data": data}
    await friend.nothing()


async def test_unsubscribe_and_the_channel_limit(
    serve: Serve, ws: Connect, board: Board, chat: Chat, kit: Kit
) -> None:
    live = await serve(ws_max_channels=1)
    await kit.invite({"id": str(board.event_id)}, chat.me, "confirmed")
    me = await ws(live, chat.me)
    await me.subscribe(chat.channel)
    await me.subscribe(chat.channel)  # again: still one
    await me.send(op="subscribe", channel=board.channel, ref="second")
    assert await me.recv() == {
        "type": "error",
        "code": "too_many_channels",
        "detail": "At most 1 channels",
        "ref": "second",
    }
    await me.send(op="unsubscribe", channel=chat.channel, ref="u")
    assert await me.recv() == {"type": "unsubscribed", "channel": chat.channel, "ref": "u"}
    await me.subscribe(board.channel)
    friend = await ws(live, chat.friend)
    await friend.send(op="send", channel=chat.channel, content="Hello?", ref=1)
    await friend.expect("ack")
    await me.nothing()


async def test_presence_follows_connections_and_subscriptions(
    serve: Serve, ws: Connect, chat: Chat, settings: Any
) -> None:
    live = await serve()
    presence = live.app.state.presence
    user_id = uuid.UUID(chat.me["user_id"])
    redis = live.app.state.redis
    prefix = settings.redis_key_prefix

    async def watching(channel: str) -> bool:
        local = await is_watching(presence, user_id, channel)
        shared = await is_watching(redis, user_id, channel, prefix) if redis else local
        assert local == shared
        return local

    assert not await watching(CONNECTED)
    me = await ws(live, chat.me)
    assert await watching(CONNECTED)
    assert not await watching(chat.channel)
    await me.subscribe(chat.channel)
    assert await watching(chat.channel)
    await me.send(op="unsubscribe", channel=chat.channel)
    await me.expect("unsubscribed")
    assert not await watching(chat.channel)
    await me.subscribe(chat.channel)
    await me.close()

    async def gone() -> bool:
        return not await watching(CONNECTED) and not await watching(chat.channel)

    await until(gone)


async def test_shutdown_closes_every_connection_with_1012(
    serve: Serve, ws: Connect, chat: Chat
) -> None:
    live = await serve()
    me, friend = await ws(live, chat.me), await ws(live, chat.friend)
    await me.subscribe(chat.channel)
    live.server.should_exit = True
    assert await me.closed() == 1012
    assert await friend.closed() == 1012


async def test_without_redis_one_process_does_it_all_in_memory(
    serve: Serve, ws: Connect, chat: Chat
) -> None:
    live = await serve(without_redis=True)
    assert live.app.state.redis is None
    me, friend = await ws(live, chat.me), await ws(live, chat.friend)
    await me.subscribe(chat.channel)
    await friend.subscribe(chat.channel, since=0)
    await me.send(op="send", channel=chat.channel, content="Local", ref=1)
    assert (await me.expect("ack"))["seq"] == 1
    assert (await friend.expect("message"))["data"]["content"] == "Local"
    await friend.send(op="typing", channel=chat.channel)
    assert (await me.expect("message"))["seq"] == 1
    assert (await me.expect("typing"))["profile_id"] == chat.friend["profile_id"]
    user_id = uuid.UUID(chat.friend["user_id"])
    assert await is_watching(live.app.state.presence, user_id, chat.channel)
    await live.app.state.fanout.notify_user(user_id, {"kind": "payment"})
    assert await friend.recv() == {"type": "notification", "data": {"kind": "payment"}}


async def test_rest_posts_and_reads_arrive_live(
    serve: Serve, ws: Connect, board: Board, chat: Chat, kit: Kit
) -> None:
    # `kit.client` is another app instance: what it publishes reaches this
    # server through Redis, as between two processes.
    live = await serve()
    host, me = await ws(live, board.host), await ws(live, chat.me)
    await host.subscribe(board.channel)
    await me.subscribe(chat.channel)
    created = await post(kit, board, content="Doors at seven")
    assert await host.recv() == {
        "type": "message",
        "channel": board.channel,
        "seq": 1,
        "data": created,
    }
    r = await kit.client.post(
        f"/v1/conversations/{chat.conversation_id}/read",
        headers=bearer(chat.friend),
        json={"seq": 0},
    )
    assert r.status_code == 204
    assert await me.recv() == {
        "type": "read",
        "channel": chat.channel,
        "profile_id": chat.friend["profile_id"],
        "seq": 0,
    }


async def test_a_host_without_a_social_profile_follows_and_writes_the_board(
    serve: Serve, ws: Connect, kit: Kit
) -> None:
    community = await kit.community_host("The Winslow")
    attendee = await kit.person("Attendee")
    event = await kit.published(community, stops=[kit.stop(community["location_id"], 48)])
    await kit.invite(event, attendee, "confirmed")
    channel = f"event:{event['id']}"
    live = await serve()
    host, guest = await ws(live, community), await ws(live, attendee)
    assert (await host.subscribe(channel))["type"] == "subscribed"
    await guest.subscribe(channel)
    await host.send(op="send", channel=channel, content="Doors at 7", client_id=None, ref="h")
    assert (await host.expect("ack"))["seq"] == 1
    assert (await host.expect("message"))["seq"] == 1  # the sender's own live copy
    delivered = (await guest.expect("message"))["data"]
    assert (delivered["content"], delivered["author_profile_id"]) == ("Doors at 7", None)
    assert (delivered["author_host_id"], delivered["author_host_name"]) == (
        community["host_id"],
        "The Winslow",
    )
    # The host's typing reaches the others signed by the host profile, not back to the host.
    await host.send(op="typing", channel=channel)
    assert await guest.recv() == {
        "type": "typing",
        "channel": channel,
        "profile_id": None,
        "host_id": community["host_id"],
    }
    await guest.send(op="send", channel=channel, content="See you", client_id=None, ref="g")
    assert (await host.recv())["data"]["content"] == "See you"  # no typing echo before it
