"""Certificates (revoke, re-issue, public or not) and the MA roster with each member's certificate number."""

from datetime import date
from typing import TYPE_CHECKING, TypedDict

from django import forms
from django.contrib import admin
from django.http import HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import MACertificationAdmin
from accounts.exports import EXPORT_FORMATS
from accounts.models import MACertification
from accounts.requests import AuthenticatedRequest
from contributions import selectors, services
from contributions.models import (
    Certificate,
)
from contributions.resources import (
    CertificateResource,
)
from contributions.services import certificates as certificate_services
from mahome.admin_site import ReadOnlyAdminMixin, reasoned_action_page

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class CurrentNumber(TypedDict):
        """What the roster's queryset adds (`selectors.current_certificate_number`)."""

        current_certificate_number: str | None


class CertificateActionForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=300)


class CertificateRevokeForm(CertificateActionForm):
    text = forms.CharField(
        label=_("Reason (shown on the public page)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=300
    )


class CertificateReissueForm(CertificateActionForm):
    text = forms.CharField(label=_("What was corrected"), widget=forms.Textarea(attrs={"rows": 3}), max_length=300)


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdminMixin, ExportMixin, SimpleHistoryAdmin):
    """Certificates are never deleted: staff revoke one with a reason, or re-issue it after a correction."""

    export_formats = EXPORT_FORMATS
    list_display = ["number", "member", "year", "valid_from", "last_valid_day", "status_display", "issued_at", "links"]
    list_filter = ["year", "state", "source"]
    search_fields = ["number", "member__email", "member__last_name", "verification_code"]
    list_select_related = ["member"]
    raw_id_fields = ["member"]
    resource_classes = [CertificateResource]
    readonly_fields = [
        "member",
        "number",
        "year",
        "source",
        "program_year",
        "valid_from",
        "last_valid_day",
        "issued_at",
        "status_display",
        "revoked_at",
        "revoked_reason",
        "revoked_by",
        "superseded_at",
        "superseded_by",
        "correction",
        "is_public",
        "links",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member", "program_year", "revoked_by", "superseded_by")

    @admin.display(description=_("valid until"), ordering="valid_until")
    def last_valid_day(self, obj: Certificate) -> date:
        """The last day it is valid, as the member's pages show it (the stored bound is the day after)."""
        return obj.last_valid_day

    @admin.display(description=_("Status"))
    def status_display(self, obj: Certificate) -> str:
        from contributions import selectors

        return selectors.certificate_status_text(certificate=obj)

    @admin.display(description=_("Links"))
    def links(self, obj: Certificate) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("certificate_verify", args=[obj.verification_code]), _("Public page")
        )

    @admin.display(description=_("Links"))
    def links_and_actions(self, obj: Certificate) -> str:
        """For staff who may revoke and re-issue (a role that may not is not shown the buttons)."""
        items = [(reverse("certificate_verify", args=[obj.verification_code]), _("Public page"))]
        if obj.state != Certificate.State.SUPERSEDED:
            if obj.revoked_at is None:
                items.append((reverse("admin:contributions_certificate_revoke", args=[obj.pk]), _("Revoke")))
            items.append((reverse("admin:contributions_certificate_reissue", args=[obj.pk]), _("Re-issue")))
        return format_html_join(" · ", '<a href="{}">{}</a>', items)

    def _links_for(self, request, names) -> list[str]:
        chosen = "links_and_actions" if self._may_act(request) else "links"
        return [chosen if name == "links" else name for name in names]

    def get_list_display(self, request):
        return self._links_for(request, super().get_list_display(request))

    def get_readonly_fields(self, request, obj=None):
        return self._links_for(request, super().get_readonly_fields(request, obj))

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    def has_export_permission(self, request):
        return request.user.has_perm("contributions.view_certificate")

    def changelist_view(self, request, extra_context=None):
        title = _("Certificates: revoked or re-issued with a reason, never deleted")
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    @staticmethod
    def _may_act(request) -> bool:
        return request is not None and request.user.has_perm("contributions.change_certificate")

    def get_urls(self):
        return [
            path(
                "<int:pk>/revoke/",
                self.admin_site.admin_view(self.revoke_view),
                name="contributions_certificate_revoke",
            ),
            path(
                "<int:pk>/reissue/",
                self.admin_site.admin_view(self.reissue_view),
                name="contributions_certificate_reissue",
            ),
            *super().get_urls(),
        ]

    def revoke_view(self, request: AuthenticatedRequest, pk: int) -> HttpResponse:
        return self._action_page(
            request,
            pk,
            form_class=CertificateRevokeForm,
            title=_("Revoke certificate %(number)s"),
            explanation=_(
                "Revoking cannot be undone. From now on the public page, the JSON answer and the signed "
                "credential's status list say this certificate is revoked, on today's date, with the reason "
                "below (shown publicly). The certificate is kept; to correct facts instead, re-issue it."
            ),
            button=_("Revoke the certificate"),
            run=lambda certificate, text: services.certificate_revoke(
                certificate=certificate, reason=text, by=request.user
            ),
            done=_("Certificate %(number)s is revoked."),
        )

    def reissue_view(self, request: AuthenticatedRequest, pk: int) -> HttpResponse:
        return self._action_page(
            request,
            pk,
            form_class=CertificateReissueForm,
            title=_("Re-issue certificate %(number)s"),
            explanation=_(
                "A new certificate with the same number and dates, and the holder's details as they are now, "
                "replaces this one. It gets a new verification code; the old code's page says it was replaced, "
                "and the old signed credential no longer verifies."
            ),
            button=_("Re-issue the certificate"),
            run=lambda certificate, text: services.certificate_reissue(
                certificate=certificate, correction=text, by=request.user
            ),
            done=_("Certificate %(number)s was re-issued."),
        )

    def _action_page(self, request, pk, *, form_class, title, explanation, button, run, done) -> HttpResponse:
        return reasoned_action_page(
            self,
            request,
            allowed=self._may_act(request),
            queryset=Certificate.objects.select_related("member"),
            pk=pk,
            form_class=form_class,
            run=run,
            done=lambda _certificate, result: (
                done % {"number": result.number},
                reverse("admin:contributions_certificate_change", args=[result.pk]),
            ),
            template="admin/contributions/certificate/action.html",
            context=lambda certificate: {
                "title": title % {"number": certificate.number},
                "explanation": explanation,
                "certificate": certificate,
                "button": button,
            },
        )


# --- The MA roster with the current certificate's number -------------------------------------------
# `accounts` knows nothing of certificates (apps depend one way), so the roster it registers is
# completed here: the same admin, with the number of each member's current certificate (the one
# members and employers see) and the reference typed at import kept apart as the legacy number.

admin.site.unregister(MACertification)


@admin.register(MACertification)
class MACertificationRosterAdmin(MACertificationAdmin):
    # The legacy number goes under the current one, in the same cell: the roster fits 1280 px.
    list_display = [
        "certificate_numbers" if name == "certificate" else name for name in MACertificationAdmin.list_display
    ]
    list_display_links = [
        "certificate_numbers" if name == "certificate" else name for name in MACertificationAdmin.list_display_links
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(current_certificate_number=selectors.current_certificate_number(member_ref="user_id"))
        )

    def get_search_results(self, request, queryset, search_term):
        """A whole certificate number (MA-YYYY-NNNNNN) is a lookup: it finds its holder and no one else
        (a legacy number never has that form, though one may contain it); any other term searches the
        legacy numbers, emails and names."""
        member_id = certificate_services.member_id_from_number(search_term.strip())
        if member_id is not None:
            return queryset.filter(user_id=member_id), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("Certificate"), ordering="current_certificate_number")
    def certificate_numbers(self, obj: "WithAnnotations[MACertification, CurrentNumber]") -> str:
        return format_html(
            '{}<br><span class="quiet">{} {}</span>',
            obj.current_certificate_number or "—",
            _("Legacy number"),
            obj.certificate_number,
        )
