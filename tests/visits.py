"""Builders for home visits on a phone: small real images, uploaded through the API, and the visit's body."""

from __future__ import annotations

import io
import uuid


def image_bytes(fmt: str = "PNG", size=(120, 60), exif: bool = False, hand: int = 0) -> bytes:
    """A small image with a stroke like a signature; another `hand` draws another stroke (three people's
    signatures are three different drawings)."""
    from PIL import Image

    image = Image.new("RGB", size, (250, 250, 250))
    for x in range(10, size[0] - 10):
        image.putpixel((x, size[1] // 2 + (x % (7 + hand)) - 3), (20, 20, 20))
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "PhoneMaker"  # Make
        data[0x8825] = {1: "N", 2: (37.0, 52.0, 0.0)}  # GPS IFD: where the photo was taken
        image.save(out, fmt, exif=data)
    else:
        image.save(out, fmt)
    return out.getvalue()


def upload(post, application_id: str, kind: str, headers: dict, body: bytes | None = None,
           media_type: str = "image/png", hand: int = 0):
    """`post` is a test client's or a requests-like post(url, data=, headers=)."""
    return post(f"/api/v1/staff/applications/{application_id}/visit-files?kind={kind}",
                data=body if body is not None else image_bytes(hand=hand),
                headers={**headers, "Content-Type": media_type})


def visit_body(post, application_id: str, headers: dict, second_staff_id: str, checklist: dict,
               note: str = "", signer: str = "self") -> dict:
    """Upload both investigators' and the household's signatures and one photo; the home-visit body."""
    ids = {}
    for hand, name in enumerate(("investigator_1", "investigator_2", "household")):
        kind = "thumbprint_form" if name == "household" and signer == "thumbprint_form" else "signature"
        made = upload(post, application_id, kind, headers, hand=hand)
        assert made.status_code == 201, made.get_data(as_text=True) if hasattr(made, "get_data") else made.text
        ids[name] = (made.json if isinstance(made.json, dict) else made.json())["id"]
    photo = upload(post, application_id, "photo", headers, image_bytes("JPEG", (800, 600)), "image/jpeg")
    photo_id = (photo.json if isinstance(photo.json, dict) else photo.json())["id"]
    return {"client_id": uuid.uuid4().hex, "checklist": checklist, "note": note,
            "second_investigator": second_staff_id, "household_signer": signer, "signatures": ids,
            "photos": [photo_id]}
