"""Images made on the spot (Pillow) and the local media store, for the photo
and gallery tests."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from litestar.testing import AsyncTestClient
from PIL import Image

from server.settings import Settings

Client = AsyncTestClient[Any]

GPS_IFD = 0x8825
ORIENTATION = 0x0112
XMP_SECRET = b"xmp-secret-home-address"


def picture(size: tuple[int, int] = (80, 60), mode: str = "RGB") -> Image.Image:
    image = Image.new(mode, size)
    for x in range(size[0]):
        for y in range(0, size[1], 7):
            image.putpixel((x, y), (x * 3 % 256, y % 256, 90, 200)[: len(mode)])
    return image


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def jpeg_with_gps(size: tuple[int, int] = (80, 60), orientation: int = 1) -> bytes:
    """A JPEG carrying GPS coordinates, a camera model, an orientation and XMP."""
    exif = Image.Exif()
    exif[0x0110] = "SecretPhone 15"  # Model
    exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (37.0, 46.0, 30.0), 3: "W", 4: (122.0, 25.0, 10.0)})
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + XMP_SECRET + b"</x:xmpmeta>"
    data = encode(picture(size), "JPEG", exif=exif.tobytes(), xmp=xmp)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the test image has GPS
    assert XMP_SECRET in data
    assert b"SecretPhone" in data
    return data


def jpeg_file(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> Any:
    return {"file": (name, data, content_type)}


def media_files(settings: Settings) -> list[Path]:
    root = settings.data_dir / "media"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def key_of(url: str) -> str:
    path = urlsplit(url).path
    assert path.startswith("/media/"), url
    return path.removeprefix("/media/")


async def fetch(client: Client, url: str) -> Any:
    """GET a media URL the API returned, with no token at all."""
    return await client.get(urlsplit(url).path)
