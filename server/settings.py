"""Settings read from the environment once at start-up, and checked there.

Every variable is listed in the README's configuration table. In production a
missing secret or any development fallback stops the start with a message that
names every problem at once.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec

from db.embedded import DEFAULT_DATA_DIR

Environment = Literal["dev", "test", "production"]


class SettingsError(Exception):
    """The environment does not describe a server that may start."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    env: Environment = "dev"
    port: int = 8000
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    database_pool_min: int = 2
    database_pool_max: int = 10
    redis_url: str | None = None
    redis_key_prefix: str = "momento:"
    # Without Redis there is one process, so the workers run inside it.
    run_workers_in_web: bool = True

    jwt_secret: str = ""
    access_token_ttl_seconds: int = 900
    # How long a process may trust a sign-in it found valid (0: ask every time);
    # revocations reach every process at once through NOTIFY anyway.
    session_cache_seconds: float = 30.0
    refresh_token_ttl_days: int = 30

    otp_ttl_seconds: int = 300
    otp_max_attempts: int = 5
    otp_sends_per_phone_per_hour: int = 5
    # Generous per IP: carriers put many phones behind one address (CGNAT).
    otp_sends_per_ip_per_hour: int = 100
    otp_verifies_per_ip_per_hour: int = 300
    waitlist_per_ip_per_hour: int = 100
    auth_test_phone_prefix: str | None = None
    auth_test_otp_code: str | None = None

    supabase_jwt_secret: str | None = None
    supabase_jwks_url: str | None = None
    supabase_jwt_audience: str = "authenticated"

    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_verify_service_sid: str | None = None
    twilio_api_base: str = "https://verify.twilio.com"

    max_request_body_bytes: int = 10 * 1024 * 1024
    log_level: str = "INFO"

    # Where clients reach this server; local media URLs start with it.
    # Empty: http://localhost:<PORT>.
    public_base_url: str = ""
    # Uploaded files: S3-compatible storage when S3_BUCKET is set, else the
    # local disk under <MOMENTO_DATA_DIR>/media (never in production).
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_url_ttl_seconds: int = 3600
    max_photo_bytes: int = 10 * 1024 * 1024

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def uses_s3(self) -> bool:
        return bool(self.s3_bucket)

    @property
    def media_base_url(self) -> str:
        return (self.public_base_url or f"http://localhost:{self.port}").rstrip("/")

    @property
    def uses_twilio(self) -> bool:
        return bool(
            self.twilio_account_sid and self.twilio_auth_token and self.twilio_verify_service_sid
        )


ENV_NAMES: dict[str, str] = {
    "env": "MOMENTO_ENV",
    "port": "PORT",
    "data_dir": "MOMENTO_DATA_DIR",
    "database_url": "DATABASE_URL",
    "database_pool_min": "DATABASE_POOL_MIN",
    "database_pool_max": "DATABASE_POOL_MAX",
    "redis_url": "REDIS_URL",
    "redis_key_prefix": "REDIS_KEY_PREFIX",
    "run_workers_in_web": "RUN_WORKERS_IN_WEB",
    "jwt_secret": "JWT_SECRET",
    "access_token_ttl_seconds": "ACCESS_TOKEN_TTL_SECONDS",
    "session_cache_seconds": "SESSION_CACHE_SECONDS",
    "refresh_token_ttl_days": "REFRESH_TOKEN_TTL_DAYS",
    "otp_ttl_seconds": "OTP_TTL_SECONDS",
    "otp_max_attempts": "OTP_MAX_ATTEMPTS",
    "otp_sends_per_phone_per_hour": "OTP_SENDS_PER_PHONE_PER_HOUR",
    "otp_sends_per_ip_per_hour": "OTP_SENDS_PER_IP_PER_HOUR",
    "otp_verifies_per_ip_per_hour": "OTP_VERIFIES_PER_IP_PER_HOUR",
    "waitlist_per_ip_per_hour": "WAITLIST_PER_IP_PER_HOUR",
    "auth_test_phone_prefix": "AUTH_TEST_PHONE_PREFIX",
    "auth_test_otp_code": "AUTH_TEST_OTP_CODE",
    "supabase_jwt_secret": "SUPABASE_JWT_SECRET",
    "supabase_jwks_url": "SUPABASE_JWKS_URL",
    "supabase_jwt_audience": "SUPABASE_JWT_AUDIENCE",
    "twilio_account_sid": "TWILIO_ACCOUNT_SID",
    "twilio_auth_token": "TWILIO_AUTH_TOKEN",
    "twilio_verify_service_sid": "TWILIO_VERIFY_SERVICE_SID",
    "twilio_api_base": "TWILIO_API_BASE",
    "max_request_body_bytes": "MAX_REQUEST_BODY_BYTES",
    "log_level": "LOG_LEVEL",
    "public_base_url": "PUBLIC_BASE_URL",
    "s3_bucket": "S3_BUCKET",
    "s3_endpoint_url": "S3_ENDPOINT_URL",
    "s3_region": "S3_REGION",
    "s3_access_key_id": "S3_ACCESS_KEY_ID",
    "s3_secret_access_key": "S3_SECRET_ACCESS_KEY",
    "s3_url_ttl_seconds": "S3_URL_TTL_SECONDS",
    "max_photo_bytes": "MAX_PHOTO_BYTES",
}

_MIN_SECRET_LENGTH = 32


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build and check the settings; raise SettingsError naming every problem."""
    environ = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for field, name in ENV_NAMES.items():
        value = environ.get(name)
        if value is not None and value.strip() != "":
            raw[field] = value.strip()
    if "data_dir" in raw:
        raw["data_dir"] = Path(str(raw["data_dir"]))  # msgspec.convert takes no str for Path
    if "run_workers_in_web" not in raw:
        raw["run_workers_in_web"] = "redis_url" not in raw
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain_validation(str(exc))) from exc

    problems = _check(settings)
    if problems:
        raise SettingsError("Refusing to start:\n- " + "\n- ".join(problems))
    if not settings.jwt_secret:
        settings = msgspec.structs.replace(settings, jwt_secret=_dev_jwt_secret(settings.data_dir))
    return settings


def _explain_validation(message: str) -> str:
    # msgspec names the field ("at `$.port`"); say which variable that is.
    for field, name in ENV_NAMES.items():
        message = message.replace(f"`$.{field}`", name)
    return f"Invalid configuration: {message}"


def _check(s: Settings) -> list[str]:
    problems: list[str] = []
    if not 1 <= s.port <= 65535:
        problems.append("PORT must be between 1 and 65535")
    if s.database_pool_min < 1 or s.database_pool_max < s.database_pool_min:
        problems.append("DATABASE_POOL_MIN must be >= 1 and <= DATABASE_POOL_MAX")
    if s.jwt_secret and len(s.jwt_secret) < _MIN_SECRET_LENGTH:
        problems.append(f"JWT_SECRET must be at least {_MIN_SECRET_LENGTH} characters")
    if s.access_token_ttl_seconds < 60 or s.refresh_token_ttl_days < 1:
        problems.append("ACCESS_TOKEN_TTL_SECONDS must be >= 60 and REFRESH_TOKEN_TTL_DAYS >= 1")
    if s.otp_ttl_seconds < 30 or s.otp_max_attempts < 1:
        problems.append("OTP_TTL_SECONDS must be >= 30 and OTP_MAX_ATTEMPTS >= 1")
    if bool(s.auth_test_phone_prefix) != bool(s.auth_test_otp_code):
        problems.append("AUTH_TEST_PHONE_PREFIX and AUTH_TEST_OTP_CODE must be set together")
    if s.auth_test_phone_prefix and not s.auth_test_phone_prefix.startswith("+1"):
        problems.append("AUTH_TEST_PHONE_PREFIX must be an E.164 US prefix such as +1202555")
    if s.auth_test_otp_code and not (
        s.auth_test_otp_code.isdigit() and len(s.auth_test_otp_code) == 6
    ):
        problems.append("AUTH_TEST_OTP_CODE must be six digits")
    twilio = (s.twilio_account_sid, s.twilio_auth_token, s.twilio_verify_service_sid)
    if any(twilio) and not all(twilio):
        problems.append(
            "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_VERIFY_SERVICE_SID go together"
        )
    problems.extend(_storage_problems(s))
    if s.is_production:
        problems.extend(_production_problems(s))
    return problems


def _production_problems(s: Settings) -> list[str]:
    problems: list[str] = []
    if not s.database_url:
        problems.append("DATABASE_URL is required in production (no embedded database)")
    if not s.redis_url:
        problems.append("REDIS_URL is required in production (no in-process fan-out)")
    if not s.jwt_secret:
        problems.append("JWT_SECRET is required in production (no generated dev secret)")
    if not s.uses_twilio:
        problems.append("Twilio Verify settings are required in production (no console SMS)")
    if s.auth_test_phone_prefix or s.auth_test_otp_code:
        problems.append("AUTH_TEST_PHONE_PREFIX / AUTH_TEST_OTP_CODE are not allowed in production")
    if not s.uses_s3:
        problems.append("S3_BUCKET is required in production (no local file storage)")
    return problems


_MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # the longest a SigV4 presigned URL may live


def _storage_problems(s: Settings) -> list[str]:
    problems: list[str] = []
    if s.public_base_url and not s.public_base_url.startswith(("http://", "https://")):
        problems.append("PUBLIC_BASE_URL must start with http:// or https://")
    if s.s3_endpoint_url and not s.s3_endpoint_url.startswith(("http://", "https://")):
        problems.append("S3_ENDPOINT_URL must start with http:// or https://")
    if bool(s.s3_access_key_id) != bool(s.s3_secret_access_key):
        problems.append("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together")
    if not s.uses_s3 and (s.s3_endpoint_url or s.s3_access_key_id):
        problems.append("S3_ENDPOINT_URL / S3_ACCESS_KEY_ID need S3_BUCKET")
    if not 60 <= s.s3_url_ttl_seconds <= _MAX_PRESIGN_SECONDS:
        problems.append(f"S3_URL_TTL_SECONDS must be between 60 and {_MAX_PRESIGN_SECONDS}")
    if not 1024 <= s.max_photo_bytes <= 100 * 1024 * 1024:
        problems.append("MAX_PHOTO_BYTES must be between 1024 and 104857600")
    return problems


def _dev_jwt_secret(data_dir: Path) -> str:
    """A random secret kept under the data dir, so dev tokens survive restarts."""
    path = data_dir / "dev_jwt_secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    # Created private: never readable by others, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secret)
    return secret
