"""The Celery application: Redis in production, kombu's filesystem transport locally."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mahome.settings.local")

app = Celery("mahome")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def create_filesystem_broker_folders(options: dict | None) -> None:
    """kombu's filesystem transport needs its folders before anyone publishes or polls."""
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        folder = (options or {}).get(key)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)


@worker_init.connect
def _create_filesystem_broker_folders(**kwargs) -> None:
    create_filesystem_broker_folders(app.conf.broker_transport_options)
