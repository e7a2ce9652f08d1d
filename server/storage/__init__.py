"""Where uploaded files live: the local disk (embedded default) or S3-compatible storage.

Tables keep the storage *key* of a file (`profile_photos.image_url` and
friends hold keys such as `photos/<random>.jpg`); the API turns a key into a
URL with `Storage.url` when it answers, so S3 URLs can be presigned and
short-lived.
"""

from __future__ import annotations

from typing import Protocol


class Storage(Protocol):
    async def save(self, key: str, data: bytes, content_type: str) -> None: ...

    async def delete(self, key: str) -> None: ...

    def url(self, key: str) -> str: ...
