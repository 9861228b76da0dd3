"""Random identifiers shaped like the real WeChat ones (opaque strings, fixed lengths)."""

import base64
import secrets
import string

_ALNUM = string.ascii_letters + string.digits
_OPENID_CHARS = _ALNUM + "-_"


def _pick(alphabet: str, size: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(size))


def openid() -> str:
    """28 chars, starting with "o" like real mini-program openids."""
    return "o" + _pick(_OPENID_CHARS, 27)


def unionid() -> str:
    return "oU" + _pick(_OPENID_CHARS, 26)


def access_token() -> str:
    """~136 chars, "84_" prefix like real tokens (clients must reserve >= 512 chars)."""
    return "84_" + _pick(_ALNUM + "_-", 133)


def session_key() -> str:
    """24-char base64 of a 16-byte AES key."""
    return base64.b64encode(secrets.token_bytes(16)).decode()


def login_code() -> str:
    return _pick(_ALNUM, 32)


def phone_code() -> str:
    return secrets.token_hex(32)


def rid() -> str:
    return "-".join(secrets.token_hex(4) for _ in range(3))


def msgid() -> int:
    """An int64 above 2**53 (JavaScript cannot hold it exactly, as in real replies)."""
    return 2**60 + secrets.randbelow(2**63 - 2**60)


def nonce() -> str:
    return _pick(string.digits, 10)


def sms_message_id() -> str:
    return "sms-" + secrets.token_hex(8)
