"""POST /wxa/business/getuserphonenumber and minting of phone codes for the console.

A phone code is single-use and valid `code_ttl_s` (300 s); unknown, used or expired → 40029.
If the body carries `openid` and the code was minted for another openid → 40029 (the code is not
spent by that failed attempt). A body without `code` → 47001.
"""

from flask import Blueprint

from . import ids
from .store import PhoneCode, Store, get_store
from .tokens import require_token
from .wire import WeChatError, field, json_body, wechat_json

bp = Blueprint("phone", __name__)


def mint_phone_code(store: Store, phone: str, country_code: str, openid: str | None) -> str:
    code = ids.phone_code()
    store.state.phone_codes[code] = PhoneCode(phone=phone, country_code=country_code, openid=openid,
                                              created_at=store.now())
    return code


def redeem(store: Store, code: str, openid: str | None) -> PhoneCode:
    record = store.state.phone_codes.get(code)
    if record is None or record.used or store.now() - record.created_at > store.settings["code_ttl_s"]:
        raise WeChatError(40029)
    if openid and record.openid and openid != record.openid:
        raise WeChatError(40029)
    record.used = True
    return record


def phone_info(store: Store, record: PhoneCode) -> dict:
    full = record.phone if record.country_code == "86" else f"+{record.country_code}{record.phone}"
    return {
        "phoneNumber": full,
        "purePhoneNumber": record.phone,
        "countryCode": record.country_code,
        "watermark": {"timestamp": int(record.created_at), "appid": store.settings["appid"]},
    }


@bp.post("/wxa/business/getuserphonenumber")
def get_user_phone_number():
    require_token()
    body = json_body()
    code = field(body, "code")
    if not isinstance(code, str):
        raise WeChatError(47001)
    store = get_store()
    with store.lock:
        record = redeem(store, code, field(body, "openid"))
        return wechat_json({"errcode": 0, "errmsg": "ok", "phone_info": phone_info(store, record)})
