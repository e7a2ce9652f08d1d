"""load_settings(environ): defaults for a laptop, refusals for production.

Pure unit tests: each one passes an explicit environment dict, with a temp
directory as MOMENTO_DATA_DIR so nothing is written into the repository.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import msgspec
import pytest

from server.settings import ENV_NAMES, Settings, SettingsError, load_settings

README = Path(__file__).resolve().parents[1] / "README.md"

SECRET = "s" * 48
TWILIO = {
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "t" * 32,
    "TWILIO_VERIFY_SERVICE_SID": "VA" + "0" * 32,
    "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32,
}


def production_env(data_dir: Path) -> dict[str, str]:
    """A production environment that is complete: it must load."""
    return {
        "MOMENTO_ENV": "production",
        "MOMENTO_DATA_DIR": str(data_dir),
        "DATABASE_URL": "postgresql://momento@db.internal/momento",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "JWT_SECRET": SECRET,
        "S3_BUCKET": "momento-media",
        "STRIPE_SECRET_KEY": "sk_live_" + "k" * 24,
        "STRIPE_WEBHOOK_SECRET": "whsec_" + "w" * 32,
        **TWILIO,
    }


# ── Development defaults ────────────────────────────────────────────────────


def test_dev_defaults(tmp_path: Path) -> None:
    settings = load_settings({"MOMENTO_DATA_DIR": str(tmp_path)})
    assert settings.env == "dev"
    assert settings.port == 8000
    assert settings.data_dir == tmp_path
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.run_workers_in_web is True  # one process: it runs the workers too
    assert not settings.is_production
    assert not settings.uses_twilio


def test_workers_leave_the_web_process_when_there_is_redis(tmp_path: Path) -> None:
    settings = load_settings(
        {"MOMENTO_DATA_DIR": str(tmp_path), "REDIS_URL": "redis://localhost:6379/0"}
    )
    assert settings.run_workers_in_web is False


def test_run_workers_in_web_can_be_set_explicitly(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "MOMENTO_DATA_DIR": str(tmp_path),
            "REDIS_URL": "redis://localhost:6379/0",
            "RUN_WORKERS_IN_WEB": "true",
        }
    )
    assert settings.run_workers_in_web is True


def test_blank_values_count_as_unset(tmp_path: Path) -> None:
    settings = load_settings({"MOMENTO_DATA_DIR": str(tmp_path), "PORT": "  ", "REDIS_URL": ""})
    assert settings.port == 8000
    assert settings.redis_url is None


def test_dev_jwt_secret_is_generated_private_and_stable(tmp_path: Path) -> None:
    """Without JWT_SECRET, dev tokens must survive a restart, and the key must be private."""
    data_dir = tmp_path / "data"  # does not exist yet
    first = load_settings({"MOMENTO_DATA_DIR": str(data_dir)})

    assert len(first.jwt_secret) >= 32
    stored = data_dir / "dev_jwt_secret"
    assert stored.read_text().strip() == first.jwt_secret
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600

    second = load_settings({"MOMENTO_DATA_DIR": str(data_dir)})
    assert second.jwt_secret == first.jwt_secret


def test_given_jwt_secret_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    settings = load_settings({"MOMENTO_DATA_DIR": str(tmp_path), "JWT_SECRET": SECRET})
    assert settings.jwt_secret == SECRET
    assert not (tmp_path / "dev_jwt_secret").exists()


# ── Production ──────────────────────────────────────────────────────────────


def test_complete_production_environment_loads(tmp_path: Path) -> None:
    settings = load_settings(production_env(tmp_path))
    assert settings.is_production
    assert settings.jwt_secret == SECRET
    assert settings.uses_twilio
    assert settings.run_workers_in_web is False
    assert list(tmp_path.iterdir()) == []  # no generated secret, nothing written


def test_production_names_every_problem_at_once(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(
            {
                "MOMENTO_ENV": "production",
                "MOMENTO_DATA_DIR": str(tmp_path),
                "AUTH_TEST_PHONE_PREFIX": "+1202555",
                "AUTH_TEST_OTP_CODE": "123456",
            }
        )
    message = str(raised.value)
    for problem in (
        "DATABASE_URL",
        "REDIS_URL",
        "JWT_SECRET",
        "Twilio",
        "S3_BUCKET",
        "STRIPE_SECRET_KEY",
        "AUTH_TEST_PHONE_PREFIX",
    ):
        assert problem in message, message
    assert list(tmp_path.iterdir()) == []  # refused before generating a dev secret


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("DATABASE_URL", "DATABASE_URL"),
        ("REDIS_URL", "REDIS_URL"),
        ("STRIPE_SECRET_KEY", "STRIPE_SECRET_KEY"),
        ("STRIPE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET"),
        ("TWILIO_MESSAGING_SERVICE_SID", "TWILIO_MESSAGING_SERVICE_SID"),
        ("JWT_SECRET", "JWT_SECRET"),
        ("TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN"),
    ],
)
def test_production_refuses_each_missing_setting(tmp_path: Path, missing: str, named: str) -> None:
    env = production_env(tmp_path)
    del env[missing]
    with pytest.raises(SettingsError, match=named):
        load_settings(env)


@pytest.mark.parametrize(
    "test_backdoor",
    [
        {"AUTH_TEST_PHONE_PREFIX": "+1202555", "AUTH_TEST_OTP_CODE": "123456"},
        {"AUTH_TEST_PHONE_PREFIX": "+1202555"},
        {"AUTH_TEST_OTP_CODE": "123456"},
    ],
)
def test_production_refuses_the_test_sign_in_backdoor(
    tmp_path: Path, test_backdoor: dict[str, str]
) -> None:
    with pytest.raises(SettingsError, match="not allowed in production"):
        load_settings({**production_env(tmp_path), **test_backdoor})


# ── Invalid values ──────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"PORT": "abc"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"PORT": "0"}, "PORT"),
        ({"JWT_SECRET": "too-short"}, "JWT_SECRET"),
        ({"AUTH_TEST_PHONE_PREFIX": "+1202555"}, "AUTH_TEST_OTP_CODE"),
        ({"AUTH_TEST_OTP_CODE": "123456"}, "AUTH_TEST_PHONE_PREFIX"),
        ({"AUTH_TEST_PHONE_PREFIX": "+1202555", "AUTH_TEST_OTP_CODE": "12ab56"}, "OTP_CODE"),
        ({"TWILIO_ACCOUNT_SID": TWILIO["TWILIO_ACCOUNT_SID"]}, "TWILIO_AUTH_TOKEN"),
        (
            {k: v for k, v in TWILIO.items() if k != "TWILIO_VERIFY_SERVICE_SID"},
            "TWILIO_VERIFY_SERVICE_SID",
        ),
        ({"MOMENTO_ENV": "staging"}, "MOMENTO_ENV"),
        ({"DATABASE_POOL_MAX": "lots"}, "DATABASE_POOL_MAX"),
        # The search's cut relies on the recent-invitations term never raising a score.
        ({"MATCH_WEIGHT_RECENT_INVITES": "-0.05"}, "MATCH_WEIGHT_"),
        ({"MATCH_WEIGHT_INTERESTS": "-1"}, "MATCH_WEIGHT_"),
    ],
)
def test_invalid_value_is_refused_naming_the_variable(
    tmp_path: Path, overrides: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings({"MOMENTO_DATA_DIR": str(tmp_path), **overrides})


# ── Variable names ──────────────────────────────────────────────────────────


def test_every_field_is_read_from_its_upper_cased_name_or_a_named_exception() -> None:
    exceptions = {"env": "MOMENTO_ENV", "data_dir": "MOMENTO_DATA_DIR"}
    fields = [f.name for f in msgspec.structs.fields(Settings)]
    assert {field: exceptions.get(field, field.upper()) for field in fields} == ENV_NAMES
    assert len(set(ENV_NAMES.values())) == len(fields)


def test_readme_configuration_table_lists_every_variable() -> None:
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    listed = {name for cell in first_cells for name in re.findall(r"`([A-Z0-9_]+)`", cell)}
    assert set(ENV_NAMES.values()) - listed == set()
