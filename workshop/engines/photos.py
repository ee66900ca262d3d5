"""Photos of paper cards: decode an upload, turn it upright, shrink it and encode a clean JPEG.

Pure Pillow, no Flask: the domain (domain/photos.py) calls `clean` through offhub.run, since
decoding and resizing block in C. Nothing of the upload but its pixels survives: the JPEG is
written from a fresh image, so no EXIF (GPS, camera, time), XMP, ICC profile or comment can ride
along.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

#: Formats accepted; Pillow here reads no HEIC, so an iPhone's HEIC is refused (phones and
#: browsers send JPEG from a file input by default).
FORMATS = ("JPEG", "PNG", "WEBP")
#: The longest side kept: a card stays legible, a photo stays ~200-400 KB.
MAX_SIDE = 1600
#: Pixels an upload may declare: a 48-megapixel phone camera fits, a decompression bomb (a tiny
#: file that claims 50,000 × 50,000 pixels) is refused before its pixels are decoded.
MAX_PIXELS = 60_000_000
QUALITY = 80


class PhotoError(ValueError):
    """An upload that is no usable photo; `reason` is "type", "pixels" or "broken"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Photo:
    """A cleaned photo: JPEG bytes and their size in pixels."""

    data: bytes
    width: int
    height: int


def clean(upload: bytes, max_side: int = MAX_SIDE, max_pixels: int = MAX_PIXELS) -> Photo:
    """The upload as an upright JPEG within max_side × max_side, without any metadata."""
    try:
        with Image.open(io.BytesIO(upload), formats=FORMATS) as image:
            if image.width * image.height > max_pixels:
                raise PhotoError("pixels")
            # JPEG only: decode at a reduced scale straight away (much less memory and time).
            image.draft("RGB", (max_side, max_side))
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            pixels = _flattened(upright)
    except UnidentifiedImageError as error:
        raise PhotoError("type") from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow's own guard (above ~89 million pixels) fires while opening.
        raise PhotoError("pixels") from error
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        # Truncated or corrupt data, an odd mode: bad input, never a server error.
        if isinstance(error, PhotoError):
            raise
        raise PhotoError("broken") from error
    return _encoded(pixels)


def _flattened(image: Image.Image) -> Image.Image:
    """RGB pixels; transparency (a PNG or WebP) goes onto white, as on paper."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _encoded(pixels: Image.Image) -> Photo:
    # A fresh image has an empty `info`: Pillow would otherwise carry a comment over.
    fresh = Image.frombytes("RGB", pixels.size, pixels.tobytes())
    out = io.BytesIO()
    fresh.save(out, "JPEG", quality=QUALITY, optimize=True)
    return Photo(out.getvalue(), fresh.width, fresh.height)
