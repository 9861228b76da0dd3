"""Configuration from environment variables with safe development defaults."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
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


def parse_data_keys(value: str) -> list[tuple[str, str]]:
    """ZEROTRIP_DATA_KEYS: `kid:key` entries; the first encrypts and keys new hashes, every one decrypts and
    matches look-ups (a rotation in progress). Kids are 1-32 characters of [A-Za-z0-9._-]."""
    pairs, seen = [], set()
    for entry in value.replace(",", " ").split():
        kid, sep, secret = entry.partition(":")
        if not sep or not kid or not secret or len(kid) > 32 or not all(c.isascii() and (c.isalnum() or c in "._-") for c in kid):
            raise ConfigError("ZEROTRIP_DATA_KEYS entries are kid:key (e.g. 2026-12:…,2026-06:…)")
        if kid in seen:
            raise ConfigError(f"ZEROTRIP_DATA_KEYS names kid {kid!r} twice")
        seen.add(kid)
        pairs.append((kid, secret))
    return pairs


MIN_SIGNING_SECRET = 32


def _first(pairs: list[tuple[str, str]], name: str) -> str:
    if not pairs:
        raise ConfigError(f"{name} is set but names no key (kid:key,kid:key)")
    return pairs[0][1]


_BASE64 = re.compile(r"[A-Za-z0-9_+/-]+={0,2}")
MIN_DATA_KEY_BYTES = 16


def check_data_key(name: str, secret: str) -> None:
    """ConfigError unless a data key is base64 (URL-safe or standard, padding optional) of at least 16 bytes:
    anything else would be read loosely (characters outside the alphabet dropped) into a guessable key."""
    bad = not _BASE64.fullmatch(secret) or len(secret.rstrip("=")) % 4 == 1
    if not bad:
        bad = len(base64.urlsafe_b64decode(secret.rstrip("=") + "=" * (-len(secret.rstrip("=")) % 4))) < MIN_DATA_KEY_BYTES
    if bad:
        raise ConfigError(f"{name}: a data key is base64 of at least {MIN_DATA_KEY_BYTES} random bytes (e.g. "
                          "python3 -c 'import os,base64;print(base64.urlsafe_b64encode(os.urandom(32)).decode())')")


def data_key_material(secret: str) -> bytes:
    """32 bytes from a configured data key (URL-safe base64; shorter keys are stretched with SHA-256)."""
    raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    if len(raw) < 32:
        raw = hashlib.sha256(raw).digest()
    return raw[:32]


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
    scan_batch_size: int = 50_000  # residents old enough per committed batch of a backfill (a crash resumes)
    scan_workers: int = 0  # a backfill's batches at once on PostgreSQL; 0: one per core up to 4 (SQLite: 1)
    # processes that validate, encrypt and write a population file's rows on PostgreSQL; 0: one per core up to 4
    # for a file of 100,000 rows or more, else 1 (SQLite: 1)
    import_workers: int = 0
    keys_generated: bool = False
    signing_keys: str = ""  # "kid:secret,kid:secret": the first signs, every one verifies (rotation)
    trusted_proxies: str = ""  # addresses/CIDRs whose X-Forwarded-For is believed
    log_format: str = "text"  # "json": one JSON object per line
    metrics_token: str = ""  # bearer token a non-local caller needs for the metrics port
    # Proof-of-benefit codes (docs/proof.md): ES256 P-256 private key (PEM) that signs; retired keys (PEM,
    # public or private) still verify for 31 days after `proof_rotated_at` (ISO date/time the current key took over).
    proof_key: str = field(default="", repr=False)
    proof_retired_keys: str = field(default="", repr=False)
    proof_rotated_at: str = ""
    proof_issuer: str = "urn:zerotrip:civil-affairs"
    data_keys: str = field(default="", repr=False)  # "kid:key,kid:key": the first encrypts, all decrypt (rotation)
    # The bureau's Ed25519 key for exchange callbacks (docs/exchange.md, "Subscriptions"): base64 of the 32-byte
    # private seed or a PEM; its key id; hosts/CIDRs allowed as callback targets despite the SSRF rules.
    exchange_signing_key: str = field(default="", repr=False)
    exchange_signing_kid: str = "civil-affairs-1"
    exchange_callback_allow: str = ""
    # Monthly partitions (PostgreSQL): a month stays in the live database at least this long before
    # `zerotrip db archive` may detach and dump it (social-assistance records are kept long; archived months
    # are dumped, never dropped).
    archive_after_months: int = 24
    # Appeals (复核, docs/appeals.md): the working days a decision may take from receipt, and the calendar days
    # after a decision within which it may be appealed.
    appeal_limit_working_days: int = 20
    appeal_filing_days: int = 60

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
    def proof_keyring(self) -> list:
        """app.proofcode.ProofKey list: the signing key first, then retired keys still trusted."""
        source = (self.proof_key, self.proof_retired_keys, self.proof_rotated_at)
        cached = self.__dict__.get("_proof_keys")
        if cached is None or cached[0] != source:
            from datetime import UTC, datetime

            from app.proofkeys import load_keys, split_pems

            rotated = None
            if self.proof_rotated_at:
                rotated = datetime.fromisoformat(self.proof_rotated_at.replace("Z", "+00:00"))
                rotated = rotated if rotated.tzinfo else rotated.replace(tzinfo=UTC)
            elif split_pems(self.proof_retired_keys):
                raise ValueError("retired keys need ZEROTRIP_PROOF_ROTATED_AT (when the new key took over)")
            pem = self.proof_key.replace("\\n", "\n")
            cached = (source, load_keys(pem, self.proof_retired_keys, rotated))
            self.__dict__["_proof_keys"] = cached
        return cached[1]

    @property
    def data_key_bytes(self) -> bytes:
        """The current data key (the first of ZEROTRIP_DATA_KEYS, or ZEROTRIP_DATA_KEY)."""
        return self.data_keyring[0][1]

    @property
    def data_keyring(self) -> tuple[tuple[str, bytes], ...]:
        """(kid, key) pairs; the first is current. A lone ZEROTRIP_DATA_KEY has the kid "default"."""
        cached = self.__dict__.get("_data_keyring")
        source = (self.data_keys, self.data_key)
        if cached is None or cached[0] != source:
            pairs = parse_data_keys(self.data_keys) or [(DEFAULT_KID, self.data_key)]
            cached = (source, tuple((kid, data_key_material(secret)) for kid, secret in pairs))
            self.__dict__["_data_keyring"] = cached
        return cached[1]

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
    "http_timeout": "ZEROTRIP_HTTP_TIMEOUT",
    "signing_key": "ZEROTRIP_SIGNING_KEY",
    "data_key": "ZEROTRIP_DATA_KEY",
    "instance_path": "ZEROTRIP_INSTANCE_PATH",
    "audit_anchor_path": "AUDIT_ANCHOR_PATH",
    "access_token_ttl": "ACCESS_TOKEN_TTL",
    "signing_keys": "ZEROTRIP_SIGNING_KEYS",
    "trusted_proxies": "ZEROTRIP_TRUSTED_PROXIES",
    "log_format": "ZEROTRIP_LOG_FORMAT",
    "metrics_token": "ZEROTRIP_METRICS_TOKEN",
    "proof_key": "ZEROTRIP_PROOF_KEY",
    "proof_retired_keys": "ZEROTRIP_PROOF_RETIRED_KEYS",
    "proof_rotated_at": "ZEROTRIP_PROOF_ROTATED_AT",
    "proof_issuer": "ZEROTRIP_PROOF_ISSUER",
    "data_keys": "ZEROTRIP_DATA_KEYS",
    "exchange_signing_key": "ZEROTRIP_EXCHANGE_SIGNING_KEY",
    "exchange_signing_kid": "ZEROTRIP_EXCHANGE_SIGNING_KID",
    "exchange_callback_allow": "ZEROTRIP_EXCHANGE_CALLBACK_ALLOW",
    "archive_after_months": "ZEROTRIP_ARCHIVE_AFTER_MONTHS",
    "appeal_limit_working_days": "ZEROTRIP_APPEAL_LIMIT_WORKING_DAYS",
    "appeal_filing_days": "ZEROTRIP_APPEAL_FILING_DAYS",
    "scan_workers": "ZEROTRIP_SCAN_WORKERS",
    "import_workers": "ZEROTRIP_IMPORT_WORKERS",
}

# integer settings an operator may change, with the range that makes sense (a typo stops the start)
_RANGES = {"appeal_limit_working_days": (5, 60), "appeal_filing_days": (15, 365), "scan_workers": (0, 16),
           "import_workers": (0, 16), "archive_after_months": (1, 1200)}


def _coerce(name: str, value: str):
    kinds = {f.name: f.type for f in fields(Config)}
    kind = kinds[name]
    if kind in ("int", int):
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{_ENV_NAMES[name]} must be a whole number (is {value!r})") from None
    if kind in ("float", float):
        return float(value)
    if kind in ("bool", bool):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return value


def _in_instance_folder(cfg: Config, step) -> None:
    """`step(cfg)`, which may write development keys under the instance folder: a folder that cannot be made or
    written (ZEROTRIP_INSTANCE_PATH under /proc, or naming a file) is a configuration error, not a traceback."""
    try:
        step(cfg)
    except OSError as exc:
        raise ConfigError(f"the instance folder {cfg.instance_path} cannot be used (ZEROTRIP_INSTANCE_PATH): "
                          f"{exc.strerror or exc}") from None


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
        cfg.signing_key = _first(parse_signing_keys(cfg.signing_keys), "ZEROTRIP_SIGNING_KEYS")
    if cfg.data_keys:
        cfg.data_key = _first(parse_data_keys(cfg.data_keys), "ZEROTRIP_DATA_KEYS")
    _check_trusted_proxies(cfg.trusted_proxies)
    for attr, (low, high) in _RANGES.items():
        if not low <= getattr(cfg, attr) <= high:
            raise ConfigError(f"{_ENV_NAMES[attr]} must be between {low} and {high} (is {getattr(cfg, attr)})")
    if cfg.env != "production" and cfg.env.strip().lower().startswith("prod"):
        raise ConfigError(f"ZEROTRIP_ENV={cfg.env!r}: production is spelt `production` (anything else is development, "
                          "with generated keys and the test clock allowed)")
    if cfg.log_format not in ("text", "json"):
        raise ConfigError("ZEROTRIP_LOG_FORMAT is text or json")
    if cfg.env == "production" and environ.get("ZEROTRIP_FAKE_TODAY", "").strip():
        raise ConfigError("ZEROTRIP_FAKE_TODAY (the test clock) is refused in production")
    _check_test_clock(environ)
    _in_instance_folder(cfg, _ensure_keys)
    for kid, secret in parse_signing_keys(cfg.signing_keys) or [(DEFAULT_KID, cfg.signing_key)]:
        if len(secret) < MIN_SIGNING_SECRET:  # HS256: a short secret is found by brute force from one token
            raise ConfigError(f"{'ZEROTRIP_SIGNING_KEYS (kid ' + kid + ')' if cfg.signing_keys else 'ZEROTRIP_SIGNING_KEY'}"
                              f": a signing secret has at least {MIN_SIGNING_SECRET} random characters")
    for kid, secret in parse_data_keys(cfg.data_keys) or [(DEFAULT_KID, cfg.data_key)]:
        check_data_key(f"ZEROTRIP_DATA_KEYS (kid {kid})" if cfg.data_keys else "ZEROTRIP_DATA_KEY", secret)
    _in_instance_folder(cfg, _ensure_proof_key)
    if not cfg.audit_anchor_path:
        cfg.audit_anchor_path = str(Path(cfg.instance_path) / "audit-anchors.jsonl")
    return cfg


def _check_test_clock(environ) -> None:
    """A test clock that is no day (2027-13-01) is refused at start, in one line, not by the first command's
    first `today` in a traceback."""
    from app.clock import FakeClockRefused, fake_today

    try:
        fake_today({**environ, "ZEROTRIP_ENV": ""})
    except FakeClockRefused as exc:
        raise ConfigError(str(exc)) from None


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


def _ensure_proof_key(cfg: Config) -> None:
    """The proof-signing key: required in production; generated under instance/ in development (with a warning)."""
    if not cfg.proof_key:
        if cfg.env == "production":
            raise ConfigError("production mode refuses to start without ZEROTRIP_PROOF_KEY "
                              "(an EC P-256 private key in PEM; docs/proof.md)")
        from app.proofkeys import generate_pem

        path = Path(cfg.instance_path) / "dev-proof_key.pem"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(generate_pem())
            path.chmod(0o600)
        cfg.proof_key = path.read_text()
        cfg.keys_generated = True
        if not cfg.testing:
            log.warning("!!! DEVELOPMENT PROOF KEY IN USE: ZEROTRIP_PROOF_KEY not set; generated key stored at %s. "
                        "Never run like this in production. !!!", path)
    try:
        cfg.proof_keyring  # noqa: B018  (parse now: a bad key stops the start, not the first request)
    except Exception as exc:  # noqa: BLE001  (cryptography raises ValueError, TypeError, UnsupportedAlgorithm)
        raise ConfigError(f"ZEROTRIP_PROOF_KEY / ZEROTRIP_PROOF_RETIRED_KEYS / ZEROTRIP_PROOF_ROTATED_AT: {exc}") from None
