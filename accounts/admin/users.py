"""People's accounts and their notifications in the admin; a program admin gives one staff role."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts import services
from accounts.models import (
    Notification,
    User,
)
from accounts.roles import PROGRAM_ADMIN, VERIFIER, user_staff_role
from mahome.admin_site import ReadOnlyAdminMixin


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
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What a member was told, as it was told: staff read notifications and their email state here, never add,
    change or delete one (a message to members goes through *Message these members*, which keeps its author)."""

    list_display = ["title", "user", "kind", "created_at", "read_at", "email_state"]
    list_filter = ["kind", "email_state"]
    search_fields = ["title", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "emailed_at", "email_attempts"]
