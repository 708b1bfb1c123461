"""Settings of the processes a fault test starts (web server, Celery worker, management commands).

The test settings, except that tasks go through the real broker named by CELERY_BROKER_URL (a
throwaway Redis) with production's broker timeouts, and emails land in files the test can count.
"""

from mahome.settings import base
from mahome.settings.test import *  # noqa: F403
from mahome.settings.test import env

CELERY_TASK_ALWAYS_EAGER = env.bool("FAULTS_CELERY_EAGER", default=False)
CELERY_TASK_DEFAULT_QUEUE = env("FAULTS_QUEUE", default="celery")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **base.CELERY_BROKER_TRANSPORT_OPTIONS,
    # A task whose worker was SIGKILLed goes back to the queue after this long (6 h in production);
    # the restarted worker looks for such tasks every second.
    "visibility_timeout": env.int("FAULTS_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
if env("FAULTS_EMAIL_DIR", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env("FAULTS_EMAIL_DIR")
