"""The member's profile and their sessions."""

from typing import Any

from django.db import transaction

from accounts.models import (
    User,
)

PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "preferred_name",
    "employer",
    "company_type",
    "job_title",
    "country",
    "time_zone",
    "phone",
    "linkedin_url",
    "bio",
    "interests",
    "email_account",
    "email_maintenance",
    "email_engagement",
    "email_community",
)


@transaction.atomic
def profile_update(*, user: User, changes: dict[str, Any], actor: User | None) -> User:
    """Apply profile edits (the member's own, or the program team's); history keeps who and what.

    `actor` is recorded on the version (None: MA Home itself, e.g. an import).
    """
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    user = User.objects.select_for_update(of=("self",), no_key=True).get(pk=user.pk)
    changed = [name for name, value in changes.items() if getattr(user, name) != value]
    if not changed:
        return user
    for name in changed:
        setattr(user, name, changes[name])
    user.full_clean(exclude=["password"])
    user._history_user = actor
    user._change_reason = (
        "profile edited by the member" if actor is not None and actor.pk == user.pk else "profile edited"
    )
    user.save(update_fields=changed)
    return user


def sessions_end_all(*, request, user: User) -> int:
    """Sign the member out on every device and browser, this one included; returns how many ended."""
    from allauth.usersessions.internal.flows.sessions import end_sessions
    from allauth.usersessions.models import UserSession

    sessions = list(UserSession.objects.filter(user_id=user.pk))
    end_sessions(request, sessions)
    return len(sessions)
