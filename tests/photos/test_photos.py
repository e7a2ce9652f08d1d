"""Photo uploads: the camera roll (/v1/me/photos) and host photos, on the local store.

Real PostgreSQL and a real media directory (the test's MOMENTO_DATA_DIR); the
images are made here with Pillow. What users rely on: only real images get in,
what is stored carries no location or other metadata, a failed upload leaves
nothing behind (no row, no file), and nobody else can touch their photos.
"""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import asyncpg
import msgspec
import pillow_heif
import pytest
from helpers import bearer, block
from litestar.testing import AsyncTestClient
from PIL import Image

from db.queries import photos as photo_queries
from server.photos import service
from server.photos.images import STORED_MAX_SIDE, THUMBNAIL_SIDE
from server.settings import Settings
from server.storage.local import LocalStorage
from tests.photos.steps import (
    GPS_IFD,
    XMP_SECRET,
    encode,
    fetch,
    jpeg_file,
    jpeg_with_gps,
    key_of,
    media_files,
    picture,
)

Client = AsyncTestClient[Any]

MAX_PHOTO_BYTES = 256 * 1024


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # A small limit keeps the oversized-upload tests fast.
    return msgspec.structs.replace(settings, max_photo_bytes=MAX_PHOTO_BYTES)


# ── Images made on the spot ─────────────────────────────────────────────────


def heic_image() -> bytes:
    pillow_heif.register_heif_opener()
    return encode(picture(), "HEIF")


# ── Helpers ─────────────────────────────────────────────────────────────────


async def make_person(sign_in: Any, db_conn: asyncpg.Connection) -> dict[str, Any]:
    """A signed-in person with a social profile; returns tokens + profile_id."""
    tokens = await sign_in()
    profile_id = await db_conn.fetchval(
        "INSERT INTO social_profiles (user_id, first_name, gender, interested_in) "
        "VALUES ($1, 'Ada', 'Woman', ARRAY['Man']) RETURNING id",
        uuid.UUID(tokens["user_id"]),
    )
    return {**tokens, "profile_id": profile_id}


async def make_host(sign_in: Any, db_conn: asyncpg.Connection) -> dict[str, Any]:
    tokens = await sign_in()
    host_id = await db_conn.fetchval(
        "INSERT INTO host_profiles (user_id, host_name) VALUES ($1, 'Ada hosts') RETURNING id",
        uuid.UUID(tokens["user_id"]),
    )
    return {**tokens, "host_id": host_id}


async def upload(
    client: Client, person: dict[str, Any], data: bytes, **fields: str
) -> dict[str, Any]:
    r = await client.post(
        "/v1/me/photos", headers=bearer(person), files=jpeg_file(data), data=fields
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def count_photos(db_conn: asyncpg.Connection) -> int:
    count: int = await db_conn.fetchval(
        "SELECT (SELECT count(*) FROM profile_photos) + (SELECT count(*) FROM host_photos)"
    )
    return count


# ── Uploads that work ───────────────────────────────────────────────────────


async def test_jpeg_upload_strips_gps_and_metadata_and_applies_orientation(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await make_person(sign_in, db_conn)
    # 80x60 pixels with "rotate 90° clockwise" (6): people see it as 60x80.
    original = jpeg_with_gps(size=(80, 60), orientation=6)
    r = await client.post(
        "/v1/me/photos",
        headers=bearer(person),
        files=jpeg_file(original),
        data={"is_in_app_photo": "true"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {
        "id",
        "profile_id",
        "image_url",
        "thumbnail_url",
        "is_in_app_photo",
        "created_at",
    }
    assert body["is_in_app_photo"] is True
    assert body["profile_id"] == str(person["profile_id"])
    assert body["image_url"].startswith(settings.media_base_url + "/media/")

    served = await fetch(client, body["image_url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert "immutable" in served.headers["cache-control"]
    stored = Image.open(io.BytesIO(served.content))
    assert stored.format == "JPEG"
    assert stored.size == (60, 80)  # orientation applied to the pixels
    exif = stored.getexif()
    assert len(exif) == 0
    assert not exif.get_ifd(GPS_IFD)
    assert "exif" not in stored.info
    assert "xmp" not in stored.info
    assert b"Exif\x00\x00" not in served.content
    assert b"SecretPhone" not in served.content
    assert XMP_SECRET not in served.content

    # What is on disk is exactly what is served.
    assert (settings.data_dir / "media" / key_of(body["image_url"])).read_bytes() == served.content


async def test_thumbnail_is_a_small_copy(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    person = await make_person(sign_in, db_conn)
    body = await upload(client, person, encode(picture((1000, 500)), "JPEG", quality=95))
    main = Image.open(io.BytesIO((await fetch(client, body["image_url"])).content))
    thumb_response = await fetch(client, body["thumbnail_url"])
    assert thumb_response.headers["content-type"] == "image/jpeg"
    thumb = Image.open(io.BytesIO(thumb_response.content))
    assert main.size == (1000, 500)
    assert thumb.size == (THUMBNAIL_SIDE, THUMBNAIL_SIDE // 2)
    assert len(thumb_response.content) < len((await fetch(client, body["image_url"])).content)
    assert thumb.getexif() == {} or len(thumb.getexif()) == 0


async def test_very_large_pictures_are_scaled_down(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    person = await make_person(sign_in, db_conn)
    body = await upload(client, person, encode(Image.new("L", (5000, 100)), "PNG"))
    stored = Image.open(io.BytesIO((await fetch(client, body["image_url"])).content))
    assert stored.size == (STORED_MAX_SIDE, 82)


@pytest.mark.parametrize(
    ("fmt", "mode", "content_type"),
    [("PNG", "RGBA", "image/png"), ("WEBP", "RGB", "image/webp"), ("WEBP", "RGBA", "image/webp")],
)
async def test_png_and_webp_keep_their_type(
    client: Client,
    sign_in: Any,
    db_conn: asyncpg.Connection,
    fmt: str,
    mode: str,
    content_type: str,
) -> None:
    person = await make_person(sign_in, db_conn)
    # Named and declared as a JPEG: the bytes decide.
    r = await client.post(
        "/v1/me/photos",
        headers=bearer(person),
        files=jpeg_file(encode(picture(mode=mode), fmt)),
    )
    assert r.status_code == 201, r.text
    served = await fetch(client, r.json()["image_url"])
    assert served.headers["content-type"] == content_type
    stored = Image.open(io.BytesIO(served.content))
    assert stored.format == fmt
    assert stored.size == (80, 60)
    if mode == "RGBA":
        assert stored.mode == "RGBA"  # transparency survives


async def test_heic_is_stored_as_jpeg(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    person = await make_person(sign_in, db_conn)
    r = await client.post(
        "/v1/me/photos",
        headers=bearer(person),
        files={"file": ("IMG_0001.HEIC", heic_image(), "image/heic")},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["image_url"].endswith(".jpg")
    served = await fetch(client, body["image_url"])
    assert served.headers["content-type"] == "image/jpeg"
    stored = Image.open(io.BytesIO(served.content))
    assert stored.format == "JPEG"
    assert stored.size == (80, 60)


async def test_keys_are_unguessable(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    person = await make_person(sign_in, db_conn)
    data = encode(picture(), "JPEG")
    first = await upload(client, person, data)
    second = await upload(client, person, data)
    keys = [key_of(first["image_url"]), key_of(first["thumbnail_url"]), key_of(second["image_url"])]
    assert len(set(keys)) == 3
    for key, photo in zip(keys, [first, first, second], strict=True):
        token = re.fullmatch(r"photos/([A-Za-z0-9_-]+)\.jpg", key)
        assert token is not None, key
        assert len(token.group(1)) >= 22  # ≥ 128 random bits in URL-safe base64
        assert photo["id"] not in key
        assert str(person["profile_id"]) not in key
    # The table keeps keys, not URLs.
    stored = await db_conn.fetchval(
        "SELECT image_url FROM profile_photos WHERE id = $1", uuid.UUID(first["id"])
    )
    assert stored == keys[0]


# ── Media route ─────────────────────────────────────────────────────────────


async def test_media_route_serves_only_stored_files(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await make_person(sign_in, db_conn)
    await upload(client, person, encode(picture(), "JPEG"))
    (settings.data_dir / "secret.jpg").write_bytes(b"not for you")
    (settings.data_dir / "media" / "photos" / "notes.txt").write_text("private")
    for path in [
        "/media/photos/doesnotexist0000000000000.jpg",
        "/media/../secret.jpg",
        "/media/%2e%2e/secret.jpg",
        "/media/photos/%2e%2e/%2e%2e/secret.jpg",
        "/media/photos/..%2F..%2Fsecret.jpg",
        "/media//etc/passwd",
        "/media/photos/notes.txt",
        "/media/photos",
        "/media/photos/",
    ]:
        r = await client.get(path)
        assert r.status_code == 404, path
        assert b"not for you" not in r.content
        assert b"private" not in r.content


# ── Listing and paging ──────────────────────────────────────────────────────


async def test_list_my_photos_newest_first_with_paging(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    person = await make_person(sign_in, db_conn)
    other = await make_person(sign_in, db_conn)
    await upload(client, other, encode(picture(), "JPEG"))
    ids = [(await upload(client, person, encode(picture(), "JPEG")))["id"] for _ in range(3)]

    first = await client.get("/v1/me/photos?limit=2", headers=bearer(person))
    assert first.status_code == 200
    page = first.json()
    assert [p["id"] for p in page["items"]] == ids[::-1][:2]
    assert page["next_cursor"]
    assert all(p["image_url"].startswith("http") for p in page["items"])

    second = await client.get(
        "/v1/me/photos", params={"limit": 2, "cursor": page["next_cursor"]}, headers=bearer(person)
    )
    assert [p["id"] for p in second.json()["items"]] == [ids[0]]
    assert second.json()["next_cursor"] is None

    bad = await client.get("/v1/me/photos?cursor=nonsense", headers=bearer(person))
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_cursor"
    too_big = await client.get("/v1/me/photos?limit=101", headers=bearer(person))
    assert too_big.status_code == 422


# ── Deleting ────────────────────────────────────────────────────────────────


async def test_delete_my_photo_removes_row_files_and_current_photo(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await make_person(sign_in, db_conn)
    keep = await upload(client, person, encode(picture(), "JPEG"))
    photo = await upload(client, person, encode(picture(), "JPEG"))
    await db_conn.execute(
        "UPDATE social_profiles SET current_photo_id = $1, current_face_card_photo_id = $1 "
        "WHERE id = $2",
        uuid.UUID(photo["id"]),
        person["profile_id"],
    )
    r = await client.delete(f"/v1/me/photos/{photo['id']}", headers=bearer(person))
    assert r.status_code == 204
    assert (await fetch(client, photo["image_url"])).status_code == 404
    assert (await fetch(client, photo["thumbnail_url"])).status_code == 404
    assert len(media_files(settings)) == 2  # the other photo and its thumbnail
    pointers = await db_conn.fetchrow(
        "SELECT current_photo_id, current_face_card_photo_id FROM social_profiles WHERE id = $1",
        person["profile_id"],
    )
    assert tuple(pointers) == (None, None)
    listed = (await client.get("/v1/me/photos", headers=bearer(person))).json()["items"]
    assert [p["id"] for p in listed] == [keep["id"]]

    again = await client.delete(f"/v1/me/photos/{photo['id']}", headers=bearer(person))
    assert again.status_code == 404
    assert again.json()["code"] == "not_found"


async def test_nobody_else_can_delete_my_photo(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection, settings: Settings
) -> None:
    owner = await make_person(sign_in, db_conn)
    stranger = await make_person(sign_in, db_conn)
    blocker = await make_person(sign_in, db_conn)
    await block(db_conn, blocker, owner)
    photo = await upload(client, owner, encode(picture(), "JPEG"))
    for intruder in (stranger, blocker):
        r = await client.delete(f"/v1/me/photos/{photo['id']}", headers=bearer(intruder))
        assert r.status_code == 404
        assert r.json()["code"] == "not_found"
    anonymous = await client.delete(f"/v1/me/photos/{photo['id']}")
    assert anonymous.status_code == 401
    assert (await fetch(client, photo["image_url"])).status_code == 200
    assert await count_photos(db_conn) == 1
    assert len(media_files(settings)) == 2
    # And their lists never show it.
    for intruder in (stranger, blocker):
        items = (await client.get("/v1/me/photos", headers=bearer(intruder))).json()["items"]
        assert items == []


async def test_anonymous_and_suspended_callers_are_refused(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection, settings: Settings
) -> None:
    data = encode(picture(), "JPEG")
    assert (await client.post("/v1/me/photos", files=jpeg_file(data))).status_code == 401
    assert (await client.get("/v1/me/photos")).status_code == 401
    anonymous_host = await client.post("/v1/me/host-profile/photos", files=jpeg_file(data))
    assert anonymous_host.status_code == 401
    assert (await client.delete(f"/v1/me/host-profile/photos/{uuid.uuid4()}")).status_code == 401

    person = await make_person(sign_in, db_conn)
    photo = await upload(client, person, data)
    await db_conn.execute(
        "UPDATE users SET status = 'suspended' WHERE id = $1", uuid.UUID(person["user_id"])
    )
    for r in [
        await client.post("/v1/me/photos", headers=bearer(person), files=jpeg_file(data)),
        await client.get("/v1/me/photos", headers=bearer(person)),
        await client.delete(f"/v1/me/photos/{photo['id']}", headers=bearer(person)),
        await client.post(
            "/v1/me/host-profile/photos", headers=bearer(person), files=jpeg_file(data)
        ),
    ]:
        assert r.status_code == 403
        assert r.json()["code"] == "account_suspended"
    assert await count_photos(db_conn) == 1
    assert len(media_files(settings)) == 2


async def test_photo_routes_need_a_social_profile(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection, settings: Settings
) -> None:
    tokens = await sign_in()
    data = encode(picture(), "JPEG")
    for r in [
        await client.post("/v1/me/photos", headers=bearer(tokens), files=jpeg_file(data)),
        await client.get("/v1/me/photos", headers=bearer(tokens)),
        await client.delete(f"/v1/me/photos/{uuid.uuid4()}", headers=bearer(tokens)),
    ]:
        assert r.status_code == 409
        assert r.json()["code"] == "social_profile_required"
    assert media_files(settings) == []


# ── Bad uploads: a clear 4xx, no row, no file ───────────────────────────────


def _truncated_jpeg() -> bytes:
    data = encode(picture((200, 200)), "JPEG", quality=95)
    return data[: len(data) // 2]


def _truncated_png() -> bytes:
    data = encode(picture((200, 200)), "PNG")
    return data[: len(data) - 40]


def _corrupt_png() -> bytes:
    data = bytearray(encode(picture((60, 60)), "PNG"))
    data[60] ^= 0xFF  # inside IHDR/IDAT: the checksum no longer matches
    return bytes(data)


BAD_UPLOADS: list[tuple[str, Any, int, str]] = [
    ("empty", {"file": ("photo.jpg", b"", "image/jpeg")}, 422, "empty_file"),
    (
        "pdf named .jpg",
        {"file": ("photo.jpg", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "image/jpeg")},
        422,
        "unsupported_image",
    ),
    (
        "text named .jpg",
        {"file": ("photo.jpg", b"hello, I am not a picture\n" * 20, "image/jpeg")},
        422,
        "unsupported_image",
    ),
    (
        "gif",
        {"file": ("photo.gif", encode(picture(mode="P"), "GIF"), "image/gif")},
        422,
        "unsupported_image",
    ),
    (
        "truncated jpeg",
        {"file": ("photo.jpg", _truncated_jpeg(), "image/jpeg")},
        422,
        "corrupt_image",
    ),
    ("truncated png", {"file": ("photo.png", _truncated_png(), "image/png")}, 422, "corrupt_image"),
    ("corrupt png", {"file": ("photo.png", _corrupt_png(), "image/png")}, 422, "corrupt_image"),
    (
        "jpeg header only",
        {"file": ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg")},
        422,
        "corrupt_image",
    ),
    (
        "decompression bomb",
        {"file": ("bomb.png", encode(Image.new("1", (8000, 8000)), "PNG"), "image/png")},
        422,
        "image_dimensions_too_large",
    ),
    (
        "just over the limit",
        {"file": ("big.jpg", b"\xff\xd8" + b"\x00" * MAX_PHOTO_BYTES, "image/jpeg")},
        413,
        "photo_too_large",
    ),
    (
        "far over the limit",
        {"file": ("huge.jpg", b"\xff\xd8" + b"\x00" * (MAX_PHOTO_BYTES * 3), "image/jpeg")},
        413,
        "photo_too_large",
    ),
    (
        "no file part",
        {"picture": ("photo.jpg", b"\xff\xd8", "image/jpeg")},
        422,
        "validation_error",
    ),
]


@pytest.mark.parametrize(
    ("files", "status", "code"), [b[1:] for b in BAD_UPLOADS], ids=[b[0] for b in BAD_UPLOADS]
)
async def test_bad_uploads_are_refused_and_leave_nothing(
    client: Client,
    sign_in: Any,
    db_conn: asyncpg.Connection,
    settings: Settings,
    files: Any,
    status: int,
    code: str,
) -> None:
    person = await make_person(sign_in, db_conn)
    host = await make_host(sign_in, db_conn)
    for path, who in (("/v1/me/photos", person), ("/v1/me/host-profile/photos", host)):
        r = await client.post(path, headers=bearer(who), files=files)
        assert r.status_code == status, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == code
    assert await count_photos(db_conn) == 0
    assert media_files(settings) == []


async def test_form_fields_are_checked(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await make_person(sign_in, db_conn)
    host = await make_host(sign_in, db_conn)
    data = encode(picture(), "JPEG")
    cases: list[tuple[str, dict[str, Any], Any]] = [
        ("/v1/me/photos", person, {"is_in_app_photo": "perhaps"}),
        ("/v1/me/photos", person, {"is_in_app_photo": "true", "status": "approved"}),
        ("/v1/me/host-profile/photos", host, {"photo_type": "selfie"}),
        ("/v1/me/host-profile/photos", host, {"caption": "x" * 301}),
    ]
    for path, who, fields in cases:
        r = await client.post(path, headers=bearer(who), files=jpeg_file(data), data=fields)
        assert r.status_code == 422, (fields, r.text)
        assert r.json()["code"] == "validation_error"
    # Not multipart at all.
    as_json = await client.post("/v1/me/photos", headers=bearer(person), json={"file": "x"})
    assert as_json.status_code == 422
    assert as_json.json()["code"] == "validation_error"
    urlencoded = await client.post(
        "/v1/me/photos", headers=bearer(person), data={"is_in_app_photo": "true"}
    )
    assert urlencoded.status_code == 422
    assert await count_photos(db_conn) == 0
    assert media_files(settings) == []


async def test_failed_insert_removes_the_stored_files(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await make_person(sign_in, db_conn)
    # A real database failure at the moment of the insert, after the files were written.
    await db_conn.execute(
        """
        CREATE FUNCTION refuse_photo() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
        CREATE TRIGGER refuse_photo BEFORE INSERT ON profile_photos
            FOR EACH ROW EXECUTE FUNCTION refuse_photo();
        """
    )
    r = await client.post(
        "/v1/me/photos", headers=bearer(person), files=jpeg_file(encode(picture(), "JPEG"))
    )
    assert r.status_code == 500
    assert r.json()["code"] == "server_error"
    assert await count_photos(db_conn) == 0
    assert media_files(settings) == []


async def test_at_most_30_photos(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await make_person(sign_in, db_conn)
    await db_conn.executemany(
        "INSERT INTO profile_photos (profile_id, image_url) VALUES ($1, $2)",
        [(person["profile_id"], f"photos/old{i}.jpg") for i in range(service.MAX_PROFILE_PHOTOS)],
    )
    r = await client.post(
        "/v1/me/photos", headers=bearer(person), files=jpeg_file(encode(picture(), "JPEG"))
    )
    assert r.status_code == 409
    assert r.json()["code"] == "too_many_photos"
    assert await count_photos(db_conn) == service.MAX_PROFILE_PHOTOS
    assert media_files(settings) == []


# ── Authentic badge and the summary the public profile uses ────────────────


async def test_in_app_photo_under_12_months_makes_the_profile_authentic(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection
) -> None:
    person = await make_person(sign_in, db_conn)
    viewer = await make_person(sign_in, db_conn)
    viewer_id = uuid.UUID(viewer["user_id"])

    async def summary() -> asyncpg.Record | None:
        return await photo_queries.profile_photo_summary(
            db_conn, person["profile_id"], viewer_id=viewer_id
        )

    assert (await summary())["is_authentic"] is False  # type: ignore[index]
    gallery = await upload(client, person, encode(picture(), "JPEG"))
    assert (await summary())["is_authentic"] is False  # type: ignore[index]
    in_app = await upload(client, person, encode(picture(), "JPEG"), is_in_app_photo="true")
    assert in_app["is_in_app_photo"] is True
    await db_conn.execute(
        "UPDATE social_profiles SET current_photo_id = $1, current_face_card_photo_id = $2 "
        "WHERE id = $3",
        uuid.UUID(gallery["id"]),
        uuid.UUID(in_app["id"]),
        person["profile_id"],
    )
    row = await summary()
    assert row is not None
    assert row["is_authentic"] is True
    assert row["photo_key"] == key_of(gallery["image_url"])
    assert row["face_card_key"] == key_of(in_app["image_url"])

    await db_conn.execute(
        "UPDATE profile_photos SET created_at = now() - interval '13 months' WHERE id = $1",
        uuid.UUID(in_app["id"]),
    )
    assert (await summary())["is_authentic"] is False  # type: ignore[index]

    # Blocked either way, or suspended: nothing to see.
    await block(db_conn, person, viewer)
    assert await summary() is None
    await db_conn.execute("DELETE FROM blocked_users")
    await block(db_conn, viewer, person)
    assert await summary() is None
    await db_conn.execute("DELETE FROM blocked_users")
    assert await summary() is not None
    await db_conn.execute(
        "UPDATE users SET status = 'suspended' WHERE id = $1", uuid.UUID(person["user_id"])
    )
    assert await summary() is None


# ── Host photos ─────────────────────────────────────────────────────────────


async def test_host_photo_upload_list_and_delete(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection, settings: Settings
) -> None:
    host = await make_host(sign_in, db_conn)
    r = await client.post(
        "/v1/me/host-profile/photos",
        headers=bearer(host),
        files=jpeg_file(jpeg_with_gps()),
        data={"photo_type": "venue", "caption": "  The back room  "},
    )
    assert r.status_code == 201, r.text
    photo = r.json()
    assert set(photo) == {"id", "host_id", "image_url", "photo_type", "caption", "created_at"}
    assert photo["host_id"] == str(host["host_id"])
    assert photo["photo_type"] == "venue"
    assert photo["caption"] == "The back room"
    served = await fetch(client, photo["image_url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(served.content)).getexif().get_ifd(GPS_IFD)
    assert b"SecretPhone" not in served.content
    assert len(media_files(settings)) == 1  # no thumbnail column for host photos

    plain = await client.post(
        "/v1/me/host-profile/photos", headers=bearer(host), files=jpeg_file(jpeg_with_gps())
    )
    assert plain.status_code == 201
    assert plain.json()["photo_type"] == "other"
    assert plain.json()["caption"] is None

    # What the public host page shows (newest first), through the visibility rule.
    storage = LocalStorage(settings.data_dir / "media", settings.media_base_url)
    viewer = await sign_in()
    viewer_id = uuid.UUID(viewer["user_id"])
    listed = await service.host_photos(db_conn, storage, viewer_id, host["host_id"])
    assert [p.id for p in listed] == [uuid.UUID(plain.json()["id"]), uuid.UUID(photo["id"])]
    assert listed[1].image_url == photo["image_url"]
    await block(db_conn, host, viewer)
    assert await service.host_photos(db_conn, storage, viewer_id, host["host_id"]) == []
    await db_conn.execute("DELETE FROM blocked_users")
    await block(db_conn, viewer, host)
    assert await service.host_photos(db_conn, storage, viewer_id, host["host_id"]) == []
    await db_conn.execute("DELETE FROM blocked_users")

    # Only the host deletes their photos.
    other_host = await make_host(sign_in, db_conn)
    for who, status in ((other_host, 404), (viewer, 409)):
        r = await client.delete(f"/v1/me/host-profile/photos/{photo['id']}", headers=bearer(who))
        assert r.status_code == status
    deleted = await client.delete(f"/v1/me/host-profile/photos/{photo['id']}", headers=bearer(host))
    assert deleted.status_code == 204
    assert (await fetch(client, photo["image_url"])).status_code == 404
    again = await client.delete(f"/v1/me/host-profile/photos/{photo['id']}", headers=bearer(host))
    assert again.status_code == 404
    remaining = await service.host_photos(db_conn, storage, viewer_id, host["host_id"])
    assert [p.id for p in remaining] == [uuid.UUID(plain.json()["id"])]

    # A suspended host's photos disappear for others.
    await db_conn.execute(
        "UPDATE users SET status = 'suspended' WHERE id = $1", uuid.UUID(host["user_id"])
    )
    assert await service.host_photos(db_conn, storage, viewer_id, host["host_id"]) == []


async def test_host_photo_routes_need_a_host_profile(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await make_person(sign_in, db_conn)  # a participant, not a host
    r = await client.post(
        "/v1/me/host-profile/photos",
        headers=bearer(person),
        files=jpeg_file(encode(picture(), "JPEG")),
    )
    assert r.status_code == 409
    assert r.json()["code"] == "host_profile_required"
    assert media_files(settings) == []


async def test_at_most_30_host_photos(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection, settings: Settings
) -> None:
    host = await make_host(sign_in, db_conn)
    await db_conn.executemany(
        "INSERT INTO host_photos (host_id, image_url) VALUES ($1, $2)",
        [(host["host_id"], f"host-photos/old{i}.jpg") for i in range(service.MAX_HOST_PHOTOS)],
    )
    r = await client.post(
        "/v1/me/host-profile/photos",
        headers=bearer(host),
        files=jpeg_file(encode(picture(), "JPEG")),
    )
    assert r.status_code == 409
    assert r.json()["code"] == "too_many_photos"
    assert media_files(settings) == []


async def test_openapi_documents_the_upload_errors(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    upload_op = schema["paths"]["/v1/me/photos"]["post"]
    assert "multipart/form-data" in upload_op["requestBody"]["content"]
    for status in ("401", "403", "409", "413", "422"):
        assert status in upload_op["responses"]
    assert "photo_too_large" in upload_op["responses"]["413"]["description"]
    assert "/v1/me/host-profile/photos" in schema["paths"]
    assert not any(path.startswith("/media") for path in schema["paths"])


async def test_every_stored_key_of_an_account_can_be_found(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection, settings: Settings
) -> None:
    """What account deletion needs to remove the files too."""
    person = await make_person(sign_in, db_conn)
    host_id = await db_conn.fetchval(
        "INSERT INTO host_profiles (user_id, host_name) VALUES ($1, 'Ada hosts') RETURNING id",
        uuid.UUID(person["user_id"]),
    )
    other = await make_person(sign_in, db_conn)
    await upload(client, other, encode(picture(), "JPEG"))
    photo = await upload(client, person, encode(picture(), "JPEG"))
    r = await client.post(
        "/v1/me/host-profile/photos",
        headers=bearer({**person, "host_id": host_id}),
        files=jpeg_file(encode(picture(), "PNG")),
    )
    assert r.status_code == 201
    keys = await photo_queries.photo_keys_of_user(db_conn, uuid.UUID(person["user_id"]))
    expected = {key_of(photo["image_url"]), key_of(photo["thumbnail_url"])}
    expected.add(key_of(r.json()["image_url"]))
    assert set(keys) == expected
    assert len(keys) == 3
    storage = LocalStorage(settings.data_dir / "media", settings.media_base_url)
    await service.delete_stored_files(storage, keys)
    assert len(media_files(settings)) == 2  # only the other person's photo and thumbnail


async def test_deleting_the_account_deletes_the_files(
    client: Client, sign_in: Any, db_conn: asyncpg.Connection, settings: Settings
) -> None:
    person = await make_person(sign_in, db_conn)
    await db_conn.execute(
        "INSERT INTO host_profiles (user_id, host_name) VALUES ($1, 'Ada hosts')",
        uuid.UUID(person["user_id"]),
    )
    await upload(client, person, encode(picture(), "JPEG"))
    host_photo = await client.post(
        "/v1/me/host-profile/photos",
        headers=bearer(person),
        files=jpeg_file(encode(picture(), "JPEG")),
        data={"photo_type": "logo"},
    )
    assert host_photo.status_code == 201
    assert len(media_files(settings)) == 3  # photo, its thumbnail, host photo

    assert (await client.delete("/v1/me", headers=bearer(person))).status_code == 204
    assert media_files(settings) == []
    assert await count_photos(db_conn) == 0
