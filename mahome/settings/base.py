"""Settings shared by every environment; each environment module imports these.

Everything that differs between machines comes from the environment (django-environ),
so the same code runs locally, in the test suite and in production.
"""

from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# Local state of the embedded run (SQLite file, filesystem broker, uploads, static files).
VAR_DIR = Path(env("MAHOME_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("MAHOME_SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "mahome.apps.AdminConfig",  # django.contrib.admin with the program team's site (mahome.admin_site)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "allauth.mfa",
    "allauth.usersessions",
    "import_export",
    "simple_history",
    "django_celery_beat",
    "django_filters",
    "django_htmx",
    "csp",
    "mahome",
    "accounts",
    "contributions",
    "engagements",
    "community_levels",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mahome.middleware.DatabaseUnavailableMiddleware",
    "mahome.middleware.MethodNotAllowedPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mahome.middleware.MemberTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.SessionActivityMiddleware",
    "accounts.middleware.StaffMFARequiredMiddleware",
    "accounts.middleware.SSOProviderUnavailableMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "mahome.urls"
WSGI_APPLICATION = "mahome.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mahome.context_processors.site",
            ],
        },
    },
]

# The embedded default is SQLite so that `scripts/serve` needs nothing installed;
# every real deployment (and the test suite) sets DATABASE_URL to PostgreSQL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'mahome.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
# A connection that died with a PostgreSQL restart is replaced on the next request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 2)
else:
    # SQLite (the embedded local run only): web, worker and beat share one file. WAL lets
    # readers run beside the writer; IMMEDIATE transactions wait for the lock instead of
    # failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    DATABASES["default"]["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")

# One cache shared by every process where it matters (rate limits of sign-in, reset and MFA):
# production defaults to a table in PostgreSQL, which keeps working while Redis is down.
# The rendered bodies of the dashboard and the opportunities list (mahome/page_cache.py), keyed by a
# fingerprint of their data so an entry is never stale: a per-process LRU by default (nothing to
# share, nothing to invalidate); DASHBOARD_CACHE_URL (e.g. redis://…) shares them between processes.
DASHBOARD_CACHE = env.cache("DASHBOARD_CACHE_URL", default="locmemcache://mahome-dashboard")
if DASHBOARD_CACHE["BACKEND"].endswith("LocMemCache"):
    DASHBOARD_CACHE["OPTIONS"] = {"MAX_ENTRIES": env.int("DASHBOARD_CACHE_ENTRIES", default=2000)}
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://"), "dashboard": DASHBOARD_CACHE}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["mahome.formats"]

STATIC_URL = "/static/"
STATIC_ROOT: Path | None = VAR_DIR / "staticfiles"  # the test run serves from the finders (None)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env("MAHOME_MEDIA_ROOT", default=str(VAR_DIR / "media"))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- django-import-export ------------------------------------------------------
# Importing needs the model's "add" permission (verifiers read and export, they do not import).
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
# A second guard behind accounts.spreadsheets.FormulaSafeResource: import-export strips a leading "=".
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "account_login"

# --- Email -----------------------------------------------------------------
EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="MA Home <mahome@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10

# --- django-allauth -----------------------------------------------------------
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
# Forgotten-password keys (PASSWORD_RESET_TIMEOUT) and invitation keys (MAHOME_INVITATION_VALID_DAYS).
ACCOUNT_PASSWORD_RESET_TOKEN_GENERATOR = "accounts.invitation_links.PasswordResetOrInvitationTokenGenerator"
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[MA Home] "
ACCOUNT_RATE_LIMITS = {
    # Failed password sign-ins (accounts/adapters.py): per account and address, per account from
    # anywhere, and a high per-address ceiling against spraying only (offices share addresses).
    "login_failed_account_address": "5/5m/key",
    "login_failed_account": "20/h/key",
    "login_failed_address": "100/15m/ip",
    # Every sign-in post, right or wrong, per address (allauth's default is 30/m): generous, as a
    # whole office may sign in at nine o'clock through one address.
    "login": "120/m/ip",
    # allauth's own action, now only for MFA codes (keyed by the member).
    "login_failed": "100/15m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/5m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
}
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_PROVIDERS: dict = {}
ACCOUNT_FORMS = {"login": "accounts.forms.SignInForm"}
# Where a person without an account (or with a refused SSO login) is told to write.
# How long an invitation's set-password link works (a resent invitation gets a fresh link).
MAHOME_INVITATION_VALID_DAYS = env.int("MAHOME_INVITATION_VALID_DAYS", default=14)
MAHOME_SUPPORT_EMAIL = env("MAHOME_SUPPORT_EMAIL", default="ma-program@mahome.example")
# What /help/ promises members: the program team verifies a submission within this many working days.
MAHOME_VERIFICATION_WORKING_DAYS = env.int("MAHOME_VERIFICATION_WORKING_DAYS", default=10)
# /dev/outbox/ lists the emails written by the file email backend (the local run only; never production).
MAHOME_DEV_OUTBOX = False
# The issuer named on every certificate and credential (the program and its public address).
MAHOME_ISSUER_NAME = env("MAHOME_ISSUER_NAME", default="Master Anaplanner Program")
MAHOME_ISSUER_URL = env("MAHOME_ISSUER_URL", default=SITE_URL)
# The program's LinkedIn organization id, if it has a page: "Add to profile" then links it.
MAHOME_LINKEDIN_ORGANIZATION_ID = env("MAHOME_LINKEDIN_ORGANIZATION_ID", default="")
# GET /verify/<code>.json per client address (allauth's rate-limit syntax: amount/period/per).
MAHOME_VERIFY_JSON_RATE = env("MAHOME_VERIFY_JSON_RATE", default="60/m/ip")
# The key that signs Open Badges credentials (PEM, ES256/P-256) and the public JWKs of earlier keys
# (a JSON list) that stay published after a rotation. Empty locally: contributions.issuer_keys then
# generates one under var/credential-keys/. Production requires it (settings/production.py).
MAHOME_CREDENTIAL_SIGNING_KEY = env("MAHOME_CREDENTIAL_SIGNING_KEY", default="")
MAHOME_CREDENTIAL_RETIRED_KEYS = env("MAHOME_CREDENTIAL_RETIRED_KEYS", default="[]")
# The most points one contribution may earn, whoever decides it and whatever override they give.
MAHOME_MAX_POINTS_PER_CONTRIBUTION = env.int("MAHOME_MAX_POINTS_PER_CONTRIBUTION", default=500)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "MA Home"
USERSESSIONS_TRACK_ACTIVITY = True
# A member's session list ("last seen") is rewritten at most this often (accounts.middleware).
MAHOME_SESSION_ACTIVITY_SECONDS = env.int("MAHOME_SESSION_ACTIVITY_SECONDS", default=300)
# Where the client's address comes from (allauth 65: allauth/core/internal/httpkit.py get_client_ip):
# the X-Forwarded-For entry appended by the n-th trusted proxy, or a header the proxy sets. Neither
# is trusted unless configured: a client can write any X-Forwarded-For it likes.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env("ALLAUTH_TRUSTED_CLIENT_IP_HEADER", default=None)

# --- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_FOLDER = Path(env("CELERY_BROKER_FOLDER", default=str(VAR_DIR / "broker")))
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any]
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "processed_folder": str(CELERY_BROKER_FOLDER / "processed"),
        # kombu writes its exchange table to ./control unless told otherwise.
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any countdown (email retries: 30 min at most) and any task's time limit
        # (30 min), so an unacked task is not redelivered early; a task lost with its worker
        # comes back within the hour.
        "visibility_timeout": 3600,
        "socket_connect_timeout": 2,
        # A frozen Redis (connections accepted, never answered) holds a web request that publishes
        # for this long; the outbox sweep sends what could not be published (tests/faults).
        "socket_timeout": 2,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
# A web request must not hang when the broker is away: fail fast, the outbox sweep resends.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BEAT_SCHEDULER = "mahome.beat:DefaultsOnlyDatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Default schedules; django-celery-beat copies them into the database, where admins edit them.
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "mahome.tasks.heartbeat", "schedule": 60.0},
    "notifications-outbox-sweep": {
        "task": "accounts.tasks.notification_outbox_sweep",
        "schedule": crontab(minute="*/5"),
    },
    "maintenance-deadline-reminders": {
        "task": "contributions.tasks.maintenance_deadline_reminders",
        "schedule": crontab(hour=8, minute=0),
    },
    "maintenance-monthly-status": {
        "task": "contributions.tasks.maintenance_monthly_status",
        "schedule": crontab(day_of_month="1", hour=8, minute=30),
    },
    "maintenance-review-notifications": {
        "task": "contributions.tasks.review_notifications",
        "schedule": crontab(hour=9, minute=0),
    },
    "engagements-offers-expire": {
        "task": "engagements.tasks.offers_expire",
        "schedule": crontab(minute="*/5"),
    },
    "community-drop-folder": {"task": "community_levels.tasks.drop_folder_ingest_task", "schedule": 300.0},
    "community-sources-sync": {
        "task": "community_levels.tasks.sources_sync_all_task",
        "schedule": crontab(minute="*/30"),
    },
    "community-link-accounts": {
        "task": "community_levels.tasks.members_link_accounts_task",
        "schedule": crontab(minute=15, hour="*/6"),
    },
    "community-boss-windows": {
        "task": "community_levels.tasks.boss_windows_ensure_task",
        "schedule": crontab(minute=5, hour=3),
    },
    "contributions-audits-sample": {
        "task": "contributions.tasks.audits_sample_weekly",
        "schedule": crontab(day_of_week="1", hour=6, minute=0),
    },
}
# --- Community levels ----------------------------------------------------------------
# Files dropped here (JSON Lines or CSV) are ingested by beat and moved to processed/.
COMMUNITY_DROP_FOLDER = Path(env("COMMUNITY_DROP_FOLDER", default=str(VAR_DIR / "community-drop")))
# Events written per transaction when a file is ingested. A crash loses no work (a re-run skips what is
# stored); larger batches share each batch's fixed cost (staging, member lookups, aggregates).
COMMUNITY_INGEST_BATCH_SIZE = env.int("COMMUNITY_INGEST_BATCH_SIZE", default=1_000_000)
# Months in which the Boss program takes applications (one window per month, whole month).
COMMUNITY_BOSS_WINDOW_MONTHS = tuple(env.list("COMMUNITY_BOSS_WINDOW_MONTHS", cast=int, default=[2, 7]))
COMMUNITY_CONNECTOR_MAX_ATTEMPTS = env.int("COMMUNITY_CONNECTOR_MAX_ATTEMPTS", default=5)
COMMUNITY_CONNECTOR_BACKOFF_SECONDS = env.float("COMMUNITY_CONNECTOR_BACKOFF_SECONDS", default=2.0)
# Discourse allows 60 admin API requests a minute per site, shared by all its integrations
# (config/discourse_defaults.conf max_admin_api_reqs_per_minute); leave room for the others.
COMMUNITY_DISCOURSE_REQUESTS_PER_MINUTE = env.float("COMMUNITY_DISCOURSE_REQUESTS_PER_MINUTE", default=40)
# Rows per Data Explorer request (the plugin's default result limit is 1000, its maximum 10000).
COMMUNITY_DISCOURSE_PAGE_SIZE = env.int("COMMUNITY_DISCOURSE_PAGE_SIZE", default=1000)
# Accepted solutions are sparse among Discourse's user_actions: ids scanned per request, so a
# query stays well under the Data Explorer's 10-second statement timeout.
COMMUNITY_DISCOURSE_SOLUTIONS_SCAN = env.int("COMMUNITY_DISCOURSE_SOLUTIONS_SCAN", default=500_000)
# A pull stops starting new pages after this long (below the task's soft time limit); the next run
# continues from the stored cursor.
COMMUNITY_SOURCE_RUN_SECONDS = env.int("COMMUNITY_SOURCE_RUN_SECONDS", default=20 * 60)

# The worker counts as alive when its heartbeat is younger than this (seconds).
MAHOME_WORKER_STALE_AFTER = env.int("MAHOME_WORKER_STALE_AFTER", default=180)

# --- Content Security Policy (no inline script or style anywhere) -------------------
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF, "http:", "https:"],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
    },
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
