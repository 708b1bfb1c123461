from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.middleware import session_activity_on_login
        from accounts.roles import roles_sync_permissions

        user_logged_in.connect(session_activity_on_login, dispatch_uid="accounts.session_activity_on_login")

        post_migrate.connect(roles_sync_permissions, dispatch_uid="accounts.roles_sync_permissions")
