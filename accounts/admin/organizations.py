"""Organizations, their email domains and single sign-on connections."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import (
    Organization,
    OrganizationDomain,
    SSOConnection,
)


class OrganizationDomainForm(forms.ModelForm):
    class Meta:
        model = OrganizationDomain
        fields = ["domain"]

    def clean_domain(self) -> str:
        return self.cleaned_data["domain"].strip().lower().lstrip("@")


class OrganizationDomainInline(admin.TabularInline):
    model = OrganizationDomain
    form = OrganizationDomainForm
    extra = 1


class SSOConnectionInline(admin.TabularInline):
    model = SSOConnection
    fields = readonly_fields = ("kind", "slug", "button_label")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "fallback_policy", "contact_name", "contact_email"]
    list_filter = ["fallback_policy"]
    search_fields = ["name", "domains__domain"]
    inlines = [OrganizationDomainInline, SSOConnectionInline]


class SSOConnectionForm(forms.ModelForm):
    class Meta:
        model = SSOConnection
        fields = [
            "organization",
            "kind",
            "slug",
            "button_label",
            "server_url",
            "client_id",
            "client_secret",
            "idp_entity_id",
            "idp_metadata_url",
            "saml_attribute_mapping",
        ]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        probe = SSOConnection(**cleaned)  # the posted values; the instance takes them after clean()
        for field, problem in services.sso_connection_problems(connection=probe).items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, problem)
        return cleaned


@admin.register(SSOConnection)
class SSOConnectionAdmin(admin.ModelAdmin):
    form = SSOConnectionForm
    list_display = ["organization", "kind", "slug", "social_app"]
    list_filter = ["kind"]
    list_select_related = ["organization", "social_app"]
    fieldsets = (
        (None, {"fields": ("organization", "kind", "slug", "button_label")}),
        (_("OpenID Connect"), {"fields": ("server_url", "client_id", "client_secret")}),
        (_("SAML 2.0"), {"fields": ("idp_entity_id", "idp_metadata_url", "saml_attribute_mapping")}),
    )

    def save_model(self, request, obj, form, change) -> None:
        services.sso_connection_sync(connection=obj)
