import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportMixin
from simple_history.admin import SimpleHistoryAdmin

from accounts import selectors, services
from accounts.imports import PreviewImportMixin
from accounts.invitation_links import invitation_valid_days
from accounts.models import (
    MACertification,
    Notification,
    Organization,
    OrganizationDomain,
    SegmentMessage,
    SegmentMessageRecipient,
    SSOConnection,
    User,
)
from accounts.resources import NewlyCertifiedResource
from accounts.roles import PROGRAM_ADMIN, VERIFIER, user_staff_role


class StaffUserChangeForm(UserChangeForm):
    """The account form a program admin sees: one staff role instead of superuser, groups and permissions."""

    staff_role = forms.ChoiceField(
        label=_("Staff role"),
        required=False,
        choices=[
            ("", _("None: a member without staff access")),
            (VERIFIER, _("Verifier")),
            (PROGRAM_ADMIN, _("Program admin")),
        ],
        help_text=_(
            "Verifiers decide contributions and sign-ups and can read everything else; program admins run the program."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["staff_role"].initial = user_staff_role(self.instance)


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "organization", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_active", "groups", "company_type", "organization"]
    list_select_related = ["organization"]
    search_fields = ["email", "first_name", "last_name", "preferred_name", "employer"]
    history_list_display = ["employer", "job_title", "email"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Name"), {"fields": ("first_name", "last_name", "preferred_name")}),
        (
            _("Profile"),
            {
                "fields": (
                    "organization",
                    "employer",
                    "company_type",
                    "job_title",
                    "country",
                    "time_zone",
                    "phone",
                    "linkedin_url",
                    "bio",
                    "interests",
                )
            },
        ),
        (
            _("Email preferences"),
            {"fields": ("email_account", "email_maintenance", "email_engagement", "email_community")},
        ),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "first_name", "last_name")}),)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or request.user.is_superuser:
            return fieldsets
        # Superuser status, groups and single permissions are not even shown to other staff.
        return tuple(
            (name, {**options, "fields": ("is_active", "staff_role")}) if name == _("Permissions") else (name, options)
            for name, options in fieldsets
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and not request.user.is_superuser:
            kwargs["form"] = StaffUserChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        if not change or request.user.is_superuser:
            super().save_model(request, obj, form, change)
            return
        changes = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in services.STAFF_EDITABLE_FIELDS and name in form.cleaned_data
        }
        services.user_update_by_staff(user=obj, changes=changes, actor=request.user)
        if "staff_role" in form.changed_data:
            services.user_set_staff_role(user=obj, role=form.cleaned_data["staff_role"], actor=request.user)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "kind", "created_at", "read_at", "email_state"]
    list_filter = ["kind", "email_state"]
    search_fields = ["title", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "emailed_at", "email_attempts"]


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
    fields = ["kind", "slug", "button_label"]
    readonly_fields = fields
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


@admin.register(SSOConnection)
class SSOConnectionAdmin(admin.ModelAdmin):
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


class ProvisionForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    certificate_number = forms.CharField(label=_("Certificate number"), max_length=64)
    qualified_on = forms.DateField(label=_("Qualified on"), widget=forms.DateInput(attrs={"type": "date"}))
    organization = forms.ModelChoiceField(
        label=_("Organization"),
        queryset=Organization.objects.all(),
        required=False,
        help_text=_("Leave empty to use the organization that owns the email's domain, if any."),
    )


class InvitationFilter(admin.SimpleListFilter):
    title = _("invitation")
    parameter_name = "invitation"

    def lookups(self, request, model_admin):
        return [
            (selectors.INVITATION_SIGNED_IN, _("Signed in")),
            (selectors.INVITATION_PENDING, _("Not signed in yet")),
            (selectors.INVITATION_FAILED, _("Invitation email failed")),
            (selectors.INVITATION_EXPIRED, _("Invitation expired")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == selectors.INVITATION_SIGNED_IN:
            return queryset.filter(user__last_login__isnull=False)
        if value == selectors.INVITATION_PENDING:
            return queryset.filter(user__last_login__isnull=True)
        if value == selectors.INVITATION_FAILED:
            return queryset.filter(user__last_login__isnull=True, invitation_email_state=Notification.EmailState.FAILED)
        if value == selectors.INVITATION_EXPIRED:
            return queryset.filter(selectors.invitation_expired_q(now=timezone.now()))
        return queryset


def _day(moment) -> str:
    return date_format(timezone.localdate(moment))


class SegmentMessageForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, widget=forms.TextInput(attrs={"class": "vTextField"}))
    body = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 10, "class": "vLargeTextField"}),
        help_text=_("Sent as written, in MA Home and by email (per each member's email preferences)."),
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False)


def segment_message_compose(
    request, *, admin_site, members: list, segment: str, back_url: str, hidden: dict
) -> TemplateResponse | None:
    """The compose page of a message to members (the roster's action, the year report's button).

    Shows how many members will get it and who; sending calls `services.segment_message_send`, then
    returns to `back_url` (None from an admin action: back to the list it came from).
    """
    refusal = services.segment_message_refusal(author=request.user)
    if refusal:
        raise PermissionDenied(refusal)
    sending = request.method == "POST" and request.POST.get("send") == "yes"
    form = SegmentMessageForm(request.POST if sending else None, initial={"token": uuid.uuid4().hex})
    if sending and form.is_valid():
        try:
            message = services.segment_message_send(
                author=request.user,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                recipients=members,
                segment=segment,
                request_token=form.cleaned_data["token"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                ngettext(
                    "Your message was sent to %(n)d member.", "Your message was sent to %(n)d members.", len(members)
                )
                % {"n": message.recipient_count},
            )
            return redirect(back_url)
    hidden_fields = [(name, value) for name, values in hidden.items() for value in _as_list(values)]
    context = {
        **admin_site.each_context(request),
        "title": _("Message members"),
        "form": form,
        "members": members[:200],
        "more": max(0, len(members) - 200),
        "count": len(members),
        "segment": segment,
        "hidden_fields": hidden_fields,
        "back_url": back_url,
        "opts": SegmentMessage._meta,
    }
    return TemplateResponse(request, "admin/accounts/segmentmessage/compose.html", context)


def _as_list(values) -> list:
    return values if isinstance(values, list) else [values]


class SegmentMessageRecipientInline(admin.TabularInline):
    model = SegmentMessageRecipient
    fields = ["user", "member_email", "email_state"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "notification")

    @admin.display(description=_("email address"))
    def member_email(self, obj) -> str:
        return obj.user.email

    @admin.display(description=_("email"))
    def email_state(self, obj) -> str:
        return obj.notification.get_email_state_display() if obj.notification else "—"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SegmentMessage)
class SegmentMessageAdmin(admin.ModelAdmin):
    """Messages sent to members (from the roster or the year report): read-only, with every recipient."""

    list_display = ["title", "segment", "recipient_count", "author", "sent_at"]
    list_select_related = ["author"]
    search_fields = ["title", "body", "segment"]
    date_hierarchy = "sent_at"
    fields = ["title", "body", "segment", "author", "sent_at", "recipient_count"]
    readonly_fields = fields
    inlines = [SegmentMessageRecipientInline]

    def has_add_permission(self, request) -> bool:
        return False  # written from the roster or the report, where the members are chosen

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a record of what members were told


INVITATION_LABELS = {
    selectors.INVITATION_SIGNED_IN: _("Signed in"),
    selectors.INVITATION_PENDING: _("Invited, not signed in yet"),
    selectors.INVITATION_QUEUED: _("Invitation being sent"),
    selectors.INVITATION_FAILED: _("Invitation email failed"),
    selectors.INVITATION_EXPIRED: _("Invitation expired"),
    selectors.INVITATION_NONE: _("Not invited"),
}


@admin.register(MACertification)
class MACertificationAdmin(PreviewImportMixin, ImportMixin, admin.ModelAdmin):
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
    raw_id_fields = ["user"]
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
    def invitation(self, obj: MACertification) -> str:
        state = selectors.invitation_state(
            last_login=obj.user.last_login,
            invitation_email_state=obj.invitation_email_state,
            valid_until=obj.invitation_valid_until,
        )
        if state == selectors.INVITATION_EXPIRED:
            return _("Invitation expired on %(date)s") % {"date": _day(obj.invitation_valid_until)}
        if state == selectors.INVITATION_PENDING and obj.invitation_sent_at is not None:
            if obj.invitation_valid_until is None:
                return _("Invited on %(sent)s, by single sign-on") % {"sent": _day(obj.invitation_sent_at)}
            return _("Invited on %(sent)s, link valid until %(until)s") % {
                "sent": _day(obj.invitation_sent_at),
                "until": _day(obj.invitation_valid_until),
            }
        return INVITATION_LABELS[state]

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
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
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
