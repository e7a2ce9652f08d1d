"""Staff console fixtures: a staff member, a signed-in console client, and a
real server and Chromium for the browser tests."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import uvicorn
from builders import Kit
from helpers import TEST_OTP_CODE, bearer
from litestar.testing import AsyncTestClient
from playwright.async_api import Browser, async_playwright

from server.app import create_app
from server.settings import Settings

Client = AsyncTestClient[Any]
StaffFactory = Callable[..., Awaitable[dict[str, Any]]]
ARTEFACTS = Path(os.environ.get("MOMENTO_TEST_ARTEFACTS", "test-artefacts"))


def csrf_token(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


@pytest.fixture
def staff(sign_in: Any, db_conn: asyncpg.Connection) -> StaffFactory:
    """A person signed in to the API who is also staff with `role`."""

    async def _staff(role: str = "moderator") -> dict[str, Any]:
        tokens: dict[str, Any] = await sign_in()
        await db_conn.execute(
            "INSERT INTO staff_accounts (user_id, role) VALUES ($1, $2)",
            uuid.UUID(tokens["user_id"]),
            role,
        )
        phone = await db_conn.fetchval(
            "SELECT phone_number FROM users WHERE id = $1", uuid.UUID(tokens["user_id"])
        )
        return {**tokens, "phone": phone}

    return _staff


async def file_report(
    kit: Kit, reporter: dict[str, Any], reported: dict[str, Any], category: str, comments: str
) -> dict[str, Any]:
    """A report filed through the API, as the app files it; its body."""
    filed = await kit.client.post(
        "/v1/reports",
        headers=bearer(reporter),
        json={
            "reported_profile_id": reported["profile_id"],
            "category": category,
            "comments": comments,
        },
    )
    assert filed.status_code == 201, filed.text
    body: dict[str, Any] = filed.json()
    return body


async def console_sign_in(client: Client, phone: str) -> Any:
    """Through the console's forms: the last response (the redirect home on success)."""
    page = await client.get("/staff/sign-in")
    sent = await client.post(
        "/staff/sign-in",
        data={"_csrf_token": csrf_token(page.text), "phone_number": phone},
    )
    return await client.post(
        "/staff/verify",
        data={"_csrf_token": csrf_token(sent.text), "phone_number": phone, "code": TEST_OTP_CODE},
        follow_redirects=False,
    )


@pytest.fixture
async def live_url(settings: Settings) -> AsyncIterator[str]:
    """The app on a real port, for the browser."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_config=None, access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    await asyncio.wait_for(task, 30)


def chromium_path() -> str:
    """The system's Chromium (Playwright's own download is not used):
    CHROMIUM_PATH, else chromium or chromium-browser on the PATH."""
    given = os.environ.get("CHROMIUM_PATH")
    found = given or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail(
            "no Chromium: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH",
            pytrace=False,
        )
    return found


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium_path())
        yield launched
        await launched.close()
