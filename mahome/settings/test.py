"""The test suite: always PostgreSQL (select_for_update and constraints are what we test)."""

import os
from pathlib import Path

# Under pytest-xdist each worker has a var/ folder of its own (media, credential keys, the filesystem
# broker's and the drop folders), and so has every process its tests start, which inherits the
# environment. Its test database gets a suffix from pytest-django (test_mahome_gw0, ...).
if os.environ.get("PYTEST_XDIST_WORKER") and "MAHOME_VAR_DIR" not in os.environ:
    os.environ["MAHOME_VAR_DIR"] = str(
        Path(__file__).resolve().parents[2] / "var" / "test-workers" / os.environ["PYTEST_XDIST_WORKER"]
    )

from .base import *  # noqa: F403
from .base import DATABASES, env

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-production-use-0123456789"
DATABASES["default"] = env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/mahome")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("MAHOME_TEST_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
DATABASES["default"]["TEST"] = {"NAME": env("MAHOME_TEST_DB_NAME", default=None)}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/15")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2, "socket_timeout": 5}
# Tasks run in the test process unless a test starts a real worker.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ACCOUNT_RATE_LIMITS = {**ACCOUNT_RATE_LIMITS}  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
