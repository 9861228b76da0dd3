"""POST /wxa/getwxacodeunlimit: a real PNG (a QR code of the scene) or a WeChat error JSON.

Rules: body not a JSON object → 40169; scene (a string, or a number taken as its text) empty or
longer than 32 → 40169; characters outside digits, letters and ``!#$&'()*+,/:;=?@-._~`` → 40129;
page with a leading "/" or a "?" → 41030; check_path true (default) and page not in
`published_pages` → 41030; env_version other than release/trial/develop → 40097; width not an
integer → 40097, else clamped to 280–1280 (default 430). The PNG bytes are labelled
`qr_content_type` (default image/jpeg, as seen on the real API; clients must only test for
application/json).
"""

import io
import string

import qrcode
from flask import Blueprint, Response
from PIL import Image

from .store import get_store
from .tokens import require_token
from .wire import WeChatError, field, read_json_object

bp = Blueprint("qrcodes", __name__)

SCENE_CHARS = set(string.ascii_letters + string.digits + "!#$&'()*+,/:;=?@-._~")
ENV_VERSIONS = ("release", "trial", "develop")


def check_scene(scene) -> str:
    if isinstance(scene, int | float) and not isinstance(scene, bool):
        scene = str(scene)
    if not isinstance(scene, str) or not 0 < len(scene) <= 32:
        raise WeChatError(40169)
    if not set(scene) <= SCENE_CHARS:
        raise WeChatError(40129)
    return scene


def check_page(page, check_path: bool, published: list[str]) -> None:
    if page is None:
        return
    if not isinstance(page, str) or page.startswith("/") or "?" in page:
        raise WeChatError(41030)
    if check_path and page not in published:
        raise WeChatError(41030)


def width_of(body: dict) -> int:
    raw = field(body, "width")
    if raw is None:
        return 430
    try:
        return max(280, min(1280, int(raw)))
    except (TypeError, ValueError):
        raise WeChatError(40097) from None


def make_png(text: str, width: int) -> bytes:
    code = qrcode.QRCode(border=2)
    code.add_data(text)
    image = code.make_image().get_image().convert("RGB")
    buffer = io.BytesIO()
    image.resize((width, width), Image.Resampling.NEAREST).save(buffer, format="PNG")
    return buffer.getvalue()


@bp.post("/wxa/getwxacodeunlimit")
def get_unlimited():
    require_token()
    body = read_json_object()
    if body is None:
        raise WeChatError(40169)
    scene = check_scene(field(body, "scene"))
    settings = get_store().settings
    check_path = body.get("check_path") not in (False, "false", 0)
    check_page(field(body, "page"), check_path, settings["published_pages"])
    if field(body, "env_version") not in (None, *ENV_VERSIONS):
        raise WeChatError(40097)
    return Response(make_png(scene, width_of(body)), content_type=settings["qr_content_type"])
