from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityLevelsConfig(AppConfig):
    name = "community_levels"
    verbose_name = _("Community levels")
    default_auto_field = "django.db.models.BigAutoField"
