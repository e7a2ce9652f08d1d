"""Files on the local disk (the embedded default), served by this server.

Files live under `<MOMENTO_DATA_DIR>/media/<key>`. The server hands them out at
`GET /media/<key>` without a token: keys carry 128+ random bits (see
`server.photos.service.new_key`), so the URL itself is the capability, as
with a presigned S3 URL.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import anyio.to_thread
from litestar import get
from litestar.params import FromPath
from litestar.response import File

from server.deps import FileStorage
from server.errors import ApiError

# A key is slash-separated segments of URL-safe characters; no segment may
# start with a dot, so `..`, hidden files and absolute paths are impossible.
_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}(/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}){0,7}")

# What the media route serves; anything else stored here is not handed out.
CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}

# Keys never change content (a new upload gets a new key), so caches may keep them.
CACHE_CONTROL = "public, max-age=31536000, immutable"


def is_valid_key(key: str) -> bool:
    return _KEY.fullmatch(key) is not None


class LocalStorage:
    def __init__(self, root: Path, base_url: str) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")

    def path(self, key: str) -> Path:
        """Where a key's file lives; ValueError for a key that could leave the root."""
        if not is_valid_key(key):
            raise ValueError(f"not a storage key: {key!r}")
        path = self.root / key
        # Belt and braces: the pattern already rules out traversal.
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise ValueError(f"not a storage key: {key!r}")
        return path

    async def save(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path(key)
        await anyio.to_thread.run_sync(_write_atomically, path, data)

    async def delete(self, key: str) -> None:
        path = self.path(key)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    def url(self, key: str) -> str:
        return f"{self.base_url}/media/{key}"


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the whole file or none of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "Not found")


@get(
    "/media/{key:path}",
    opt={"exclude_from_auth": True},
    include_in_schema=False,
    summary="A stored file (local storage only)",
)
async def serve_media(key: FromPath[str], storage: FileStorage) -> File:
    if not isinstance(storage, LocalStorage):
        raise _not_found()
    key = key.lstrip("/")
    content_type = CONTENT_TYPES.get(Path(key).suffix.lower())
    if content_type is None:
        raise _not_found()
    try:
        path = storage.path(key)
    except ValueError:
        raise _not_found() from None
    if not await anyio.to_thread.run_sync(path.is_file):
        raise _not_found()
    return File(
        path=path,
        media_type=content_type,
        content_disposition_type="inline",
        headers={"Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"},
    )
