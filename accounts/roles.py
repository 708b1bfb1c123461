"""The two staff roles and the permissions each carries.

The groups themselves are created by a data migration; their permissions are re-synced
after every `migrate`, so models added by later migrations are covered without another
data migration.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q
from django.urls import reverse

VERIFIER = "Verifier"
PROGRAM_ADMIN = "Program admin"

PROGRAM_APPS = ("accounts", "contributions", "engagements", "community_levels")
# Beyond viewing, what a verifier may change: decisions on contributions and sign-ups.
VERIFIER_CHANGES = ("change_contribution", "change_signup", "change_audit")


def is_admin_path(path: str) -> bool:
    """A page of the admin site (wherever `mahome/urls.py` mounts it)."""
    return path.startswith(reverse("admin:index"))


def role_permissions(role: str):
    program = Q(content_type__app_label__in=PROGRAM_APPS)
    if role == VERIFIER:
        return Permission.objects.filter(program & (Q(codename__startswith="view_") | Q(codename__in=VERIFIER_CHANGES)))
    if role == PROGRAM_ADMIN:
        return Permission.objects.filter(
            program
            | Q(content_type__app_label="django_celery_beat")
            | Q(content_type__app_label="auth", codename="view_group")
        )
    raise ValueError(role)


def roles_sync_permissions(**kwargs) -> None:
    for role in (VERIFIER, PROGRAM_ADMIN):
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(role_permissions(role))


STAFF_ROLES = (VERIFIER, PROGRAM_ADMIN)


def user_staff_role(user) -> str:
    """The one staff role a person holds ("" for none); superusers are outside the roles."""
    if not user.is_staff:
        return ""
    names = {group.name for group in user.groups.all()}
    for role in (PROGRAM_ADMIN, VERIFIER):
        if role in names:
            return role
    return ""


def may_assign_staff_roles(actor, target=None) -> bool:
    """Who may give or take a staff role: a superuser, or a program admin (never on a superuser)."""
    if actor.is_superuser:
        return True
    if target is not None and target.is_superuser:
        return False
    return actor.is_active and actor.is_staff and actor.groups.filter(name=PROGRAM_ADMIN).exists()


def staff_mfa_ready(user) -> bool:
    """Staff may use staff powers, in the admin or anywhere else, only with an authenticator app.

    allauth asks anyone with an authenticator for its code at every sign-in, so a signed-in staff
    member who has one passed MFA. StaffMFARequiredMiddleware (/admin/) and every view outside the
    admin that grants staff rights ask this one function.
    """
    from allauth.mfa.models import Authenticator

    if not (user.is_authenticated and user.is_staff):
        return False
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


def staff_mfa_required_response(request):
    """Where staff without MFA are sent, with the reason: setting up the authenticator app."""
    from django.contrib import messages
    from django.shortcuts import redirect
    from django.utils.translation import gettext as _

    messages.warning(
        request,
        _(
            "Staff must set up two-factor authentication before using staff powers. "
            "Add MA Home to your authenticator app."
        ),
    )
    return redirect("mfa_activate_totp")
