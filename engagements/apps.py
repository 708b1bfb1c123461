from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementsConfig(AppConfig):
    name = "engagements"
    verbose_name = _("Engagement opportunities")
    default_auto_field = "django.db.models.BigAutoField"
