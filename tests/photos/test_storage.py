"""The file stores: local disk (safe keys, atomic writes) and S3-compatible storage.

S3 runs against moto's local S3 HTTP server on 127.0.0.1 with the real boto3;
presigned URLs are fetched with httpx, as the app would. Settings: production
refuses local storage.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import boto3
import httpx
import msgspec
import pytest
from helpers import TEST_OTP_CODE, bearer, make_phone
from litestar.testing import AsyncTestClient
from moto.server import ThreadedMotoServer
from PIL import Image

from server.app import create_app
from server.settings import Settings, SettingsError, load_settings
from server.storage import Storage
from server.storage.local import LocalStorage
from server.storage.plugin import build_storage
from server.storage.s3 import S3Storage

KEY_ID = "test-key-id"
SECRET = "test-secret-key"


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


# ── Local storage ───────────────────────────────────────────────────────────


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def test_local_round_trip(tmp_path: Path) -> None:
    storage: Storage = LocalStorage(tmp_path / "media", "https://api.example.com/")
    await storage.save("photos/abc_DEF-123.jpg", b"jpeg bytes", "image/jpeg")
    assert (tmp_path / "media" / "photos" / "abc_DEF-123.jpg").read_bytes() == b"jpeg bytes"
    assert storage.url("photos/abc_DEF-123.jpg") == (
        "https://api.example.com/media/photos/abc_DEF-123.jpg"
    )
    # Written through a temporary file that is renamed into place: none is left over.
    assert [p.name for p in (tmp_path / "media" / "photos").iterdir()] == ["abc_DEF-123.jpg"]
    await storage.delete("photos/abc_DEF-123.jpg")
    assert not (tmp_path / "media" / "photos" / "abc_DEF-123.jpg").exists()
    await storage.delete("photos/abc_DEF-123.jpg")  # deleting twice is fine


@pytest.mark.parametrize(
    "key",
    [
        "../outside.jpg",
        "photos/../../outside.jpg",
        "/etc/passwd",
        "photos//x.jpg",
        ".hidden.jpg",
        "photos/.x.jpg",
        "photos\\..\\x.jpg",
        "photos/x.jpg\x00.png",
        "",
        "photos/",
    ],
)
async def test_local_refuses_keys_that_could_leave_its_folder(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path / "media", "http://localhost:8000")
    with pytest.raises(ValueError, match="not a storage key"):
        await storage.save(key, b"x", "image/jpeg")
    with pytest.raises(ValueError, match="not a storage key"):
        await storage.delete(key)
    assert files_under(tmp_path) == []


def test_plugin_picks_the_store_from_settings(tmp_path: Path) -> None:
    local = build_storage(Settings(data_dir=tmp_path, port=9000))
    assert isinstance(local, LocalStorage)
    assert local.root == tmp_path / "media"
    assert local.url("photos/a.jpg") == "http://localhost:9000/media/photos/a.jpg"
    s3 = build_storage(
        Settings(
            data_dir=tmp_path,
            s3_bucket="bucket",
            s3_endpoint_url="http://127.0.0.1:9",
            s3_region="us-east-1",
            s3_access_key_id=KEY_ID,
            s3_secret_access_key=SECRET,
        )
    )
    assert isinstance(s3, S3Storage)
    s3.close()


# ── S3 against moto's local server ─────────────────────────────────────────


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"momento-{uuid.uuid4().hex[:12]}"
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    client.create_bucket(Bucket=name)
    client.close()
    return name


@pytest.fixture
def s3_storage(s3_endpoint: str, bucket: str) -> Iterator[S3Storage]:
    storage = S3Storage(
        bucket=bucket,
        endpoint_url=s3_endpoint,
        region="us-east-1",
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        url_ttl_seconds=600,
    )
    yield storage
    storage.close()


async def test_s3_round_trip_with_presigned_urls(s3_storage: S3Storage, s3_endpoint: str) -> None:
    data = jpeg()
    await s3_storage.save("photos/abc.jpg", data, "image/jpeg")
    url = s3_storage.url("photos/abc.jpg")
    assert url.startswith(f"{s3_endpoint}/{s3_storage.bucket}/photos/abc.jpg?")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["600"]
    assert "X-Amz-Signature" in query
    async with httpx.AsyncClient() as http:
        fetched = await http.get(url)
        assert fetched.status_code == 200
        assert fetched.content == data
        assert fetched.headers["content-type"] == "image/jpeg"
        await s3_storage.delete("photos/abc.jpg")
        gone = await http.get(s3_storage.url("photos/abc.jpg"))
        assert gone.status_code == 404
    await s3_storage.delete("photos/abc.jpg")  # deleting twice is fine


@pytest.fixture
async def s3_client(
    settings: Settings, s3_endpoint: str, bucket: str
) -> AsyncIterator[tuple[AsyncTestClient[Any], Settings]]:
    s3_settings = msgspec.structs.replace(
        settings,
        s3_bucket=bucket,
        s3_endpoint_url=s3_endpoint,
        s3_region="us-east-1",
        s3_access_key_id=KEY_ID,
        s3_secret_access_key=SECRET,
        s3_url_ttl_seconds=900,
    )
    async with AsyncTestClient(app=create_app(s3_settings)) as client:
        yield client, s3_settings


async def test_uploads_go_to_s3_when_configured(
    s3_client: tuple[AsyncTestClient[Any], Settings],
    db_conn: asyncpg.Connection,
    s3_endpoint: str,
    bucket: str,
) -> None:
    client, settings = s3_client
    phone_tokens = await _sign_in(client)
    await db_conn.execute(
        "INSERT INTO social_profiles (user_id, gender, interested_in) "
        "VALUES ($1, 'Woman', ARRAY['Man'])",
        uuid.UUID(phone_tokens["user_id"]),
    )
    r = await client.post(
        "/v1/me/photos",
        headers=bearer(phone_tokens),
        files={"file": ("photo.jpg", jpeg(), "image/jpeg")},
    )
    assert r.status_code == 201, r.text
    photo = r.json()
    assert photo["image_url"].startswith(f"{s3_endpoint}/{bucket}/photos/")
    assert "X-Amz-Signature" in photo["image_url"]
    async with httpx.AsyncClient() as http:
        image = await http.get(photo["image_url"])
        thumbnail = await http.get(photo["thumbnail_url"])
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(image.content)).size == (40, 30)
    assert thumbnail.status_code == 200
    # Nothing on the local disk, and no local media route.
    assert not (settings.data_dir / "media").exists()
    key = urlsplit(photo["image_url"]).path.removeprefix(f"/{bucket}/")
    assert (await client.get(f"/media/{key}")).status_code == 404

    deleted = await client.delete(f"/v1/me/photos/{photo['id']}", headers=bearer(phone_tokens))
    assert deleted.status_code == 204
    async with httpx.AsyncClient() as http:
        assert (await http.get(photo["image_url"])).status_code == 404
        assert (await http.get(photo["thumbnail_url"])).status_code == 404


async def _sign_in(client: AsyncTestClient[Any]) -> dict[str, Any]:
    phone = make_phone()
    assert (await client.post("/v1/auth/otp", json={"phone_number": phone})).status_code == 202
    verified = await client.post(
        "/v1/auth/verify", json={"phone_number": phone, "code": TEST_OTP_CODE}
    )
    assert verified.status_code == 200
    body: dict[str, Any] = verified.json()
    return body


# ── Settings ────────────────────────────────────────────────────────────────

S3_ENV = {
    "S3_BUCKET": "momento-media",
    "S3_REGION": "us-east-1",
    "S3_ACCESS_KEY_ID": KEY_ID,
    "S3_SECRET_ACCESS_KEY": SECRET,
}


def production_env(data_dir: Path) -> dict[str, str]:
    return {
        "MOMENTO_ENV": "production",
        "MOMENTO_DATA_DIR": str(data_dir),
        "DATABASE_URL": "postgresql://momento@db.internal/momento",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "JWT_SECRET": "s" * 48,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "t" * 32,
        "TWILIO_VERIFY_SERVICE_SID": "VA" + "0" * 32,
        "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32,
        "STRIPE_SECRET_KEY": "sk_live_" + "k" * 24,
        "STRIPE_WEBHOOK_SECRET": "whsec_" + "w" * 32,
    }


def test_production_refuses_local_storage(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="S3_BUCKET is required in production"):
        load_settings(production_env(tmp_path))
    settings = load_settings({**production_env(tmp_path), **S3_ENV})
    assert settings.uses_s3
    assert settings.s3_bucket == "momento-media"


def test_storage_settings_defaults_and_parsing(tmp_path: Path) -> None:
    dev = load_settings({"MOMENTO_DATA_DIR": str(tmp_path), "PORT": "8123"})
    assert not dev.uses_s3
    assert dev.media_base_url == "http://localhost:8123"
    assert dev.max_photo_bytes == 10 * 1024 * 1024
    assert dev.s3_url_ttl_seconds == 3600
    custom = load_settings(
        {
            "MOMENTO_DATA_DIR": str(tmp_path),
            "PUBLIC_BASE_URL": "https://api.momento.example/",
            "MAX_PHOTO_BYTES": "5242880",
            "S3_URL_TTL_SECONDS": "600",
            "S3_ENDPOINT_URL": "https://r2.example.com",
            **S3_ENV,
        }
    )
    assert custom.media_base_url == "https://api.momento.example"
    assert custom.max_photo_bytes == 5 * 1024 * 1024
    assert custom.s3_url_ttl_seconds == 600
    assert custom.s3_endpoint_url == "https://r2.example.com"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"S3_BUCKET": "b", "S3_ACCESS_KEY_ID": KEY_ID}, "must be set together"),
        ({"S3_ENDPOINT_URL": "http://minio:9000"}, "need S3_BUCKET"),
        ({"S3_BUCKET": "b", "S3_ENDPOINT_URL": "minio:9000"}, "S3_ENDPOINT_URL must start"),
        ({"S3_BUCKET": "b", "S3_URL_TTL_SECONDS": "10"}, "S3_URL_TTL_SECONDS"),
        ({"S3_BUCKET": "b", "S3_URL_TTL_SECONDS": "700000"}, "S3_URL_TTL_SECONDS"),
        ({"PUBLIC_BASE_URL": "api.example.com"}, "PUBLIC_BASE_URL must start"),
        ({"MAX_PHOTO_BYTES": "0"}, "MAX_PHOTO_BYTES"),
        ({"MAX_PHOTO_BYTES": "lots"}, "MAX_PHOTO_BYTES"),
    ],
)
def test_bad_storage_settings_are_refused(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({"MOMENTO_DATA_DIR": str(tmp_path), **env})
