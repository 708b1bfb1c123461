"""What staff change on a person's account: their staff role and, for program admins, the account's details."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import (
    User,
)
from accounts.services.profiles import PROFILE_FIELDS


@transaction.atomic
def user_set_staff_role(*, user: User, role: str, actor: User) -> User:
    """Give `user` one staff role (Verifier or Program admin) or take it away (role "").

    A program admin may do this and nothing more: superuser status, other groups and single
    permissions are the superusers' alone, and a superuser's account is out of a program admin's
    reach. The history row names the actor and says which role was given or taken.
    """
    from django.contrib.auth.models import Group
    from django.core.exceptions import PermissionDenied

    from accounts.roles import STAFF_ROLES, may_assign_staff_roles, user_staff_role

    if role and role not in STAFF_ROLES:
        raise PermissionDenied(_("A staff role is Verifier or Program admin."))
    if not may_assign_staff_roles(actor, user):
        raise PermissionDenied(_("Only a program admin or a superuser gives staff roles."))
    user = User.objects.select_for_update(of=("self",), no_key=True).get(pk=user.pk)
    before = user_staff_role(user)
    user.groups.remove(*Group.objects.filter(name__in=STAFF_ROLES).exclude(name=role))
    if role:
        user.groups.add(Group.objects.get(name=role))
    user.is_staff = bool(role) or user.is_superuser
    user._history_user = actor
    user._change_reason = _("Staff role: %(after)s (was: %(before)s)") % {
        "after": role or _("none"),
        "before": before or _("none"),
    }
    user.save(update_fields=["is_staff"])
    return user


# What a program admin may change on a person's account in the admin (the rest is the superusers').
STAFF_EDITABLE_FIELDS = ("email", *PROFILE_FIELDS, "organization", "is_active")


@transaction.atomic
def user_update_by_staff(*, user: User, changes: dict[str, Any], actor: User) -> User:
    """A program admin's edits of a person's account (profile, organization, active); history names them."""
    from django.core.exceptions import PermissionDenied

    from accounts.roles import may_assign_staff_roles

    unknown = set(changes) - set(STAFF_EDITABLE_FIELDS)
    if unknown:
        raise PermissionDenied(f"not editable by staff: {sorted(unknown)}")
    if user.is_superuser and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser changes a superuser's account."))
    if not (actor.is_superuser or may_assign_staff_roles(actor, user)):
        raise PermissionDenied(_("Only a program admin or a superuser changes accounts."))
    user = User.objects.select_for_update(of=("self",), no_key=True).get(pk=user.pk)
    changed = [name for name, value in changes.items() if getattr(user, name) != value]
    if not changed:
        return user
    for name in changed:
        setattr(user, name, changes[name])
    user.full_clean(exclude=["password"])
    user._history_user = actor
    user._change_reason = _("account edited by staff")
    user.save(update_fields=changed)
    return user
