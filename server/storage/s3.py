"""Files in an S3-compatible bucket (AWS S3, R2, MinIO, ...), handed out as presigned URLs.

boto3 is synchronous: uploads and deletes run in worker threads. Presigning is
a local computation (no request), so `url` stays synchronous. The bucket can
stay private: every URL the API returns is a presigned GET that lives
`S3_URL_TTL_SECONDS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio.to_thread
import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Stored objects never change (new content gets a new key).
CACHE_CONTROL = "private, max-age=31536000, immutable"


class S3Storage:
    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        url_ttl_seconds: int = 3600,
    ) -> None:
        self.bucket = bucket
        self.url_ttl_seconds = url_ttl_seconds
        config = Config(
            signature_version="s3v4",
            # Path-style URLs work with every S3-compatible service behind a custom endpoint.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        )
        # Without explicit keys boto3 uses its usual chain (environment, instance role...).
        self.client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )

    async def save(self, key: str, data: bytes, content_type: str) -> None:
        def put() -> None:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                CacheControl=CACHE_CONTROL,
            )

        await anyio.to_thread.run_sync(put)

    async def delete(self, key: str) -> None:
        def remove() -> None:
            self.client.delete_object(Bucket=self.bucket, Key=key)

        await anyio.to_thread.run_sync(remove)

    def url(self, key: str) -> str:
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=self.url_ttl_seconds,
        )

    def close(self) -> None:
        self.client.close()
