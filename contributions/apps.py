from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContributionsConfig(AppConfig):
    name = "contributions"
    verbose_name = _("Certification maintenance")
    default_auto_field = "django.db.models.BigAutoField"
