"""/v1/events/{id}/photos: the event gallery (mounted by `gallery_router`, with
the photo routes' body limit and upload errors)."""

from __future__ import annotations

import uuid

from litestar import Controller, Router, delete, get, patch, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody, MultipartBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from server.deps import AppSettings, Caller, DbConnection, FileStorage, PageRequest
from server.errors import AUTH_PROBLEMS, problems
from server.gallery import service
from server.gallery.schemas import GalleryPhoto, GalleryPhotoPatch, GalleryUpload
from server.pagination import Page
from server.photos.routes import (
    MULTIPART_OVERHEAD_BYTES,
    UPLOAD_422,
    UPLOAD_ERRORS,
    max_photo_bytes,
    read_upload,
)
from server.settings import Settings

_GALLERY = {
    **AUTH_PROBLEMS,
    **problems(
        s403="not_attended (recorded as not coming), account_suspended",
        s404="not_found (no such event, or not yours to know)",
        s409="gallery_not_open",
    ),
}


class GalleryController(Controller):
    path = "/v1/events/{event_id:uuid}/photos"
    tags = ["event gallery"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Add a photo to the event's gallery",
        description=(
            "multipart/form-data with the image in `file`, through the profile photo pipeline "
            "(type from the bytes, location and metadata removed, a thumbnail). For the host, "
            "collaborators and people who attended, from the event's start; at most "
            "EVENT_PHOTOS_PER_PERSON each."
        ),
        exception_handlers=UPLOAD_ERRORS,
        responses={
            **_GALLERY,
            **problems(
                s409="gallery_not_open, too_many_photos", s413="photo_too_large", s422=UPLOAD_422
            ),
        },
    )
    async def upload(
        self,
        event_id: FromPath[uuid.UUID],
        data: MultipartBody[GalleryUpload],
        current_user: Caller,
        conn: DbConnection,
        storage: FileStorage,
        settings: AppSettings,
        state: State,
    ) -> GalleryPhoto:
        content = await read_upload(data.file, max_photo_bytes(state))
        return await service.upload(conn, storage, settings, current_user.id, event_id, content)

    @get(
        "/",
        summary="The event's gallery, newest first",
        description=(
            "Hidden photos only for the host and their uploader; never photos of someone with "
            "a block either way with me."
        ),
        responses={**_GALLERY, **problems(s422="validation_error, invalid_cursor")},
    )
    async def list_photos(
        self,
        event_id: FromPath[uuid.UUID],
        current_user: Caller,
        conn: DbConnection,
        storage: FileStorage,
        page: PageRequest,
    ) -> Page[GalleryPhoto]:
        return await service.list_photos(conn, storage, current_user.id, event_id, page)

    @patch(
        "/{photo_id:uuid}",
        summary="Hide or show a gallery photo (the host)",
        responses={
            **_GALLERY,
            **problems(
                s403="forbidden (not the host), not_attended, account_suspended",
                s404="not_found (no such event or photo)",
                s422="validation_error",
            ),
        },
    )
    async def moderate(
        self,
        event_id: FromPath[uuid.UUID],
        photo_id: FromPath[uuid.UUID],
        data: JSONBody[GalleryPhotoPatch],
        current_user: Caller,
        conn: DbConnection,
        storage: FileStorage,
    ) -> GalleryPhoto:
        return await service.moderate(conn, storage, current_user.id, event_id, photo_id, data)

    @delete(
        "/{photo_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete a gallery photo (its uploader or the host)",
        responses={
            **_GALLERY,
            **problems(
                s403="forbidden (neither uploader nor host), not_attended, account_suspended",
                s404="not_found (no such event or photo)",
            ),
        },
    )
    async def delete_photo(
        self,
        event_id: FromPath[uuid.UUID],
        photo_id: FromPath[uuid.UUID],
        current_user: Caller,
        conn: DbConnection,
        storage: FileStorage,
    ) -> None:
        await service.delete(conn, storage, current_user.id, event_id, photo_id)


def gallery_router(settings: Settings) -> Router:
    """The gallery routes, with a body limit that fits MAX_PHOTO_BYTES."""
    return Router(
        path="/",
        route_handlers=[GalleryController],
        request_max_body_size=settings.max_photo_bytes + MULTIPART_OVERHEAD_BYTES,
    )
