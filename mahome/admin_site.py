"""The program team's admin site: Django's, signing in through allauth and opening on the home page.

`mahome.apps.AdminConfig` makes it `admin.site`, so every app's `@admin.register` lands here.
"""

from typing import Any

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


class ReadOnlyAdminMixin:
    """A record the admin shows but never adds, changes or deletes through its generic forms (a review's
    outcomes and runs, audit runs, certificates: their own pages or jobs write them)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MAHomeAdminSite(admin.AdminSite):
    site_header = "MA Home — program administration"
    site_title = "MA Home admin"
    index_title = "Program administration"
    # /admin/ opens on the program team's home page: the queue, the year's statuses, failures, jobs.
    index_template = "admin/program_home.html"

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        """Django's app list (the sidebar of every admin page, the index), its app and model names translated
        once: Django keeps them lazy, so its sort translated both names at every comparison and the sidebar
        again at every use (~3 ms of each admin page, with 40-odd models; issue 16)."""
        app_dict = self._build_app_dict(request, app_label)
        for app in app_dict.values():
            app["name"] = str(app["name"])
            for model in app["models"]:
                model["name"] = str(model["name"])
        app_list = sorted(app_dict.values(), key=lambda app: app["name"].lower())  # Django's order
        for app in app_list:
            app["models"].sort(key=lambda model: model["name"])
        return app_list

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The admin signs in through allauth (rate limits, MFA); StaffMFARequiredMiddleware requires TOTP."""
        return secure_admin_login(super().login)(request, extra_context)

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        from mahome.admin_home import program_home  # the home page reads every app's selectors

        return super().index(request, {"home": program_home(request=request), **(extra_context or {})})
