"""Production: every secret comes from the environment, with no default."""

from .base import *  # noqa: F403
from .base import DASHBOARD_CACHE, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
# The credential signing key has no default here: a production deployment without one must not
# start and sign with a throwaway key (docs/credentials.md, "Keys and rotation").
MAHOME_CREDENTIAL_SIGNING_KEY = env("MAHOME_CREDENTIAL_SIGNING_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 2
CACHES = {"default": env.cache("CACHE_URL", default="dbcache://mahome_cache"), "dashboard": DASHBOARD_CACHE}
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2, "socket_timeout": 2}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# /healthz is probed by load balancers over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
# Behind the one load balancer of docs/deployment.md, which appends the client's address to
# X-Forwarded-For: the last entry is the client (rate limits of sign-in, reset and MFA).
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=1)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env("ALLAUTH_TRUSTED_CLIENT_IP_HEADER", default=None)

EMAIL_CONFIG = env.email("EMAIL_URL")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MEDIA_ROOT = env("MAHOME_MEDIA_ROOT")
