"""The program team's admin site: Django's, signing in through allauth and opening on the home page.

`mahome.apps.AdminConfig` makes it `admin.site`, so every app's `@admin.register` lands here.
"""

from collections.abc import Callable
from typing import Any

from allauth.account.decorators import secure_admin_login
from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import get_language

from mahome.errors import DomainError, show_refusal

# The app list's URLs (two per model, one per app: ~90 `reverse` calls on every admin page, ~1.5 ms), kept
# by everything a reversal depends on: the URL's name and arguments, the site, the URLconf (the request's,
# else ROOT_URLCONF), the script prefix and the language. A URLconf's patterns do not change while it runs.
_REVERSED: dict[tuple, str | None] = {}


class ReadOnlyAdminMixin:
    """A record the admin shows but never adds, changes or deletes through its generic forms (a review's
    outcomes and runs, audit runs, certificates: their own pages or jobs write them)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def reasoned_action_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    allowed: bool,
    queryset: QuerySet,
    pk: int,
    form_class: type[forms.Form],
    run: Callable[[Any, str], Any],
    done: Callable[[Any, Any], tuple[str, str]],
    template: str,
    context: Callable[[Any], dict[str, Any]],
) -> HttpResponse:
    """A staff action on one record that takes a reason and cannot be undone here (a certificate revoked or
    re-issued, an opt-out taken back): refused without the right, 404 for another id, the form's one field
    the reason, the service's refusal beside that field, and on success a message and the next page.

    `run(record, reason)` calls the service and returns what it made; `done(record, result)` the message and
    the address to go to; `context(record)` what the page's template shows besides `form`.
    """
    if not allowed:
        raise PermissionDenied
    record: Model | None = queryset.filter(pk=pk).first()
    if record is None:
        raise Http404
    form = form_class(request.POST or None)
    (field,) = form.fields
    if request.method == "POST" and form.is_valid():
        try:
            result = run(record, form.cleaned_data[field])
        except DomainError as error:
            show_refusal(request, error, form=form, field=field)
        else:
            message, url = done(record, result)
            messages.success(request, message)
            return redirect(url)
    page = {**model_admin.admin_site.each_context(request), **context(record), "form": form, "opts": model_admin.opts}
    return TemplateResponse(request, template, page)


class MAHomeAdminSite(admin.AdminSite):
    site_header = "MA Home — program administration"
    site_title = "MA Home admin"
    index_title = "Program administration"
    # /admin/ opens on the program team's home page: the queue, the year's statuses, failures, jobs.
    index_template = "admin/program_home.html"

    def _build_app_dict(self, request: HttpRequest, label: str | Promise | None = None) -> dict[str, Any]:
        """Django's `AdminSite._build_app_dict` (Django 5.2), the same dict, its names as plain text and its
        URLs reversed once per process (`_REVERSED`); `tests/mahome/test_admin_site.py` compares the two."""
        urlconf = get_urlconf() or settings.ROOT_URLCONF  # the request's, else the root one
        where = (self.name, urlconf, get_script_prefix(), get_language())
        app_dict: dict[str, Any] = {}
        for model, model_admin in self._registry.items():
            app_label = model._meta.app_label
            if label and app_label != label:
                continue
            has_module_perms = model_admin.has_module_permission(request)
            if not has_module_perms:
                continue
            perms = model_admin.get_model_perms(request)
            if True not in perms.values():
                continue
            model_dict = {
                "model": model,
                "name": str(capfirst(model._meta.verbose_name_plural)),
                "object_name": model._meta.object_name,
                "perms": perms,
                "admin_url": None,
                "add_url": None,
            }
            if perms.get("change") or perms.get("view"):
                model_dict["view_only"] = not perms.get("change")
                model_dict["admin_url"] = _reversed(where, f"admin:{app_label}_{model._meta.model_name}_changelist")
            if perms.get("add"):
                model_dict["add_url"] = _reversed(where, f"admin:{app_label}_{model._meta.model_name}_add")
            if app_label in app_dict:
                app_dict[app_label]["models"].append(model_dict)
            else:
                app_dict[app_label] = {
                    "name": str(apps.get_app_config(app_label).verbose_name),
                    "app_label": app_label,
                    "app_url": _reversed(where, "admin:app_list", app_label=app_label, missing=False),
                    "has_module_perms": has_module_perms,
                    "models": [model_dict],
                }
        return app_dict

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The admin signs in through allauth (rate limits, MFA); StaffMFARequiredMiddleware requires TOTP."""
        return secure_admin_login(super().login)(request, extra_context)

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        from mahome.admin_home import program_home  # the home page reads every app's selectors

        return super().index(request, {"home": program_home(request=request), **(extra_context or {})})


def _reversed(where: tuple, viewname: str, *, missing: bool = True, **kwargs: str) -> str | None:
    """`reverse(viewname, kwargs=kwargs, current_app=site)` for the request `where` says (site, URLconf,
    script prefix, language), computed once per process. A name that does not reverse gives None when
    `missing` (as Django's app list leaves a model's URL), else raises NoReverseMatch as Django does."""
    key = (where, viewname, tuple(sorted(kwargs.items())))
    if key not in _REVERSED:
        try:
            _REVERSED[key] = reverse(viewname, kwargs=kwargs or None, current_app=where[0])
        except NoReverseMatch:
            if not missing:
                raise
            _REVERSED[key] = None
    return _REVERSED[key]
