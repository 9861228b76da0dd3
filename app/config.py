"""Configuration from environment variables with safe development defaults."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
DEV_WECHAT_APPID = "wx0000000000devapp"
DEV_WECHAT_SECRET = "devsecret0000000000000000000000000"


class ConfigError(RuntimeError):
    """The configuration cannot be used (e.g. production without keys)."""


DEFAULT_KID = "default"


def parse_signing_keys(value: str) -> list[tuple[str, str]]:
    """`kid:secret` entries separated by commas or whitespace; kids unique, secrets non-empty."""
    pairs, seen = [], set()
    for entry in value.replace(",", " ").split():
        kid, sep, secret = entry.partition(":")
        if not sep or not kid or not secret:
            raise ConfigError("ZEROTRIP_SIGNING_KEYS entries are kid:secret (e.g. 2026-12:…,2026-06:…)")
        if kid in seen:
            raise ConfigError(f"ZEROTRIP_SIGNING_KEYS names kid {kid!r} twice")
        seen.add(kid)
        pairs.append((kid, secret))
    return pairs


def _default_db_url() -> str:
    return f"sqlite:///{ROOT / 'instance' / 'zerotrip.db'}"


@dataclass
class Config:
    env: str = "development"
    database_url: str = field(default_factory=_default_db_url)
    wechat_api_base: str = "http://127.0.0.1:5001"
    wechat_appid: str = DEV_WECHAT_APPID
    wechat_secret: str = DEV_WECHAT_SECRET
    wechat_push_token: str = "devpushtoken"
    sms_api_base: str = ""
    sms_api_key: str = "dev-sms-key"
    signing_key: str = ""
    data_key: str = ""
    instance_path: str = str(ROOT / "instance")
    access_token_ttl: int = 900
    refresh_token_ttl: int = 30 * 24 * 3600
    audit_anchor_path: str = ""
    timezone: str = "Asia/Shanghai"
    testing: bool = False
    http_timeout: float = 5.0
    dispatch_batch: int = 100
    dispatch_max_attempts: int = 8
    bind_max_failures: int = 5
    bind_max_failures_per_address: int = 50  # a backstop: carriers put many residents behind one address
    scan_batch_size: int = 50_000
    keys_generated: bool = False
    signing_keys: str = ""  # "kid:secret,kid:secret": the first signs, every one verifies (rotation)
    trusted_proxies: str = ""  # addresses/CIDRs whose X-Forwarded-For is believed
    log_format: str = "text"  # "json": one JSON object per line
    metrics_token: str = ""  # bearer token a non-local caller needs for the metrics port

    def flask_settings(self) -> dict:
        return {
            "API_TITLE": "ZeroTrip API",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/",
            "OPENAPI_JSON_PATH": "openapi.json",
            "OPENAPI_SWAGGER_UI_PATH": "/docs",
            "OPENAPI_SWAGGER_UI_URL": "https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
            "TESTING": self.testing,
            "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
            "JSON_AS_ASCII": False,
            "SECRET_KEY": self.signing_key,
        }

    @property
    def signing_key_bytes(self) -> bytes:
        """The key that signs new tokens (the first of ZEROTRIP_SIGNING_KEYS, or ZEROTRIP_SIGNING_KEY)."""
        return self.signing_keyring[0][1]

    @property
    def signing_keyring(self) -> tuple[tuple[str, bytes], ...]:
        """(kid, key) pairs; the first signs, all verify. A lone ZEROTRIP_SIGNING_KEY has the kid "default"."""
        cached = self.__dict__.get("_keyring")
        source = (self.signing_keys, self.signing_key)
        if cached is None or cached[0] != source:
            pairs = parse_signing_keys(self.signing_keys) or [(DEFAULT_KID, self.signing_key)]
            ring = tuple((kid, hashlib.sha256(("sign:" + secret).encode()).digest()) for kid, secret in pairs)
            cached = (source, ring)
            self.__dict__["_keyring"] = cached
        return cached[1]

    @property
    def data_key_bytes(self) -> bytes:
        raw = base64.urlsafe_b64decode(self.data_key + "=" * (-len(self.data_key) % 4))
        if len(raw) < 32:
            raw = hashlib.sha256(raw).digest()
        return raw[:32]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


_ENV_NAMES = {
    "env": "ZEROTRIP_ENV",
    "database_url": "DATABASE_URL",
    "wechat_api_base": "WECHAT_API_BASE",
    "wechat_appid": "WECHAT_APPID",
    "wechat_secret": "WECHAT_SECRET",
    "wechat_push_token": "WECHAT_PUSH_TOKEN",
    "sms_api_base": "SMS_API_BASE",
    "sms_api_key": "SMS_API_KEY",
    "signing_key": "ZEROTRIP_SIGNING_KEY",
    "data_key": "ZEROTRIP_DATA_KEY",
    "instance_path": "ZEROTRIP_INSTANCE_PATH",
    "audit_anchor_path": "AUDIT_ANCHOR_PATH",
    "access_token_ttl": "ACCESS_TOKEN_TTL",
    "signing_keys": "ZEROTRIP_SIGNING_KEYS",
    "trusted_proxies": "ZEROTRIP_TRUSTED_PROXIES",
    "log_format": "ZEROTRIP_LOG_FORMAT",
    "metrics_token": "ZEROTRIP_METRICS_TOKEN",
}


def _coerce(name: str, value: str):
    kinds = {f.name: f.type for f in fields(Config)}
    kind = kinds[name]
    if kind in ("int", int):
        return int(value)
    if kind in ("float", float):
        return float(value)
    if kind in ("bool", bool):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return value


def _dev_key(instance: Path, name: str) -> str:
    """A development key persisted under instance/ so restarts can still decrypt the data."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / f"dev-{name}.key"
    if not path.exists():
        path.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="))
        path.chmod(0o600)
    return path.read_text().strip()


def load_config(overrides: dict | None = None, environ: dict | None = None) -> Config:
    """Read the environment (then `overrides`), generate development keys, refuse unsafe production."""
    environ = os.environ if environ is None else environ
    values = {}
    for attr, env_name in _ENV_NAMES.items():
        if environ.get(env_name):
            values[attr] = _coerce(attr, environ[env_name])
    values.update(overrides or {})
    cfg = Config(**values)
    if cfg.database_url.startswith("postgres://"):
        cfg.database_url = "postgresql+psycopg://" + cfg.database_url[len("postgres://"):]
    if cfg.signing_keys:
        cfg.signing_key = parse_signing_keys(cfg.signing_keys)[0][1]
    _check_trusted_proxies(cfg.trusted_proxies)
    if cfg.log_format not in ("text", "json"):
        raise ConfigError("ZEROTRIP_LOG_FORMAT is text or json")
    if cfg.env == "production" and environ.get("ZEROTRIP_FAKE_TODAY", "").strip():
        raise ConfigError("ZEROTRIP_FAKE_TODAY (the test clock) is refused in production")
    _ensure_keys(cfg)
    if not cfg.audit_anchor_path:
        cfg.audit_anchor_path = str(Path(cfg.instance_path) / "audit-anchors.jsonl")
    return cfg


def _check_trusted_proxies(spec: str) -> None:
    import ipaddress

    for entry in spec.replace(",", " ").split():
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigError(f"ZEROTRIP_TRUSTED_PROXIES: {entry!r} is not an address or CIDR") from None


def _ensure_keys(cfg: Config) -> None:
    missing = [n for n in ("signing_key", "data_key") if not getattr(cfg, n)]
    if not missing:
        return
    if cfg.env == "production":
        raise ConfigError(
            "production mode refuses to start without ZEROTRIP_SIGNING_KEY and ZEROTRIP_DATA_KEY "
            f"(missing: {', '.join(missing)})"
        )
    for name in missing:
        setattr(cfg, name, _dev_key(Path(cfg.instance_path), name))
    cfg.keys_generated = True
    if not cfg.testing:
        log.warning(
            "!!! DEVELOPMENT KEYS IN USE: %s not set; generated keys stored under %s. "
            "Never run like this in production. !!!",
            "/".join("ZEROTRIP_" + n.upper() for n in missing),
            cfg.instance_path,
        )
