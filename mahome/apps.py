from pathlib import Path

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class MahomeConfig(AppConfig):
    name = "mahome"
    verbose_name = _("MA Home")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # kombu's filesystem transport needs its folders before anyone publishes.
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            for key in ("data_folder_in", "data_folder_out", "processed_folder"):
                if options.get(key):
                    Path(options[key]).mkdir(parents=True, exist_ok=True)
