"""The MA roster: every certified Master Anaplanner, provisioning, imports and invitations."""

from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportMixin
from simple_history.admin import SimpleHistoryAdmin

from accounts import selectors, services
from accounts.admin.segment_messages import segment_message_compose
from accounts.errors import AccountError
from accounts.imports import PreviewImportMixin
from accounts.invitation_links import invitation_valid_days
from accounts.models import (
    FIRST_QUALIFICATION_DAY,
    MACertification,
    Notification,
    Organization,
)
from accounts.resources import NewlyCertifiedResource
from mahome.errors import show_refusal

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class ProvisionForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    certificate_number = forms.CharField(
        label=_("Certificate number"),
        max_length=64,
        help_text=_(
            "The number of the certification record, e.g. MA-2026-0203. Not of the form MA-2026-000123 "
            "(MA-year-member number of six digits): MA Home gives those to certificates."
        ),
    )
    qualified_on = forms.DateField(
        label=_("Qualified on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=format_lazy(
            _("Not in the future, and not before {first}."), first=FIRST_QUALIFICATION_DAY.isoformat()
        ),
    )
    organization = forms.ModelChoiceField(
        label=_("Organization"),
        queryset=Organization.objects.all(),
        required=False,
        help_text=_("Leave empty to use the organization that owns the email's domain, if any."),
    )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        problems = services.member_provision_problems(
            email=services.provision_email(cleaned.get("email")),
            certificate_number=(cleaned.get("certificate_number") or "").strip(),
            qualified_on=cleaned.get("qualified_on"),
        )
        # Every field's problem at once (not the service's after the names are typed); a field that
        # already has an error (empty, not an email, not a date) keeps that one.
        for field, problem in problems.items():
            if field not in self.errors:
                self.add_error(field, problem)
        return cleaned


class CertificationChangeForm(forms.ModelForm):
    """The roster's change form: a certification's number and qualification date, under provisioning's
    rules (the holder is not changed here)."""

    class Meta:
        model = MACertification
        fields = ["certificate_number", "qualified_on"]

    def clean_certificate_number(self) -> str:
        number = (self.cleaned_data.get("certificate_number") or "").strip()
        problem = services.certification_number_problem(number=number, holder=self.instance.user)
        if problem:
            raise forms.ValidationError(problem)
        return number

    def clean_qualified_on(self):
        qualified_on = self.cleaned_data.get("qualified_on")
        problem = services.qualification_date_problem(qualified_on=qualified_on)
        if problem:
            raise forms.ValidationError(problem)
        return qualified_on


class InvitationFilter(admin.SimpleListFilter):
    title = _("invitation")
    parameter_name = "invitation"

    def lookups(self, request, model_admin):
        return [
            (selectors.InvitationState.SIGNED_IN, _("Signed in")),
            (selectors.InvitationState.PENDING, _("Not signed in yet")),
            (selectors.InvitationState.FAILED, _("Invitation email failed")),
            (selectors.InvitationState.EXPIRED, _("Invitation expired")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == selectors.InvitationState.SIGNED_IN:
            return queryset.filter(user__last_login__isnull=False)
        if value == selectors.InvitationState.PENDING:
            return queryset.filter(user__last_login__isnull=True)
        if value == selectors.InvitationState.FAILED:
            return queryset.filter(user__last_login__isnull=True, invitation_email_state=Notification.EmailState.FAILED)
        if value == selectors.InvitationState.EXPIRED:
            return queryset.filter(selectors.invitation_expired_q(now=timezone.now()))
        return queryset


def _day(moment) -> str:
    return date_format(timezone.localdate(moment))


@admin.register(MACertification)
class MACertificationAdmin(PreviewImportMixin, ImportMixin, SimpleHistoryAdmin):
    """The MA roster: every certified Master Anaplanner, where provisioning and imports return."""

    list_display = [
        "certificate",
        "member_name",
        "qualified_on",
        "organization",
        "invitation",
        "last_sign_in",
    ]
    list_display_links = ["certificate", "member_name"]
    list_filter = [InvitationFilter, ("user__organization", admin.RelatedOnlyFieldListFilter), "qualified_on"]
    actions = ["resend_invitations", "message_members"]
    search_fields = ["certificate_number", "user__email", "user__first_name", "user__last_name"]
    form = CertificationChangeForm
    fields = ["user", "certificate_number", "qualified_on"]
    readonly_fields = ["user"]
    date_hierarchy = "qualified_on"
    ordering = ["-qualified_on", "certificate_number"]
    resource_classes = [NewlyCertifiedResource]
    preview_columns = ["email", "first_name", "last_name", "certificate_number", "qualified_on", "organization"]
    import_template_name = "admin/accounts/macertification/import.html"
    # Our list template extends the admin's own list and draws the buttons itself (import-export's
    # list templates would extend ours again: the 500 of issue 11).
    change_list_template = "admin/accounts/macertification/change_list.html"
    import_export_change_list_template = None

    def get_queryset(self, request):
        return selectors.certification_roster()

    def has_add_permission(self, request) -> bool:
        # A certification comes with its member's account and invitation: "Add a newly certified MA".
        return False

    def save_model(self, request, obj: MACertification, form, change: bool) -> None:
        services.certification_change(
            certification=obj, certificate_number=obj.certificate_number, qualified_on=obj.qualified_on
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A number taken between the form's check and the save (the service's refusal escapes
        save_model, so the admin's transaction rolls back): the same POST is validated again, and the
        form shows the rule's words beside the field, with everything staff typed kept."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except AccountError:
            return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra = {
            "title": _("MA roster: every certified Master Anaplanner"),
            "can_provision": self.has_import_permission(request),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    @admin.display(description=_("Certificate"), ordering="certificate_number")
    def certificate(self, obj: MACertification) -> str:
        return obj.certificate_number

    @admin.display(description=_("Member"), ordering="user__last_name")
    def member_name(self, obj: MACertification) -> str:
        name = obj.user.get_full_name()
        if not name:
            return obj.user.email
        return format_html('{}<br><span class="quiet">{}</span>', name, obj.user.email)

    @admin.display(description=_("Organization"), ordering="user__organization__name")
    def organization(self, obj: MACertification) -> str:
        return obj.user.organization.name if obj.user.organization else "—"

    @admin.display(description=_("Invitation"))
    def invitation(self, obj: "WithAnnotations[MACertification, selectors.RosterInvitation]") -> str | Promise:
        state = selectors.invitation_state(
            last_login=obj.user.last_login,
            invitation_email_state=obj.invitation_email_state,
            valid_until=obj.invitation_valid_until,
        )
        if state == selectors.InvitationState.EXPIRED:
            return _("Invitation expired on %(date)s") % {"date": _day(obj.invitation_valid_until)}
        if state == selectors.InvitationState.PENDING and obj.invitation_sent_at is not None:
            if obj.invitation_valid_until is None:
                return _("Invited on %(sent)s, by single sign-on") % {"sent": _day(obj.invitation_sent_at)}
            return _("Invited on %(sent)s, link valid until %(until)s") % {
                "sent": _day(obj.invitation_sent_at),
                "until": _day(obj.invitation_valid_until),
            }
        return selectors.InvitationState(state).label

    @admin.action(description=_("Resend the invitation (a fresh link)…"), permissions=["resend_invitation"])
    def resend_invitations(self, request, queryset):
        """A confirmation page first (who gets a new invitation, who is skipped and why), then the sends."""
        members = [certification.user for certification in queryset.select_related("user")]
        if request.POST.get("confirm") != "yes":
            refusals = [(m, services.invitation_resend_refusal(user=m)) for m in members]
            context = {
                **self.admin_site.each_context(request),
                "title": _("Resend invitations"),
                "opts": self.model._meta,
                "to_send": [m for m, reason in refusals if reason is None],
                "skipped": [(m, reason) for m, reason in refusals if reason is not None],
                "valid_days": invitation_valid_days(),
                "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/accounts/macertification/resend_invitations.html", context)
        result = services.invitations_resend(users=members, actor=request.user)
        self.message_user(
            request,
            ngettext(
                "%(n)d member was sent a new invitation.", "%(n)d members were sent a new invitation.", len(result.sent)
            )
            % {"n": len(result.sent)},
            messages.SUCCESS,
        )
        for member, reason in result.skipped:
            self.message_user(
                request,
                _("%(member)s: skipped, %(reason)s.") % {"member": member.email, "reason": reason},
                messages.WARNING,
            )
        return None

    def has_resend_invitation_permission(self, request) -> bool:
        return self.has_import_permission(request)

    @admin.action(description=_("Message the selected members…"), permissions=["message_members"])
    def message_members(self, request, queryset):
        """Compose a message to the selected (or, with "select all", every filtered) member; sent once each."""
        members = list({c.user_id: c.user for c in queryset.select_related("user")}.values())
        segment = _("MA roster: %(n)d selected") % {"n": len(members)}
        return segment_message_compose(
            request,
            admin_site=self.admin_site,
            members=members,
            segment=segment,
            back_url=reverse("admin:accounts_macertification_changelist"),
            hidden={
                "action": "message_members",
                helpers.ACTION_CHECKBOX_NAME: request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                "select_across": request.POST.get("select_across", "0"),
            },
        )

    def has_message_members_permission(self, request) -> bool:
        return services.segment_message_refusal(author=request.user) is None

    @admin.display(description=_("Last sign-in"), ordering="user__last_login", empty_value="—")
    def last_sign_in(self, obj: MACertification):
        return obj.user.last_login

    def get_skip_admin_log(self) -> bool:
        # Rows create users through member_provision; the history tables record them.
        return True

    def get_urls(self):
        return [
            path(
                "provision/",
                self.admin_site.admin_view(self.provision_view),
                name="accounts_macertification_provision",
            ),
            *super().get_urls(),
        ]

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm("accounts.add_macertification") and request.user.has_perm("accounts.add_user")

    def provision_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ProvisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                user = services.member_provision(**form.cleaned_data)
            except AccountError as error:
                show_refusal(request, error, form=form)
            else:
                messages.success(request, _("%(user)s was added and invited by email.") % {"user": user})
                return redirect(reverse("admin:accounts_macertification_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Add a newly certified MA"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/accounts/macertification/provision.html", context)
