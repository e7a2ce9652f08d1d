"""Signing a WebSocket in: header or first frame, refresh, expiry, refusals (4001)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest

from tests.realtime.steps import Connect, Serve, token

SignIn = Any


async def test_the_authorization_header_signs_in(
    serve: Serve, ws: Connect, sign_in: SignIn
) -> None:
    live = await serve()
    me = await sign_in()
    client = await ws(live, me)  # reads {"type":"ready","user_id":...}
    await client.send(op="ping")
    assert await client.recv() == {"type": "pong"}


async def test_a_first_auth_frame_signs_in(serve: Serve, ws: Connect, sign_in: SignIn) -> None:
    live = await serve()
    me = await sign_in()
    client = await ws(live, None)
    await client.send(op="auth", token=me["access_token"])
    assert await client.recv() == {"type": "ready", "user_id": me["user_id"]}


@pytest.mark.parametrize(
    "first",
    [{"op": "ping"}, {"op": "auth", "token": "not-a-token"}, {"op": "auth"}, "garbage"],
)
async def test_anything_else_first_closes_with_4001(serve: Serve, ws: Connect, first: Any) -> None:
    live = await serve()
    client = await ws(live, None)
    if isinstance(first, str):
        await client.ws.send(first)
    else:
        await client.send(**first)
    assert await client.closed() == 4001


async def test_silence_closes_with_4001_after_five_seconds(serve: Serve, ws: Connect) -> None:
    live = await serve()
    client = await ws(live, None)
    started = asyncio.get_running_loop().time()
    assert await client.closed() == 4001
    assert 4.5 < asyncio.get_running_loop().time() - started < 8


async def test_bad_expired_or_revoked_tokens_close_with_4001(
    serve: Serve, ws: Connect, sign_in: SignIn, db_conn: asyncpg.Connection
) -> None:
    live = await serve()
    me = await sign_in()
    for bad in ("nope", token(me, -60), token(me, 600)[:-2] + "xx"):
        client = await ws(live, {"access_token": bad}, ready=False)
        assert await client.closed() == 4001
    await db_conn.execute(
        "UPDATE users SET status = 'suspended' WHERE id = $1", uuid.UUID(me["user_id"])
    )
    client = await ws(live, me, ready=False)
    assert await client.closed() == 4001


async def test_the_connection_closes_when_its_token_expires(
    serve: Serve, ws: Connect, sign_in: SignIn
) -> None:
    live = await serve()
    me = await sign_in()
    client = await ws(live, {**me, "access_token": token(me, 1.5)})
    assert await client.closed(seconds=5) == 4001


async def test_a_fresh_token_keeps_the_connection(
    serve: Serve, ws: Connect, sign_in: SignIn
) -> None:
    live = await serve()
    me = await sign_in()
    client = await ws(live, {**me, "access_token": token(me, 1.5)})
    await client.send(op="auth", token=token(me, 600))
    assert await client.recv() == {"type": "ready", "user_id": me["user_id"]}
    await asyncio.sleep(2.5)
    await client.send(op="ping", ref=7)
    assert await client.recv() == {"type": "pong", "ref": 7}


async def test_a_bad_or_foreign_token_on_the_live_connection_is_refused(
    serve: Serve, ws: Connect, sign_in: SignIn
) -> None:
    live = await serve()
    me, someone = await sign_in(), await sign_in()
    client = await ws(live, me)
    await client.send(op="auth", token="nope")
    assert (await client.expect("error"))["code"] == "invalid_token"
    await client.send(op="auth", token=someone["access_token"])
    assert (await client.expect("error"))["code"] == "invalid_token"
    await client.send(op="ping")
    assert await client.recv() == {"type": "pong"}


async def test_suspension_or_logout_closes_live_connections_with_4001(
    serve: Serve, ws: Connect, sign_in: SignIn, client: Any, db_conn: asyncpg.Connection
) -> None:
    live = await serve()
    suspended, leaving, staying = await sign_in(), await sign_in(), await sign_in()
    sockets = [await ws(live, person) for person in (suspended, leaving, staying)]
    await db_conn.execute(
        "UPDATE users SET status = 'suspended' WHERE id = $1", uuid.UUID(suspended["user_id"])
    )
    assert await sockets[0].closed(seconds=5) == 4001
    r = await client.post("/v1/auth/logout", json={"refresh_token": leaving["refresh_token"]})
    assert r.status_code == 204
    assert await sockets[1].closed(seconds=5) == 4001
    await sockets[2].send(op="ping")
    assert await sockets[2].recv() == {"type": "pong"}
