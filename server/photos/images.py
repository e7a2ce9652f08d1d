"""Checking and cleaning uploaded images (CPU-bound: call `process_image` in a thread).

The type is decided from the bytes alone (never the file name or the declared
content type). What is stored is a fresh encoding of the pixels: EXIF (GPS,
camera, time), XMP, IPTC and text chunks are dropped, the EXIF orientation is
applied to the pixels first, and only the ICC colour profile is kept so colours
stay right. HEIC/HEIF is stored as JPEG.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pillow_heif
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from server.errors import ApiError

pillow_heif.register_heif_opener()
# A truncated file is an error, never a half-grey picture.
ImageFile.LOAD_TRUNCATED_IMAGES = False

# Pillow format name → what we store it as (format, content type, key extension).
_OUTPUT: dict[str, tuple[str, str, str]] = {
    "JPEG": ("JPEG", "image/jpeg", ".jpg"),
    "PNG": ("PNG", "image/png", ".png"),
    "WEBP": ("WEBP", "image/webp", ".webp"),
    "HEIF": ("JPEG", "image/jpeg", ".jpg"),
}
ACCEPTED_FORMATS = tuple(_OUTPUT)

MAX_PIXELS = 50_000_000  # decompression-bomb guard, checked before decoding
MAX_SIDE = 16_384
STORED_MAX_SIDE = 4096  # larger pictures are scaled down before storing
THUMBNAIL_SIDE = 320
JPEG_QUALITY = 85
WEBP_QUALITY = 85


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    data: bytes
    thumbnail: bytes
    content_type: str
    extension: str
    width: int
    height: int


def unsupported() -> ApiError:
    return ApiError(422, "unsupported_image", "The file is not a JPEG, PNG, WebP or HEIC image")


def corrupt() -> ApiError:
    return ApiError(422, "corrupt_image", "The image is damaged or incomplete")


def empty() -> ApiError:
    return ApiError(422, "empty_file", "The file is empty")


def too_large(max_bytes: int) -> ApiError:
    return ApiError(
        413, "photo_too_large", f"Photos may be at most {max_bytes // (1024 * 1024)} MiB"
    )


def check_size(size: int, max_bytes: int) -> None:
    if size == 0:
        raise empty()
    if size > max_bytes:
        raise too_large(max_bytes)


def process_image(data: bytes, max_bytes: int) -> ProcessedImage:
    """The cleaned image and its thumbnail, or an ApiError (413/422) saying what is wrong."""
    check_size(len(data), max_bytes)
    source_format = _check_and_verify(data)
    out_format, content_type, extension = _OUTPUT[source_format]
    try:
        with Image.open(io.BytesIO(data), formats=[source_format]) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)
            icc_profile = opened.info.get("icc_profile")
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        raise corrupt() from None
    image = _for_format(image, out_format)
    image.thumbnail((STORED_MAX_SIDE, STORED_MAX_SIDE), Image.Resampling.LANCZOS)
    thumbnail = image.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    return ProcessedImage(
        data=_encode(image, out_format, icc_profile),
        thumbnail=_encode(thumbnail, out_format, icc_profile),
        content_type=content_type,
        extension=extension,
        width=image.width,
        height=image.height,
    )


def _check_and_verify(data: bytes) -> str:
    """The Pillow format of the bytes, after the size guard and a structural check."""
    try:
        with Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS)) as probe:
            source_format = probe.format
            width, height = probe.size
            if source_format not in _OUTPUT:
                raise unsupported()
            if width < 1 or height < 1:
                raise corrupt()
            if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                raise ApiError(
                    422,
                    "image_dimensions_too_large",
                    f"Images may be at most {MAX_SIDE} pixels a side and "
                    f"{MAX_PIXELS // 1_000_000} megapixels",
                )
            probe.verify()
    except UnidentifiedImageError:
        raise unsupported() from None
    except Image.DecompressionBombError:
        raise ApiError(422, "image_dimensions_too_large", "The image has too many pixels") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise corrupt() from None
    assert source_format is not None
    return source_format


def _for_format(image: Image.Image, out_format: str) -> Image.Image:
    """A copy in a mode the output format can hold, with no metadata attached."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if out_format == "JPEG":
        if has_alpha:
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            image = flat
        elif image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
    elif out_format == "PNG":
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA" if has_alpha else "RGB")
    elif image.mode not in ("RGB", "RGBA"):  # WEBP
        image = image.convert("RGBA" if has_alpha else "RGB")
    clean = image.copy()
    clean.info.clear()
    return clean


def _encode(image: Image.Image, out_format: str, icc_profile: Any) -> bytes:
    image.info.clear()
    options: dict[str, Any] = {}
    if isinstance(icc_profile, bytes) and icc_profile:
        options["icc_profile"] = icc_profile
    if out_format == "JPEG":
        options.update(quality=JPEG_QUALITY, optimize=True)
    elif out_format == "WEBP":
        options.update(quality=WEBP_QUALITY, method=4)
    buffer = io.BytesIO()
    image.save(buffer, format=out_format, **options)
    return buffer.getvalue()
