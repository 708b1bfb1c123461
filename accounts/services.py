"""Every write of the accounts app."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Notification, User

logger = logging.getLogger(__name__)


def _enqueue_notification_email(notification_id: int) -> None:
    """Hand the email to Celery; if the broker is away the outbox sweep sends it later."""
    from accounts.tasks import notification_send_email

    try:
        notification_send_email.delay(notification_id)
    except Exception:  # noqa: BLE001 - the broker being down must never fail the member's request
        logger.warning("Broker unavailable; notification %s stays in the outbox", notification_id)


def notification_create(
    *,
    user: User,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    email: bool = True,
    dedupe_key: str = "",
) -> Notification | None:
    """Record a notification for `user` and, after commit, email it.

    With a `dedupe_key` the notification is created at most once per user and key
    (a unique constraint, so two concurrent jobs cannot both create it); the second call
    returns None.
    """
    wants_email = email and user.is_active and _user_wants_email(user, kind)
    notification = Notification(
        user=user,
        kind=kind,
        title=title[:200],
        body=body,
        url=url,
        dedupe_key=dedupe_key,
        email_state=Notification.EmailState.PENDING if wants_email else Notification.EmailState.SKIPPED,
    )
    notification.full_clean(exclude=["user"], validate_constraints=False)
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError:
        if dedupe_key:
            return None
        raise
    if wants_email:
        transaction.on_commit(lambda: _enqueue_notification_email(notification.pk), robust=True)
    return notification


def _user_wants_email(user: User, kind: str) -> bool:
    preference = getattr(user, "wants_email", None)
    return preference(kind) if callable(preference) else True


def notification_send_email(*, notification_id: int) -> bool:
    """Send the email of one notification exactly once; returns True when it was sent now.

    The row is locked while sending, so two workers (or a retry racing the sweep) cannot
    both send it.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",), no_key=True)
            .select_related("user")
            .filter(pk=notification_id, email_state=Notification.EmailState.PENDING)
            .first()
        )
        if notification is None:
            return False
        notification.email_attempts += 1
        link = f"{settings.SITE_URL}{notification.url}" if notification.url.startswith("/") else notification.url
        text = notification.body + (f"\n\n{link}" if link else "")
        send_mail(
            subject=f"[MA Home] {notification.title}",
            message=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notification.user.email],
        )
        notification.email_state = Notification.EmailState.SENT
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["email_state", "email_attempts", "emailed_at"])
    return True


def notification_record_email_failure(*, notification_id: int, give_up: bool) -> None:
    """Count a failed attempt; after the last retry the email is marked failed (the in-app copy stays)."""
    updates = {"email_attempts": F("email_attempts") + 1}
    if give_up:
        updates["email_state"] = Notification.EmailState.FAILED
    Notification.objects.filter(pk=notification_id, email_state=Notification.EmailState.PENDING).update(**updates)


def notifications_mark_read(*, user: User, notification_ids: list[int] | None = None) -> int:
    """Mark the member's notifications read (all unread ones when no ids are given)."""
    queryset = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        queryset = queryset.filter(pk__in=notification_ids)
    return queryset.update(read_at=timezone.now())


@transaction.atomic
def user_create(
    *,
    email: str,
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
    is_staff: bool = False,
    groups: tuple[str, ...] = (),
) -> User:
    """Create a person who can sign in; without a password they sign in by SSO or an invitation."""
    user = User(
        email=User.objects.normalize_email(email).lower(), first_name=first_name, last_name=last_name, is_staff=is_staff
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if groups:
        from django.contrib.auth.models import Group

        user.groups.set(Group.objects.filter(name__in=groups))
    return user
