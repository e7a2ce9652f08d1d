"""The app factory: `uvicorn server.app:create_app --factory`."""

from __future__ import annotations

from litestar import Litestar
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins import PluginProtocol
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.prometheus import PrometheusController
from litestar.template.config import TemplateConfig

from gateway.plugin import RealtimePlugin
from gateway.routes import ws_gateway
from server.accounts.routes import MeController
from server.admin.routes import AdminController
from server.attendance.routes import AttendanceController
from server.auth.middleware import BearerAuthMiddleware
from server.auth.routes import AuthController
from server.boards.routes import BoardController
from server.connections.routes import ConnectionsController
from server.conversations.routes import ConversationController
from server.deps import provide_settings
from server.errors import exception_handlers
from server.events.routes import EventController
from server.feedback.routes import FeedbackController
from server.gallery.routes import gallery_router
from server.health.routes import health, ready
from server.hosts.routes import HostController
from server.http_options import AllowedMethodsMiddleware
from server.interests.routes import InterestsController
from server.invitations.routes import InvitationController
from server.locations.routes import LocationsController
from server.logging import configure_logging
from server.notifications.routes import NotificationsController
from server.openapi import finish_document
from server.pagination import provide_page_params
from server.payments.plugin import PaymentsPlugin
from server.payments.routes import StripeWebhookController
from server.photos.routes import photo_router
from server.plugins import AuthPlugin, DatabasePlugin, ListenPlugin, RedisPlugin, WorkersPlugin
from server.profiles.routes import SocialProfileController
from server.request_context import RequestContextMiddleware, finish_request
from server.safety.routes import SafetyController
from server.settings import Settings, load_settings
from server.social.routes import SocialController
from server.staff.routes import TEMPLATES, staff_router
from server.storage.plugin import StoragePlugin
from server.strict_body import strict_json_body
from server.support.routes import SupportController
from server.waitlist.routes import join_waitlist


class MetricsController(PrometheusController):
    path = "/metrics"
    opt = {"exclude_from_auth": True}
    include_in_schema = False


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    plugins: list[PluginProtocol] = [
        DatabasePlugin(settings),
        RedisPlugin(settings),
        AuthPlugin(settings),
        StoragePlugin(settings),
        PaymentsPlugin(settings),
        RealtimePlugin(settings),
    ]
    if settings.run_workers_in_web:
        plugins.append(WorkersPlugin())
    plugins.append(ListenPlugin(settings))  # after every plugin that registers a channel
    return Litestar(
        route_handlers=[
            health,
            ready,
            MetricsController,
            AuthController,
            join_waitlist,
            MeController,
            photo_router(settings),
            gallery_router(settings),
            AdminController,
            SocialProfileController,
            HostController,
            EventController,
            InvitationController,
            AttendanceController,
            FeedbackController,
            ConnectionsController,
            SocialController,
            StripeWebhookController,
            InterestsController,
            LocationsController,
            SafetyController,
            SupportController,
            NotificationsController,
            ws_gateway,
            BoardController,
            ConversationController,
            staff_router(settings),
        ],
        plugins=plugins,
        dependencies={
            "page": Provide(provide_page_params, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        middleware=[
            RequestContextMiddleware,
            AllowedMethodsMiddleware,
            DefineMiddleware(
                BearerAuthMiddleware,
                exclude=["^/schema"],
                exclude_from_auth_key="exclude_from_auth",
            ),
        ],
        before_request=strict_json_body,
        before_send=[finish_request],
        on_startup=[finish_document],
        exception_handlers=exception_handlers,
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
        request_max_body_size=settings.max_request_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Momento API",
            version="1.0.0",
            path="/schema",
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"BearerToken": []}],
        ),
        debug=False,
    )
