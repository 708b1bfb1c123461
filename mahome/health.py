"""The checks behind /healthz; each answers within about two seconds whatever is down."""

import os
from datetime import timedelta
from urllib.parse import urlparse

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from mahome.models import WorkerHeartbeat

OK, DOWN, STALE = "ok", "down", "stale"


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure means "down"; the reason goes to the log
        connection.close_if_unusable_or_obsolete()
        return DOWN
    return OK


def check_broker() -> str:
    url = settings.CELERY_BROKER_URL
    scheme = urlparse(url).scheme
    try:
        if scheme in ("redis", "rediss"):
            client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
            try:
                client.ping()
            finally:
                client.close()
        elif scheme == "filesystem":
            folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
            if not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
                return DOWN
        else:
            from mahome.celery import app

            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=1)
    except Exception:  # noqa: BLE001
        return DOWN
    return OK


def check_worker() -> tuple[str, str | None]:
    """Whether a worker ran the heartbeat recently, and when it last did."""
    try:
        last = WorkerHeartbeat.objects.order_by("-last_seen").values_list("last_seen", flat=True).first()
    except Exception:  # noqa: BLE001
        return STALE, None
    if last is None:
        return STALE, None
    fresh = timezone.now() - last <= timedelta(seconds=settings.MAHOME_WORKER_STALE_AFTER)
    return (OK if fresh else STALE), last.isoformat()
