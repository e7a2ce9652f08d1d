"""The staff console's pages (/staff): sign-in with the API's phone codes, a
cookie session, and the pages behind it. Server-rendered, no script.

Every form carries a CSRF token (Litestar's CSRF middleware, on this router
only: the API uses bearer tokens, which a browser never sends by itself), and
every page a strict Content-Security-Policy.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from pathlib import Path
from typing import Any, cast, get_args

from litestar import Request, Response, Router, get, post
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.utils.scope.state import ScopeState

from db.queries import admin as admin_q
from server.admin import service as admin
from server.admin.guards import role_allowed
from server.admin.schemas import ReportPatch, StaffRole, UserPatch, UserStatus
from server.auth.phone import us_phone
from server.auth.routes import client_ip
from server.deps import AppSettings, AuthRules, DbConnection
from server.errors import ApiError
from server.pagination import DEFAULT_LIMIT, PageParams
from server.safety.schemas import ReportCategory, ReportStatus
from server.settings import Settings
from server.staff import service
from server.staff.service import StaffMember

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
SIGN_IN = "/staff/sign-in"
CSRF_COOKIE = "momento_staff_csrf"

Staff = NamedDependency[StaffMember]

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _page(
    request: Request[Any, Any, Any], name: str, http_status: int = 200, /, **context: Any
) -> Template:
    return Template(
        template_name=name,
        context={"csrf_token": ScopeState.from_scope(request.scope).csrf_token, **context},
        status_code=http_status,
    )


async def provide_staff(
    request: Request[Any, Any, Any], auth: AuthRules, conn: DbConnection, settings: AppSettings
) -> StaffMember:
    member = await service.current_staff(
        auth, conn, request.cookies.get(service.COOKIE), settings.staff_session_idle_minutes
    )
    if member is None:
        raise NotAuthorizedException()
    return member


def _to_sign_in(_: Request[Any, Any, Any], __: NotAuthorizedException) -> Response[Any]:
    """A browser without a valid console session is sent to sign in."""
    return Redirect(SIGN_IN, status_code=HTTP_303_SEE_OTHER, headers=SECURITY_HEADERS)


@get("/sign-in", name="staff-sign-in")
async def sign_in_page(request: Request[Any, Any, Any]) -> Template:
    return _page(request, "sign_in.html", step="phone")


@post("/sign-in", status_code=200)
async def send_code(
    request: Request[Any, Any, Any], auth: AuthRules, conn: DbConnection
) -> Template:
    form = await request.form()
    phone = str(form.get("phone_number", "")).strip()
    try:
        await service.send_code(auth, conn, phone, client_ip(request))
    except ApiError as exc:
        return _page(
            request, "sign_in.html", exc.status, step="phone", phone=phone, error=exc.detail
        )
    return _page(request, "sign_in.html", step="code", phone=phone)


@post("/verify", status_code=200)
async def verify(
    request: Request[Any, Any, Any], auth: AuthRules, conn: DbConnection, settings: AppSettings
) -> Response[Any]:
    form = await request.form()
    phone, code = str(form.get("phone_number", "")).strip(), str(form.get("code", "")).strip()
    try:
        token = await service.sign_in(
            auth, conn, phone, code, client_ip(request), request.headers.get("user-agent")
        )
    except ApiError as exc:
        step = "phone" if exc.code == "staff_only" else "code"
        return _page(request, "sign_in.html", exc.status, step=step, phone=phone, error=exc.detail)
    return Redirect(
        "/staff",
        status_code=HTTP_303_SEE_OTHER,
        cookies=[_session_cookie(settings, token)],
    )


def _session_cookie(settings: Settings, token: str, max_age: int | None = None) -> Cookie:
    return Cookie(
        key=service.COOKIE,
        value=token,
        path="/staff",
        httponly=True,
        samesite="strict",
        secure=settings.is_production,
        max_age=max_age,
    )


@get("/", name="staff-home")
async def home(request: Request[Any, Any, Any], staff: Staff) -> Template:
    return _page(request, "home.html", staff=staff)


@post("/sign-out", status_code=200)
async def sign_out(
    request: Request[Any, Any, Any], conn: DbConnection, settings: AppSettings
) -> Response[Any]:
    await service.sign_out(conn, request.cookies.get(service.COOKIE))
    return Redirect(
        SIGN_IN,
        status_code=HTTP_303_SEE_OTHER,
        cookies=[_session_cookie(settings, "", max_age=0)],
    )


REPORT_STATUSES: tuple[str, ...] = get_args(ReportStatus)
REPORT_CATEGORIES: tuple[str, ...] = get_args(ReportCategory)
# What the console's account form may set, and the words for it.
ACCOUNT_ACTIONS = {"suspended": "Suspend", "banned": "Ban", "active": "Reinstate"}


def _allow(staff: StaffMember, *roles: StaffRole) -> None:
    if not role_allowed(staff.role, roles):
        raise ApiError(403, "insufficient_role", f"The {staff.role} role may not do this")


def _error_page(request: Request[Any, Any, Any], exc: ApiError) -> Response[Any]:
    """Errors behind sign-in as a page, with the API's status."""
    page = _page(request, "error.html", exc.status, error=exc.detail, code=exc.code)
    page.headers.update(SECURITY_HEADERS)  # exception handlers' responses skip the router's
    return page


def _choice(value: str | None, allowed: tuple[str, ...], name: str) -> str | None:
    if not value:
        return None
    if value not in allowed:
        raise ApiError(422, "validation_error", f"Unknown {name}: {value}")
    return value


@get("/reports")
async def reports(
    request: Request[Any, Any, Any],
    staff: Staff,
    conn: DbConnection,
    status: FromQuery[str | None] = "pending",
    category: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Template:
    _allow(staff, "moderator")
    chosen = _choice(status, REPORT_STATUSES, "status")
    kind = _choice(category, REPORT_CATEGORIES, "category")
    page = await admin.reports_queue(
        conn,
        cast(ReportStatus | None, chosen),
        kind,
        PageParams(limit=DEFAULT_LIMIT, cursor=cursor),
    )
    counts = await admin_q.report_counts(conn, kind)
    return _page(
        request,
        "reports.html",
        staff=staff,
        page=page,
        counts=counts,
        status=chosen or "",
        category=kind or "",
        statuses=REPORT_STATUSES,
        categories=REPORT_CATEGORIES,
    )


@get("/reports/{report_id:uuid}")
async def report(
    request: Request[Any, Any, Any],
    report_id: FromPath[uuid.UUID],
    staff: Staff,
    conn: DbConnection,
) -> Template:
    _allow(staff, "moderator")
    found = await admin.get_report(conn, report_id)
    person = (
        await admin.get_user(conn, found.reported.user_id, staff.role) if found.reported else None
    )
    return _page(
        request,
        "report.html",
        staff=staff,
        report=found,
        person=person,
        statuses=REPORT_STATUSES,
        account_actions=ACCOUNT_ACTIONS,
    )


@post("/reports/{report_id:uuid}/status", status_code=200)
async def set_report_status(
    request: Request[Any, Any, Any],
    report_id: FromPath[uuid.UUID],
    staff: Staff,
    conn: DbConnection,
) -> Response[Any]:
    _allow(staff, "moderator")
    form = await request.form()
    status = _choice(str(form.get("status", "")), REPORT_STATUSES, "status")
    if status is None:
        raise ApiError(422, "validation_error", "Choose a status")
    note = str(form.get("note", "")).strip()[:2000] or None
    patch = ReportPatch(status=cast(ReportStatus, status), note=note)
    await admin.update_report(conn, staff.user_id, report_id, patch)
    return Redirect(f"/staff/reports/{report_id}", status_code=HTTP_303_SEE_OTHER)


@post("/users/{user_id:uuid}/status", status_code=200)
async def set_account_status(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], staff: Staff, conn: DbConnection
) -> Response[Any]:
    """Suspend, ban or reinstate, always with a reason (kept in the audit log)."""
    _allow(staff, "moderator")
    form = await request.form()
    status = _choice(str(form.get("status", "")), tuple(ACCOUNT_ACTIONS), "action")
    reason = str(form.get("reason", "")).strip()[:2000]
    if status is None or not reason:
        raise ApiError(422, "validation_error", "Choose an action and give a reason")
    patch = UserPatch(status=cast(UserStatus, status))
    await admin.update_user(conn, staff.user_id, staff.role, user_id, patch, reason)
    back = str(form.get("back", ""))
    return Redirect(
        back if back.startswith("/staff/") else f"/staff/people/{user_id}",
        status_code=HTTP_303_SEE_OTHER,
    )


@get("/people")
async def find_person(
    request: Request[Any, Any, Any],
    staff: Staff,
    conn: DbConnection,
    q: FromQuery[str | None] = None,
) -> Response[Any]:
    """Look a person up by phone number, user_number or profile id."""
    query = (q or "").strip()
    if not query:
        return _page(request, "people.html", staff=staff, query="")
    phone = number = profile_id = None
    if query.isdigit() and len(query) < 10:
        number = int(query)
    else:
        try:
            profile_id = uuid.UUID(query)
        except ValueError:
            try:
                phone = us_phone(query)
            except ApiError:
                phone = None
    user_id = await admin_q.find_user(conn, phone, number, profile_id)
    if user_id is None:
        return _page(request, "people.html", 404, staff=staff, query=query, missing=True)
    return Redirect(f"/staff/people/{user_id}", status_code=HTTP_303_SEE_OTHER)


@get("/people/{user_id:uuid}")
async def person(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], staff: Staff, conn: DbConnection
) -> Template:
    """As much of the account as the role may see (admin.get_user decides)."""
    return _page(
        request,
        "person.html",
        staff=staff,
        person=await admin.get_user(conn, user_id, staff.role),
        account_actions=ACCOUNT_ACTIONS,
        may_moderate=role_allowed(staff.role, ("moderator",)),
    )


@get("/audit")
async def audit(
    request: Request[Any, Any, Any],
    staff: Staff,
    conn: DbConnection,
    target_id: FromQuery[str | None] = None,
    staff_user_id: FromQuery[uuid.UUID | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Template:
    _allow(staff, "admin")
    page = await admin.list_actions(
        conn,
        None,
        target_id or None,
        PageParams(limit=DEFAULT_LIMIT, cursor=cursor),
        staff_user_id,
    )
    return _page(
        request,
        "audit.html",
        staff=staff,
        page=page,
        target_id=target_id or "",
        staff_user_id=staff_user_id or "",
    )


def staff_router(settings: Settings) -> Router:
    # A key of its own, derived from the app's secret (never the secret itself).
    csrf_secret = hmac.new(settings.jwt_secret.encode(), b"staff-console-csrf", hashlib.sha256)
    csrf = CSRFConfig(
        secret=csrf_secret.hexdigest(),
        cookie_name=CSRF_COOKIE,
        cookie_path="/staff",
        cookie_secure=settings.is_production,
        cookie_samesite="strict",
        cookie_httponly=True,
    )
    return Router(
        path="/staff",
        route_handlers=[
            sign_in_page,
            send_code,
            verify,
            home,
            sign_out,
            reports,
            report,
            set_report_status,
            set_account_status,
            find_person,
            person,
            audit,
            create_static_files_router(path="/static", directories=[HERE / "static"]),
        ],
        dependencies={"staff": Provide(provide_staff)},
        middleware=[DefineMiddleware(CSRFMiddleware, config=csrf)],
        exception_handlers={NotAuthorizedException: _to_sign_in, ApiError: _error_page},
        opt={"exclude_from_auth": True},
        # On every handler's response, static files included (the two exception
        # handlers add them themselves: Litestar does not apply these to theirs).
        response_headers=SECURITY_HEADERS,
        include_in_schema=False,
    )
