from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContributionsConfig(AppConfig):
    name = "contributions"
    verbose_name = _("Certification maintenance")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.signals import member_certified
        from contributions.receivers import issue_certificates_on_certification

        member_certified.connect(issue_certificates_on_certification, dispatch_uid="contributions.issue_certificates")
