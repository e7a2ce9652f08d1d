"""StoragePlugin: puts the configured file store on `app.state.storage`.

S3-compatible storage when `S3_BUCKET` is set, else the local disk under
`<MOMENTO_DATA_DIR>/media` together with the `GET /media/{key}` route that
serves it. Handlers ask for it as `storage: FileStorage`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.plugins import InitPluginProtocol

from server.deps import provide_storage
from server.settings import Settings
from server.storage import Storage
from server.storage.local import LocalStorage, serve_media
from server.storage.s3 import S3Storage


def build_storage(settings: Settings) -> Storage:
    if settings.uses_s3:
        assert settings.s3_bucket
        return S3Storage(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            url_ttl_seconds=settings.s3_url_ttl_seconds,
        )
    return LocalStorage(settings.data_dir / "media", settings.media_base_url)


@contextlib.contextmanager
def open_storage(settings: Settings) -> Iterator[Storage]:
    """The configured storage, closed (S3 connections) when done."""
    storage = build_storage(settings)
    try:
        yield storage
    finally:
        if isinstance(storage, S3Storage):
            storage.close()


class StoragePlugin(InitPluginProtocol):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        with open_storage(self.settings) as storage:
            app.state.storage = storage
            yield

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.lifespan.append(self.lifespan)
        app_config.dependencies["storage"] = Provide(provide_storage, sync_to_thread=False)
        if not self.settings.uses_s3:
            app_config.route_handlers.append(serve_media)
        return app_config
