"""Every non-trivial read of the accounts app."""

from django.db.models import Prefetch, QuerySet

from accounts.models import Notification, Organization, OrganizationDomain, SSOConnection, User


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")


def notification_get(*, user: User, notification_id: int) -> Notification:
    """One of the member's own notifications; another member's id raises DoesNotExist (a 404)."""
    return Notification.objects.get(user=user, pk=notification_id)


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower() if "@" in email else ""


def organization_for_email(*, email: str) -> Organization | None:
    """The organization whose email domains include this address, with its SSO connections."""
    domain = email_domain(email)
    if not domain:
        return None
    found = (
        OrganizationDomain.objects.filter(domain=domain)
        .select_related("organization")
        .prefetch_related(
            Prefetch(
                "organization__sso_connections",
                queryset=SSOConnection.objects.select_related("organization").order_by("slug"),
            )
        )
        .first()
    )
    return found.organization if found else None


def sso_connection_for_provider(*, provider_id: str) -> SSOConnection | None:
    """The connection a social login came through (allauth's SocialAccount.provider value)."""
    return (
        SSOConnection.objects.select_related("organization")
        .prefetch_related("organization__domains")
        .filter(social_app__provider_id=provider_id)
        .first()
    )


def user_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()


def profile_history(*, user: User) -> QuerySet:
    return user.history.select_related("history_user").order_by("-history_date")


# The invitation states the MA roster shows: derived from the last sign-in and the invitation's email.
INVITATION_SIGNED_IN = "signed_in"
INVITATION_PENDING = "pending"
INVITATION_QUEUED = "queued"
INVITATION_FAILED = "failed"
INVITATION_NONE = "none"


def certification_roster() -> QuerySet:
    """Every MA certification with its member, organization and invitation email state (one query)."""
    from django.db.models import OuterRef, Subquery

    from accounts.models import MACertification

    invitation_email = Notification.objects.filter(user_id=OuterRef("user_id"), kind="account.invitation").order_by(
        "-created_at"
    )
    return MACertification.objects.select_related("user", "user__organization").annotate(
        invitation_email_state=Subquery(invitation_email.values("email_state")[:1])
    )


def invitation_state(*, last_login, invitation_email_state: str | None) -> str:
    """One word for where a provisioned MA stands: signed in, invited, queued, failed or never invited."""
    if last_login is not None:
        return INVITATION_SIGNED_IN
    if invitation_email_state == Notification.EmailState.SENT:
        return INVITATION_PENDING
    if invitation_email_state == Notification.EmailState.PENDING:
        return INVITATION_QUEUED
    if invitation_email_state == Notification.EmailState.FAILED:
        return INVITATION_FAILED
    if invitation_email_state is None:
        return INVITATION_NONE
    # SKIPPED: shown in the app only (no email); the member still has not signed in.
    return INVITATION_PENDING
