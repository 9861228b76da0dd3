"""Settings of the mock: defaults, environment variables, and the `create_app(config)` dict.

Precedence: `config` dict > environment variable > default. Unknown keys in `config` are an error
(typos should fail loudly). The special key `clock` (a zero-argument callable returning epoch seconds)
is not a setting: it is handed to the store so tests can move time.
"""

import os

DEFAULT_PAGES = [
    "pages/index/index",
    "pages/proxy/accept",
    "pages/applications/detail",
    "pages/cert/verify",
]

DEFAULTS: dict = {
    "appid": "wx0000000000devapp",
    "secret": "devsecret0000000000000000000000000",
    "sms_api_key": "dev-sms-key",
    "webhook_url": None,
    "webhook_token": "devpushtoken",
    "original_id": "gh_mockzerotrip",
    "token_lifetime_s": 7200,
    "token_grace_s": 300,
    "code_ttl_s": 300,
    "published_pages": DEFAULT_PAGES,
    "send_sent_events": False,
    "push_async": True,
    "push_timeout_s": 5.0,
    "timeout_sleep_s": 10.0,
    "qr_content_type": "image/jpeg",
    "templates_path": None,
}

ENV_VARS = {
    "appid": "WECHAT_APPID",
    "secret": "WECHAT_SECRET",
    "sms_api_key": "SMS_API_KEY",
    "webhook_url": "MOCK_WECHAT_WEBHOOK_URL",
    "webhook_token": "WECHAT_PUSH_TOKEN",
    "token_lifetime_s": "MOCK_WECHAT_TOKEN_LIFETIME",
    "published_pages": "MOCK_WECHAT_PAGES",
    "send_sent_events": "MOCK_WECHAT_SEND_SENT_EVENTS",
    "templates_path": "MOCK_WECHAT_TEMPLATES",
    "push_timeout_s": "MOCK_WECHAT_PUSH_TIMEOUT",
}

# Keys that POST /__mock__/config may change at run time.
RUNTIME_KEYS = ("webhook_url", "webhook_token", "send_sent_events", "published_pages", "token_lifetime_s",
                "push_async", "push_timeout_s", "timeout_sleep_s", "qr_content_type")


def convert(key: str, raw):
    """Coerce a raw (env or JSON) value to the type of the key's default."""
    default = DEFAULTS[key]
    if isinstance(default, bool):
        return raw if isinstance(raw, bool) else str(raw).strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, list):
        return list(raw) if isinstance(raw, list) else [p.strip() for p in str(raw).split(",") if p.strip()]
    return raw or None


def load_settings(config: dict | None = None) -> dict:
    config = dict(config or {})
    config.pop("clock", None)
    unknown = set(config) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown mock_wechat config keys: {sorted(unknown)}")
    settings = {key: list(v) if isinstance(v, list) else v for key, v in DEFAULTS.items()}
    for key, var in ENV_VARS.items():
        if os.environ.get(var):
            settings[key] = convert(key, os.environ[var])
    settings.update(config)
    return settings
