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


class Settings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    """Each field is read from the environment variable named by its upper-cased
    name, or by the `name` its field gives (ENV_NAMES lists them all)."""

    env: Environment = msgspec.field(default="dev", name="MOMENTO_ENV")
    port: int = 8000
    data_dir: Path = msgspec.field(default=DEFAULT_DATA_DIR, name="MOMENTO_DATA_DIR")
    database_url: str | None = None
    database_pool_min: int = 2
    database_pool_max: int = 10
    # A web request waits at most this long for a pooled connection, and each
    # of its statements runs at most DATABASE_STATEMENT_TIMEOUT_MS; past either
    # it is answered 503 rather than left to pile up behind a slow database.
    database_acquire_timeout_seconds: float = 5.0
    database_statement_timeout_ms: int = 5000
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
    # The staff console signs a browser out after this long without a request.
    staff_session_idle_minutes: int = 30

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

    # Embeddings: OpenAI text-embedding-3-small with a key, else the bundled local
    # model. A new model or dimension needs a new EMBEDDING_VECTOR_VERSION so its
    # users' vectors (positive_<v>, negative_<v>) sit beside the old ones.
    openai_api_key: str | None = None
    openai_api_base: str | None = None
    embedding_dimension: int | None = None
    embedding_vector_version: str = "v1"

    # Events and matching (weights documented in docs/MATCHING.md).
    invitation_ttl_hours: float = 24.0
    min_attendees_cutoff_hours: float = 24.0
    matching_max_wave_size: int = 40
    matching_prior_acceptance_rate: float = 0.35
    matching_retry_minutes: int = 30
    match_weight_interests: float = 1.0
    match_weight_dislikes: float = 0.5
    match_weight_reliability: float = 0.3
    match_weight_contribution: float = 0.1
    match_weight_connect_again: float = 0.2
    match_weight_group_fit: float = 0.2
    match_weight_recent_invites: float = 0.05
    match_recent_invite_days: int = 7

    # Stripe: without a secret key (dev, test), paid invitations can't be accepted
    # (503 payments_unavailable); production requires the key and webhook secret.
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    payment_currency: str = "usd"
    seat_hold_minutes: float = 15.0
    late_cancellation_hours: float = 48.0
    payment_reconcile_after_minutes: float = 10.0

    # After the event (docs/API_NOTES.md "After the event").
    check_in_radius_meters: float = 200.0
    check_in_opens_minutes: float = 30.0
    attendance_report_days: float = 3.0
    rating_window_days: float = 14.0
    event_photos_per_person: int = 30
    social_links_per_person: int = 10

    # WebSocket gateway limits (gateway/config.py says what each does).
    ws_max_channels: int = 50
    ws_replay_limit: int = 500
    ws_send_queue_size: int = 256
    ws_heartbeat_seconds: float = 25.0
    ws_frames_per_connection_per_10s: int = 100
    ws_frames_per_user_per_minute: int = 600
    ws_gap_wait_seconds: float = 0.5

    # Notifications: Expo push (an access token when the Expo project enforces
    # one), plain SMS through Twilio Messaging for invitations to people without
    # a push token, capped per user per 24 hours.
    expo_access_token: str | None = None
    expo_api_base: str | None = None
    push_rate_per_second: int = 600
    push_concurrency: int = 4
    twilio_messaging_service_sid: str | None = None
    twilio_messages_api_base: str = "https://api.twilio.com"
    sms_notifications_per_day: int = 3
    invitation_expiring_notice_hours: float = 3.0

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def match_weights(self) -> tuple[float, float, float, float, float, float, float]:
        """In the ranking formula's order (docs/MATCHING.md)."""
        return (
            self.match_weight_interests,
            self.match_weight_dislikes,
            self.match_weight_reliability,
            self.match_weight_contribution,
            self.match_weight_connect_again,
            self.match_weight_group_fit,
            self.match_weight_recent_invites,
        )

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


# Field name → environment variable.
ENV_NAMES: dict[str, str] = {f.name: f.encode_name for f in msgspec.structs.fields(Settings)}

_MIN_SECRET_LENGTH = 32


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build and check the settings; raise SettingsError naming every problem."""
    environ = os.environ if environ is None else environ
    # Keyed by variable name: the names Settings decodes from.
    raw: dict[str, object] = {}
    for name in ENV_NAMES.values():
        value = environ.get(name)
        if value is not None and value.strip() != "":
            raw[name] = value.strip()
    if "MOMENTO_DATA_DIR" in raw:
        # msgspec.convert takes no str for Path
        raw["MOMENTO_DATA_DIR"] = Path(str(raw["MOMENTO_DATA_DIR"]))
    if "RUN_WORKERS_IN_WEB" not in raw:
        raw["RUN_WORKERS_IN_WEB"] = "REDIS_URL" not in raw
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
    # msgspec names the variable as a path ("at `$.PORT`"); say just the name.
    for name in ENV_NAMES.values():
        message = message.replace(f"`$.{name}`", name)
    return f"Invalid configuration: {message}"


def _check(s: Settings) -> list[str]:
    problems: list[str] = []
    if not 1 <= s.port <= 65535:
        problems.append("PORT must be between 1 and 65535")
    if s.database_pool_min < 1 or s.database_pool_max < s.database_pool_min:
        problems.append("DATABASE_POOL_MIN must be >= 1 and <= DATABASE_POOL_MAX")
    if not 0.1 <= s.database_acquire_timeout_seconds <= 60:
        problems.append("DATABASE_ACQUIRE_TIMEOUT_SECONDS must be between 0.1 and 60")
    if not 100 <= s.database_statement_timeout_ms <= 600_000:
        problems.append("DATABASE_STATEMENT_TIMEOUT_MS must be between 100 and 600000")
    if s.jwt_secret and len(s.jwt_secret) < _MIN_SECRET_LENGTH:
        problems.append(f"JWT_SECRET must be at least {_MIN_SECRET_LENGTH} characters")
    if not 1 <= s.staff_session_idle_minutes <= 24 * 60:
        problems.append("STAFF_SESSION_IDLE_MINUTES must be between 1 and 1440")
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
    problems.extend(_matching_problems(s))
    problems.extend(_payment_problems(s))
    if (
        min(s.ws_max_channels, s.ws_replay_limit, s.ws_send_queue_size) < 1
        or min(s.ws_frames_per_connection_per_10s, s.ws_frames_per_user_per_minute) < 1
    ):
        problems.append("WS_* limits must be at least 1")
    if not 1 <= s.ws_heartbeat_seconds <= 300:
        problems.append("WS_HEARTBEAT_SECONDS must be between 1 and 300")
    if not 0 <= s.ws_gap_wait_seconds <= 60:
        problems.append("WS_GAP_WAIT_SECONDS must be between 0 and 60")
    problems.extend(_notification_problems(s))
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
    if not s.twilio_messaging_service_sid:
        problems.append(
            "TWILIO_MESSAGING_SERVICE_SID is required in production (SMS notifications)"
        )
    if s.auth_test_phone_prefix or s.auth_test_otp_code:
        problems.append("AUTH_TEST_PHONE_PREFIX / AUTH_TEST_OTP_CODE are not allowed in production")
    if not s.uses_s3:
        problems.append("S3_BUCKET is required in production (no local file storage)")
    if not s.stripe_secret_key or not s.stripe_webhook_secret:
        problems.append("STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are required in production")
    return problems


def _notification_problems(s: Settings) -> list[str]:
    problems: list[str] = []
    if not 1 <= s.push_rate_per_second <= 10_000 or not 1 <= s.push_concurrency <= 64:
        problems.append(
            "PUSH_RATE_PER_SECOND must be 1..10000 and PUSH_CONCURRENCY 1..64 "
            "(Expo allows 600 notifications/s per project)"
        )
    if s.expo_api_base and not s.expo_api_base.startswith(("http://", "https://")):
        problems.append("EXPO_API_BASE must start with http:// or https://")
    if s.twilio_messaging_service_sid and not s.uses_twilio:
        problems.append("TWILIO_MESSAGING_SERVICE_SID needs the other TWILIO_* settings")
    if s.sms_notifications_per_day < 0:
        problems.append("SMS_NOTIFICATIONS_PER_DAY must be >= 0 (0: no SMS notifications)")
    if s.invitation_expiring_notice_hours <= 0:
        problems.append("INVITATION_EXPIRING_NOTICE_HOURS must be > 0")
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


def _matching_problems(s: Settings) -> list[str]:
    problems: list[str] = []
    if s.embedding_dimension is not None and not 1 <= s.embedding_dimension <= 4096:
        problems.append("EMBEDDING_DIMENSION must be between 1 and 4096")
    if not s.embedding_vector_version.isalnum():
        problems.append("EMBEDDING_VECTOR_VERSION must be letters and digits, e.g. v2")
    if s.openai_api_base and not s.openai_api_base.startswith(("http://", "https://")):
        problems.append("OPENAI_API_BASE must start with http:// or https://")
    if not 0.05 <= s.invitation_ttl_hours <= 24 * 14:
        problems.append("INVITATION_TTL_HOURS must be between 0.05 and 336")
    if not 0 <= s.min_attendees_cutoff_hours <= 24 * 30:
        problems.append("MIN_ATTENDEES_CUTOFF_HOURS must be between 0 and 720")
    if not 1 <= s.matching_max_wave_size <= 1000:
        problems.append("MATCHING_MAX_WAVE_SIZE must be between 1 and 1000")
    if not 0.01 <= s.matching_prior_acceptance_rate <= 1:
        problems.append("MATCHING_PRIOR_ACCEPTANCE_RATE must be between 0.01 and 1")
    if s.matching_retry_minutes < 1 or s.match_recent_invite_days < 1:
        problems.append("MATCHING_RETRY_MINUTES and MATCH_RECENT_INVITE_DAYS must be >= 1")
    # The formula carries the signs; the search relies on the recent-invitations
    # term only ever lowering a score (docs/MATCHING.md, "The candidate table").
    if min(s.match_weights) < 0:
        problems.append("MATCH_WEIGHT_* must be >= 0 (the ranking formula gives their signs)")
    return problems


def _payment_problems(s: Settings) -> list[str]:
    problems: list[str] = []
    if s.stripe_webhook_secret and not s.stripe_secret_key:
        problems.append("STRIPE_WEBHOOK_SECRET needs STRIPE_SECRET_KEY")
    if s.stripe_secret_key and not s.stripe_webhook_secret:
        problems.append("STRIPE_SECRET_KEY needs STRIPE_WEBHOOK_SECRET (webhooks confirm payments)")
    if s.stripe_api_base and not s.stripe_api_base.startswith(("http://", "https://")):
        problems.append("STRIPE_API_BASE must start with http:// or https://")
    if not (len(s.payment_currency) == 3 and s.payment_currency.isalpha()):
        problems.append("PAYMENT_CURRENCY must be a three-letter ISO 4217 code, e.g. usd")
    if not 1 <= s.seat_hold_minutes <= 24 * 60:
        problems.append("SEAT_HOLD_MINUTES must be between 1 and 1440")
    if not 0 <= s.late_cancellation_hours <= 24 * 30:
        problems.append("LATE_CANCELLATION_HOURS must be between 0 and 720")
    if not 1 <= s.payment_reconcile_after_minutes <= 24 * 60:
        problems.append("PAYMENT_RECONCILE_AFTER_MINUTES must be between 1 and 1440")
    if not 10 <= s.check_in_radius_meters <= 10_000:
        problems.append("CHECK_IN_RADIUS_METERS must be between 10 and 10000")
    if not 0 <= s.check_in_opens_minutes <= 24 * 60:
        problems.append("CHECK_IN_OPENS_MINUTES must be between 0 and 1440")
    if not 0 < s.attendance_report_days <= 30:
        problems.append("ATTENDANCE_REPORT_DAYS must be > 0 and at most 30")
    if not 0 < s.rating_window_days <= 90:
        problems.append("RATING_WINDOW_DAYS must be > 0 and at most 90")
    if not 1 <= s.event_photos_per_person <= 500:
        problems.append("EVENT_PHOTOS_PER_PERSON must be between 1 and 500")
    if not 1 <= s.social_links_per_person <= 50:
        problems.append("SOCIAL_LINKS_PER_PERSON must be between 1 and 50")
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
