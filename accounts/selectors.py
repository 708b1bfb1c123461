"""Every non-trivial read of the accounts app."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet, Window

from accounts.models import Notification, Organization, OrganizationDomain, SSOConnection, User


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")


def notification_unread_count(*, user: User) -> int:
    """The header badge: an index-only count over (user, read_at)."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


@dataclass(frozen=True)
class NotificationPage:
    page: Page
    unread: int


def notification_page(*, user: User, number: str | int | None, per_page: int = 25) -> NotificationPage:
    """One page of the member's notifications with the total and the unread count, in one query.

    The two counts are window aggregates over the member's rows computed before LIMIT/OFFSET, so the
    page, the paginator and the header badge need no query of their own. Only a page number past the
    end (no rows come back) costs a second query, for the last page.
    """
    paginator = Paginator(notification_list(user=user), per_page)
    try:
        wanted = max(1, int(number or 1))
    except (TypeError, ValueError):
        wanted = 1
    rows = _notification_rows(user=user, offset=(wanted - 1) * per_page, limit=per_page)
    if not rows and wanted > 1:
        wanted = max(1, -(-notification_list(user=user).count() // per_page))
        rows = _notification_rows(user=user, offset=(wanted - 1) * per_page, limit=per_page)
    paginator.count = rows[0].total if rows else 0
    unread = rows[0].unread if rows else 0
    return NotificationPage(page=Page(rows, wanted, paginator), unread=unread)


def _notification_rows(*, user: User, offset: int, limit: int) -> list[Notification]:
    return list(
        notification_list(user=user).annotate(
            total=Window(Count("pk")),
            unread=Window(Count("pk", filter=Q(read_at__isnull=True))),
        )[offset : offset + limit]
    )


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
