"""Files a home visit carries (photos, signatures, a photo of a thumb-printed form): checked by content, never
trusted by name or header; re-encoded so that no EXIF (location, device) survives; downscaled; decompression
bombs refused with words; stored under `<instance>/visits/<application>/<id>.<ext>`."""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

from sqlalchemy.orm import Session

from app.errors import Unprocessable
from app.models import Application, VisitFile
from app.models.ids import new_id

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel photo is the most a phone camera gives; more is a decompression bomb
LONGEST_SIDE = {"photo": 1600, "thumbprint_form": 2000, "signature": 800}
KINDS = tuple(LONGEST_SIDE)
FORMATS = {"JPEG", "PNG", "WEBP"}
MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp")


def decode(data: bytes, not_an_image: str = "not_an_image"):
    """(format, the decoded image) of an upload, checked by decoding it whole — a file whose first bytes say PNG
    but whose rest is text is no image; 422 `not_an_image` (or the caller's code) when it does not decode,
    `image_too_large` for a decompression bomb."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format
                probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Unprocessable("The image claims to be larger than any camera photo and was refused (a "
                            "decompression bomb). Take the photo again.", error_code="image_too_large") from None
    except Exception:  # noqa: BLE001 - any decoder failure means: not an image we accept
        raise Unprocessable("The file is not a readable JPEG, PNG or WebP image.", error_code=not_an_image) from None
    return fmt, image


def store(session: Session, instance_path: str, application: Application, kind: str, data: bytes,
          staff_id: str) -> VisitFile:
    """Check, re-encode and store one upload (in the caller's transaction); 422 with words when it is not an
    acceptable image."""
    if kind not in KINDS:
        raise Unprocessable("Say what the file is.", errors={"kind": list(KINDS)})
    if not data:
        raise Unprocessable("The file is empty.", error_code="file_empty")
    if len(data) > MAX_BYTES:
        raise Unprocessable("The file is larger than 10 MB: take the photo again at a lower resolution.",
                            error_code="file_too_large")
    fmt, image = decode(data)
    if fmt not in FORMATS:
        raise Unprocessable("The file is not a JPEG, PNG or WebP image.", error_code="not_an_image")
    image.thumbnail((LONGEST_SIDE[kind], LONGEST_SIDE[kind]))
    out = io.BytesIO()
    if kind == "signature":  # strokes on a transparent or white canvas: PNG keeps them sharp
        image.convert("RGBA").save(out, "PNG", optimize=True)
        ext, media = "png", "image/png"
    else:
        image.convert("RGB").save(out, "JPEG", quality=85)  # a new file: no EXIF, no GPS, no maker notes
        ext, media = "jpg", "image/jpeg"
    body = out.getvalue()
    file_id = new_id()
    relative = Path("visits") / application.id / f"{file_id}.{ext}"
    target = Path(instance_path) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    row = VisitFile(id=file_id, application_id=application.id, kind=kind, path=str(relative), media_type=media,
                    size=len(body), sha256=hashlib.sha256(body).hexdigest(), uploaded_by=staff_id)
    session.add(row)
    return row


def absolute(instance_path: str, row: VisitFile) -> Path:
    return Path(instance_path) / row.path
