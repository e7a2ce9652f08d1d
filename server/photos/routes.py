"""/v1/me/photos (camera roll) and /v1/me/host-profile/photos.

The controllers are mounted by `photo_router(settings)`, whose body limit is
MAX_PHOTO_BYTES plus room for the multipart envelope, so an upload over the
limit is refused while it streams in (413 `photo_too_large`).
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, Router, delete, get, post
from litestar.datastructures import State, UploadFile
from litestar.exceptions import ClientException, HTTPException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import FromPath, MultipartBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from litestar.types import ExceptionHandlersMap

from server.deps import Caller, DbConnection, FileStorage, PageRequest
from server.errors import AUTH_PROBLEMS, Problem, exception_handlers, problem_response, problems
from server.pagination import Page
from server.photos import service
from server.photos.images import too_large
from server.photos.schemas import HostPhoto, HostPhotoUpload, ProfilePhoto, ProfilePhotoUpload
from server.settings import Settings

# Multipart boundaries, part headers and the small form fields.
MULTIPART_OVERHEAD_BYTES = 64 * 1024

UPLOAD_422 = (
    "validation_error, empty_file, unsupported_image, corrupt_image, image_dimensions_too_large"
)


def max_photo_bytes(state: State) -> int:
    settings: Settings = state.settings
    return settings.max_photo_bytes


def _photo_too_large(
    request: Request[Any, Any, Any], _: RequestEntityTooLarge
) -> Response[Problem]:
    error = too_large(max_photo_bytes(request.app.state))
    return problem_response(error.status, error.code, error.detail)


def _upload_client_error(request: Request[Any, Any, Any], exc: ClientException) -> Response[Any]:
    """A body that is not multipart/form-data is invalid input like any other (422)."""
    if type(exc) is ClientException and exc.status_code == 400:
        return problem_response(
            422,
            "validation_error",
            "Send the photo as multipart/form-data with the image in a `file` part",
        )
    return exception_handlers[HTTPException](request, exc)


UPLOAD_ERRORS: ExceptionHandlersMap = {
    RequestEntityTooLarge: _photo_too_large,
    ClientException: _upload_client_error,
}


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    try:
        # One byte past the limit is enough to know it is too large.
        return await upload.read(max_bytes + 1)
    finally:
        await upload.close()


class ProfilePhotoController(Controller):
    path = "/v1/me/photos"
    tags = ["photos"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Upload a photo to my camera roll",
        description=(
            "multipart/form-data with the image in `file` (JPEG, PNG, WebP or HEIC, decided "
            "from the bytes) and `is_in_app_photo` (`true`/`false`, default false). Location "
            "and other metadata are removed; HEIC is stored as JPEG."
        ),
        exception_handlers=UPLOAD_ERRORS,
        responses={
            **AUTH_PROBLEMS,
            **problems(
                s409="social_profile_required, too_many_photos",
                s413="photo_too_large",
                s422=UPLOAD_422,
            ),
        },
    )
    async def upload_photo(
        self,
        data: MultipartBody[ProfilePhotoUpload],
        current_user: Caller,
        conn: DbConnection,
        storage: FileStorage,
        state: State,
    ) -> ProfilePhoto:
        max_bytes = max_photo_bytes(state)
        content = await read_upload(data.file, max_bytes)
        return await service.add_profile_photo(
            conn,
            storage,
            current_user.id,
            content,
            is_in_app_photo=data.is_in_app_photo,
            max_bytes=max_bytes,
        )

    @get(
        "/",
        summary="My camera roll, newest first",
        responses={
            **AUTH_PROBLEMS,
            **problems(s409="social_profile_required", s422="validation_error, invalid_cursor"),
        },
    )
    async def list_photos(
        self, current_user: Caller, conn: DbConnection, storage: FileStorage, page: PageRequest
    ) -> Page[ProfilePhoto]:
        return await service.list_profile_photos(conn, storage, current_user.id, page)

    @delete(
        "/{photo_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete one of my photos (and its files)",
        responses={
            **AUTH_PROBLEMS,
            **problems(s404="not_found", s409="social_profile_required"),
        },
    )
    async def delete_photo(
        self,
        photo_id: FromPath[uuid.UUID],
        current_user: Caller,
        conn: DbConnection,
        storage: FileStorage,
    ) -> None:
        await service.delete_profile_photo(conn, storage, current_user.id, photo_id)


class HostPhotoController(Controller):
    path = "/v1/me/host-profile/photos"
    tags = ["photos", "hosts"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Add a photo to my host page",
        description=(
            "multipart/form-data with the image in `file` (JPEG, PNG, WebP or HEIC), "
            "`photo_type` (logo, venue, promotional, other; default other) and an optional "
            "`caption` (at most 300 characters). Metadata is removed as for profile photos."
        ),
        exception_handlers=UPLOAD_ERRORS,
        responses={
            **AUTH_PROBLEMS,
            **problems(
                s409="host_profile_required, too_many_photos",
                s413="photo_too_large",
                s422=UPLOAD_422,
            ),
        },
    )
    async def upload_host_photo(
        self,
        data: MultipartBody[HostPhotoUpload],
        current_user: Caller,
        conn: DbConnection,
        storage: FileStorage,
        state: State,
    ) -> HostPhoto:
        max_bytes = max_photo_bytes(state)
        content = await read_upload(data.file, max_bytes)
        return await service.add_host_photo(
            conn,
            storage,
            current_user.id,
            content,
            photo_type=data.photo_type,
            caption=data.caption,
            max_bytes=max_bytes,
        )

    @delete(
        "/{photo_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete one of my host page's photos",
        responses={
            **AUTH_PROBLEMS,
            **problems(s404="not_found", s409="host_profile_required"),
        },
    )
    async def delete_host_photo(
        self,
        photo_id: FromPath[uuid.UUID],
        current_user: Caller,
        conn: DbConnection,
        storage: FileStorage,
    ) -> None:
        await service.delete_host_photo(conn, storage, current_user.id, photo_id)


def photo_router(settings: Settings) -> Router:
    """The photo routes, with a body limit that fits MAX_PHOTO_BYTES."""
    return Router(
        path="/",
        route_handlers=[ProfilePhotoController, HostPhotoController],
        request_max_body_size=settings.max_photo_bytes + MULTIPART_OVERHEAD_BYTES,
    )
