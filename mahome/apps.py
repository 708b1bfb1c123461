from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class MahomeConfig(AppConfig):
    name = "mahome"
    verbose_name = _("MA Home")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mahome import job_runs  # noqa: F401  (connects the scheduled jobs' run recorder)

        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            from mahome.celery import create_filesystem_broker_folders

            create_filesystem_broker_folders(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
