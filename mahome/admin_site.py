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

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The admin signs in through allauth (rate limits, MFA); StaffMFARequiredMiddleware requires TOTP."""
        return secure_admin_login(super().login)(request, extra_context)

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        from mahome.admin_home import program_home  # the home page reads every app's selectors

        return super().index(request, {"home": program_home(request=request), **(extra_context or {})})
