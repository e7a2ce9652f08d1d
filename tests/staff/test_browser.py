"""The staff console in a real browser (the system's Chromium, through
Playwright): signing in and out, and the accessibility basics of each page.
Screenshots go to test-artefacts/ (MOMENTO_TEST_ARTEFACTS), not the repo."""

from __future__ import annotations

from builders import Kit
from helpers import TEST_OTP_CODE, bearer
from playwright.async_api import Browser, Page
from staff.conftest import ARTEFACTS, StaffFactory, file_report

PHONE_WIDTH = {"width": 390, "height": 844}


async def assert_accessible_basics(page: Page) -> None:
    """A title, the header/main/footer landmarks, and a label for every control."""
    assert (await page.title()).strip()
    for landmark in ("banner", "main", "contentinfo"):
        assert await page.get_by_role(landmark).count() == 1, landmark
    unlabelled = await page.eval_on_selector_all(
        "input:not([type=hidden]), select, textarea",
        """els => els.filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
                     .map(e => e.name || e.id)""",
    )
    assert unlabelled == []


async def shoot(page: Page, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


async def test_a_moderator_signs_in_and_out_in_the_browser(
    browser: Browser, live_url: str, staff: StaffFactory
) -> None:
    member = await staff("moderator")
    for viewport, suffix in ((None, ""), (PHONE_WIDTH, "-phone")):
        context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        page = await context.new_page()
        await page.goto(f"{live_url}/staff")
        assert page.url.endswith("/staff/sign-in")  # signed out: sent to sign in
        await assert_accessible_basics(page)
        await shoot(page, f"staff-sign-in{suffix}")
        await page.get_by_label("Phone number").fill(member["phone"])
        await page.get_by_role("button", name="Send a code").click()
        await assert_accessible_basics(page)
        await page.get_by_label("Code").fill(TEST_OTP_CODE)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(f"{live_url}/staff")
        assert "moderator" in await page.get_by_role("main").inner_text()
        await assert_accessible_basics(page)
        await shoot(page, f"staff-home{suffix}")
        await page.get_by_role("button", name="Sign out").click()
        await page.wait_for_url(f"{live_url}/staff/sign-in")
        await page.goto(f"{live_url}/staff")
        assert page.url.endswith("/staff/sign-in")
        await context.close()


async def test_a_wrong_code_is_said_on_the_page(
    browser: Browser, live_url: str, staff: StaffFactory
) -> None:
    member = await staff("support")
    page = await browser.new_page()
    await page.goto(f"{live_url}/staff/sign-in")
    await page.get_by_label("Phone number").fill(member["phone"])
    await page.get_by_role("button", name="Send a code").click()
    await page.get_by_label("Code").fill("000000")
    await page.get_by_role("button", name="Sign in").click()
    assert "wrong or has expired" in await page.get_by_role("alert").inner_text()
    await page.close()


async def sign_in_page(browser: Browser, live_url: str, phone: str) -> Page:
    page = await browser.new_page()
    await page.goto(f"{live_url}/staff/sign-in")
    await page.get_by_label("Phone number").fill(phone)
    await page.get_by_role("button", name="Send a code").click()
    await page.get_by_label("Code").fill(TEST_OTP_CODE)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{live_url}/staff")
    return page


async def test_a_moderator_works_a_report_and_suspends_the_person(
    browser: Browser, live_url: str, staff: StaffFactory, kit: Kit
) -> None:
    reporter, reported = await kit.person("Riley"), await kit.person("Drew")
    await file_report(
        kit, reporter, reported, "harassment", "Kept messaging after I asked them to stop."
    )
    moderator = await staff("moderator")
    page = await sign_in_page(browser, live_url, moderator["phone"])

    await page.get_by_role("link", name="Reports").click()
    await assert_accessible_basics(page)
    await shoot(page, "staff-reports")
    await page.get_by_role("row", name="harassment").get_by_role("link").click()
    assert "Kept messaging" in await page.get_by_role("main").inner_text()
    await assert_accessible_basics(page)
    await page.get_by_label("Action").select_option("suspended")
    await page.get_by_label("Reason").fill("Harassment after being asked to stop")
    await page.get_by_role("button", name="Apply").click()
    main = page.get_by_role("main")
    assert "account suspended" in await main.inner_text()
    assert "Harassment after being asked to stop" in await main.inner_text()  # history
    await shoot(page, "staff-report")

    # The person's next API call is refused.
    me = await kit.client.get("/v1/me", headers=bearer(reported))
    assert me.status_code == 403 and me.json()["code"] == "account_suspended"
    await page.get_by_role("button", name="Save decision").click()  # keeps the status

    # An admin's audit log shows it, with the moderator and the reason.
    admin = await staff("admin")
    admin_page = await sign_in_page(browser, live_url, admin["phone"])
    await admin_page.get_by_role("link", name="Audit log").click()
    row = admin_page.get_by_role("row", name="user.update")
    assert moderator["user_id"] in await row.inner_text()
    assert "Harassment after being asked to stop" in await row.inner_text()
    await assert_accessible_basics(admin_page)
    await shoot(admin_page, "staff-audit")
