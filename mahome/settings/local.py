"""The embedded local run (`scripts/serve`): SQLite and a filesystem broker unless told otherwise."""

from .base import *  # noqa: F403
from .base import VAR_DIR, env

# MA Home's own 404, 405 and 500 pages, as in production; DJANGO_DEBUG=true brings Django's back.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Static files straight from the source folders (no collectstatic needed for `manage.py runserver`).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Emails (invitations, resets, reminders) are files under var/outbox/, read at /dev/outbox/,
# instead of hundreds of lines on the terminal. EMAIL_URL sends them for real instead.
if not env("EMAIL_URL", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "outbox")
    MAHOME_DEV_OUTBOX = True  # /dev/outbox/ reads those files; with EMAIL_URL there are none
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-only-insecure-key-do-not-use-in-production")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# kombu's filesystem transport warns "No hostname was supplied" on every publish: not news locally.
LOGGING["loggers"]["kombu.connection"] = {"level": "ERROR"}  # noqa: F405
