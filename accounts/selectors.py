"""Every non-trivial read of the accounts app."""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.core.paginator import Page, Paginator
from django.db import connection, models
from django.db.models import Count, Prefetch, Q, QuerySet, Window
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import (
    INVITATION_KIND,
    InterestTopic,
    MACertification,
    Notification,
    Organization,
    OrganizationDomain,
    SSOConnection,
    User,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class NotificationCounts(TypedDict):
    total: int
    unread: int


class RosterInvitation(TypedDict):
    """What `certification_roster` adds to each certification: its latest invitation."""

    invitation_email_state: str | None
    invitation_sent_at: datetime | None
    invitation_valid_until: datetime | None


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")


def notification_unread_count(*, user: User) -> int:
    """The header badge: an index-only count over (user, read_at)."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_unread_count_sql(user_param: str = "%s") -> str:
    """`notification_unread_count` as a scalar subquery of the user's id (the placeholder `user_param`), for a
    query that reads the header badge in the same round trip as its own data (mahome/page_cache.py)."""
    quote = connection.ops.quote_name
    table = quote(Notification._meta.db_table)
    user = quote(Notification._meta.get_field("user").column)
    read_at = quote(Notification._meta.get_field("read_at").column)
    return f"(SELECT count(*) FROM {table} WHERE {user} = {user_param} AND {read_at} IS NULL)"  # noqa: S608 - our own names


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
    wanted = min(wanted, 2**31 // per_page)  # a page past any real one, not an OFFSET past bigint
    rows = _notification_rows(user=user, offset=(wanted - 1) * per_page, limit=per_page)
    if not rows and wanted > 1:
        wanted = max(1, -(-notification_list(user=user).count() // per_page))
        rows = _notification_rows(user=user, offset=(wanted - 1) * per_page, limit=per_page)
    paginator.count = rows[0].total if rows else 0
    unread = rows[0].unread if rows else 0
    return NotificationPage(page=Page(rows, wanted, paginator), unread=unread)


def _notification_rows(
    *, user: User, offset: int, limit: int
) -> list["WithAnnotations[Notification, NotificationCounts]"]:
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
    return user.history.select_related("history_user").order_by("-history_date", "-history_id")


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class ProfileChange:
    """One version of a member's account as the member reads it: when, who, and what changed."""

    when: datetime
    actor: str
    created: bool
    changes: list[FieldChange]


# Tracked by history, but bookkeeping rather than something a member changes or reads.
_UNLISTED_FIELDS = {"id", "date_joined"}
_LONG_VALUE = 80


def _shown_value(field, value, organizations: dict[int, str]) -> str:
    if field.name == "organization":
        return organizations.get(value, _("(removed organization)")) if value else _("(none)")
    if field.name == "interests":
        labels = dict(InterestTopic.choices)
        return ", ".join(str(labels.get(topic, topic)) for topic in value or []) or _("(none)")
    if isinstance(value, bool):
        return _("on") if value else _("off")
    if field.choices and value:
        return str(dict(field.flatchoices).get(value, value))
    if value in (None, ""):
        return _("(empty)")
    text = str(value)
    return text if len(text) <= _LONG_VALUE else text[: _LONG_VALUE - 1] + "…"


def _actor_label(record, *, user: User) -> str:
    if record.history_user_id is None:
        return _("MA Home")
    if record.history_user_id == user.pk:
        return _("you")
    return _("%(name)s (program team)") % {"name": record.history_user.display_name}


def profile_changes(*, user: User, limit: int = 10) -> list[ProfileChange]:
    """The member's latest account changes, newest first, each with its fields before → after.

    Versions that change nothing a member can see (sign-ins, before they stopped being recorded)
    are left out. Two queries, whatever the history's length.
    """
    records = list(profile_history(user=user)[: limit * 4 + 1])
    fields = [f for f in User.history.model.tracked_fields if f.name not in _UNLISTED_FIELDS]
    organization_ids = {r.organization_id for r in records if r.organization_id}
    organizations = dict(Organization.objects.filter(pk__in=organization_ids).values_list("pk", "name"))
    entries: list[ProfileChange] = []
    for newer, older in zip(records, [*records[1:], None], strict=True):
        if len(entries) == limit:
            break
        created = newer.history_type == "+"
        if older is None and not created:
            break  # the version before this one is beyond what was read: its changes are unknown
        changes = []
        if not created:
            for field in fields:
                before, after = getattr(older, field.attname), getattr(newer, field.attname)
                if before != after:
                    changes.append(
                        FieldChange(
                            label=capfirst(str(field.verbose_name)),
                            before=_shown_value(field, before, organizations),
                            after=_shown_value(field, after, organizations),
                        )
                    )
        if created or changes:
            entries.append(
                ProfileChange(
                    when=newer.history_date, actor=_actor_label(newer, user=user), created=created, changes=changes
                )
            )
    return entries


class InvitationState(models.TextChoices):
    """Where a provisioned MA stands, as the roster shows it: derived from the last sign-in and the
    latest invitation (its email's state and its link's expiry), never stored."""

    SIGNED_IN = "signed_in", gettext_lazy("Signed in")
    PENDING = "pending", gettext_lazy("Invited, not signed in yet")
    QUEUED = "queued", gettext_lazy("Invitation being sent")
    FAILED = "failed", gettext_lazy("Invitation email failed")
    EXPIRED = "expired", gettext_lazy("Invitation expired")
    NONE = "none", gettext_lazy("Not invited")


def certification_roster() -> "QuerySet[WithAnnotations[MACertification, RosterInvitation]]":
    """Every MA certification with its member, organization, and latest invitation: its email state,
    when it was sent and until when its link works (one query)."""
    from django.db.models import OuterRef, Subquery

    from accounts.models import Invitation

    invitation_email = Notification.objects.filter(user_id=OuterRef("user_id"), kind=INVITATION_KIND).order_by(
        "-created_at"
    )
    latest = Invitation.objects.filter(user_id=OuterRef("user_id")).order_by("-sent_at", "-pk")
    return MACertification.objects.select_related("user", "user__organization").annotate(
        invitation_email_state=Subquery(invitation_email.values("email_state")[:1]),
        invitation_sent_at=Subquery(latest.values("sent_at")[:1]),
        invitation_valid_until=Subquery(latest.values("valid_until")[:1]),
    )


def invitation_expired_q(*, now: datetime) -> Q:
    """Roster rows whose latest invitation's link has expired and who never signed in."""
    from django.db.models import Exists, OuterRef

    from accounts.models import Invitation

    invitations = Invitation.objects.filter(user_id=OuterRef("user_id"))
    still_valid = invitations.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
    return Q(user__last_login__isnull=True) & Q(Exists(invitations)) & ~Q(Exists(still_valid))


def invitation_state(
    *, last_login, invitation_email_state: str | None, valid_until: datetime | None = None, now: datetime | None = None
) -> str:
    """One word for where a provisioned MA stands: signed in, invited, queued, failed, expired or never invited."""
    if last_login is not None:
        return InvitationState.SIGNED_IN
    if invitation_email_state == Notification.EmailState.FAILED:
        return InvitationState.FAILED
    if valid_until is not None and valid_until <= (now or timezone.now()):
        return InvitationState.EXPIRED
    if invitation_email_state == Notification.EmailState.SENT:
        return InvitationState.PENDING
    if invitation_email_state == Notification.EmailState.PENDING:
        return InvitationState.QUEUED
    if invitation_email_state == Notification.EmailState.FAILED:
        return InvitationState.FAILED
    if invitation_email_state is None:
        return InvitationState.NONE
    # SKIPPED: shown in the app only (no email); the member still has not signed in.
    return InvitationState.PENDING


def failed_email_count() -> int:
    """Notification emails the outbox gave up on (after its retries)."""
    return Notification.objects.filter(email_state=Notification.EmailState.FAILED).count()
