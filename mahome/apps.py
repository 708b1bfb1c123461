from django.apps import AppConfig
from django.conf import settings
from django.contrib.admin import apps as admin_apps
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


class AdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with the program team's site as `admin.site` (INSTALLED_APPS names it)."""

    default = False  # "mahome" in INSTALLED_APPS still means MahomeConfig
    default_site = "mahome.admin_site.MAHomeAdminSite"
