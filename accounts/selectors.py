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
