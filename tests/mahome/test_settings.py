import os
import secrets
import subprocess
import sys

from tests.helpers import BASE_DIR, PRODUCTION_ENV


def _manage_in_production(*args: str) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh process with the production settings and a production-like environment."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        **PRODUCTION_ENV,
        "DJANGO_SETTINGS_MODULE": "mahome.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_check_deploy_without_warnings():
    result = _manage_in_production("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env |= {"DJANGO_SETTINGS_MODULE": "mahome.settings.production", "DJANGO_ALLOWED_HOSTS": "x"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_shares_one_cache_between_processes_in_postgresql():
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    result = _manage_in_production("shell", "-c", code)
    assert result.stdout.strip().splitlines()[-1] == "django.core.cache.backends.db.DatabaseCache", result.stderr
