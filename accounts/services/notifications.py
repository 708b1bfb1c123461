"""A member's notifications: recorded in the app, emailed through an outbox that Celery drains."""

import logging
from contextlib import nullcontext

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import (
    Notification,
    User,
    email_preference_field,
)

logger = logging.getLogger("accounts.services")


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
    email_body: str = "",
    email_url: str = "",
) -> Notification | None:
    """Record a notification for `user` and, after commit, email it.

    The email says `body` and ends with `url`, as the app does, unless it has its own `email_body` and
    `email_url`: what is true in an email may not be in the app, which the member reads signed in.
    An `email_body` that has the link already, as a paragraph of its own (under the sentence about it) or as a
    word of the sentence that announces it (the sign-in link of a single sign-on invitation), shows it there only.
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
        email_body=email_body,
        email_url=email_url,
        dedupe_key=dedupe_key,
        email_state=Notification.EmailState.PENDING if wants_email else Notification.EmailState.SKIPPED,
    )
    notification.full_clean(exclude=["user"], validate_constraints=False)
    # In a caller's transaction, a savepoint: a refused duplicate must leave that transaction usable. In
    # autocommit (a sign-up's notice, written after its commit) the INSERT is its own transaction already,
    # and BEGIN and COMMIT around it would be two more round trips.
    in_transaction = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic() if in_transaction else nullcontext():
            notification.save()
    except IntegrityError:
        if dedupe_key:
            return None
        raise
    if wants_email:
        transaction.on_commit(lambda: _enqueue_notification_email(notification.pk), robust=True)
    return notification


def _enqueue_notification_emails(notification_ids: list[int]) -> None:
    """Hand a set-based insert's emails to Celery in batches; what the broker refuses stays in the outbox."""
    from accounts.tasks import notification_send_emails

    for start in range(0, len(notification_ids), NOTIFICATION_EMAIL_BATCH):
        batch = notification_ids[start : start + NOTIFICATION_EMAIL_BATCH]
        try:
            notification_send_emails.delay(batch)
        except Exception:  # noqa: BLE001 - the broker being down must never fail the caller
            logger.warning("Broker unavailable; %s notifications stay in the outbox", len(batch))
            return


NOTIFICATION_EMAIL_BATCH = 200


def notifications_create_many(
    *,
    kind: str,
    user_ids: list[int],
    titles: list[str],
    bodies: list[str],
    dedupe_keys: list[str],
    url: str = "",
    email: bool = True,
) -> int:
    """`notification_create` for many members in one statement; returns how many were created.

    The i-th member gets the i-th title, body and dedupe key. A (member, key) pair that already has its
    notification is skipped by the same unique constraint (`ON CONFLICT DO NOTHING`). Whether each
    one is emailed is decided in SQL from the member's `is_active` and email preference for the
    kind's area (what `User.wants_email` decides for one); the emails wait in the outbox (`pending`)
    and are handed to Celery in batches after commit.
    """
    from django.db import connection

    if not user_ids:
        return 0
    if connection.vendor != "postgresql":
        # The embedded local run (SQLite) has no unnest: the same rule, one member at a time.
        return _create_one_by_one(
            kind=kind, user_ids=user_ids, titles=titles, bodies=bodies, dedupe_keys=dedupe_keys, url=url, email=email
        )
    created = _insert_set_based(
        kind=kind, user_ids=user_ids, titles=titles, bodies=bodies, dedupe_keys=dedupe_keys, url=url, email=email
    )
    pending = [pk for pk, state in created if state == Notification.EmailState.PENDING]
    if pending:
        transaction.on_commit(lambda: _enqueue_notification_emails(pending), robust=True)
    return len(created)


def _insert_set_based(
    *,
    kind: str,
    user_ids: list[int],
    titles: list[str],
    bodies: list[str],
    dedupe_keys: list[str],
    url: str,
    email: bool,
) -> list[tuple[int, str]]:
    """One INSERT ... SELECT FROM unnest(...) (PostgreSQL); returns the (id, email state) of each row made."""
    from django.db import connection

    preference = email_preference_field(kind)
    wants = f"u.{_column(preference)}" if preference else "TRUE"
    table, users = Notification._meta.db_table, User._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, kind, title, body, url, created_at, email_state, email_attempts, "  # noqa: S608
            "dedupe_key) "
            f"SELECT r.user_id, %s, left(r.title, 200), r.body, %s, %s, "
            f"CASE WHEN %s AND u.is_active AND {wants} THEN %s ELSE %s END, 0, r.dedupe_key "
            "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[]) AS r(user_id, title, body, dedupe_key) "
            f"JOIN {users} u ON u.id = r.user_id "
            "ON CONFLICT (user_id, dedupe_key) WHERE NOT (dedupe_key = '') DO NOTHING "
            "RETURNING id, email_state",
            [
                kind,
                url,
                timezone.now(),
                email,
                Notification.EmailState.PENDING,
                Notification.EmailState.SKIPPED,
                user_ids,
                titles,
                bodies,
                dedupe_keys,
            ],
        )
        return cursor.fetchall()


def _column(field_name: str) -> str:
    field = User._meta.get_field(field_name)
    assert isinstance(field, models.Field)  # a concrete column of the user table
    return field.column


def _create_one_by_one(
    *,
    kind: str,
    user_ids: list[int],
    titles: list[str],
    bodies: list[str],
    dedupe_keys: list[str],
    url: str,
    email: bool,
) -> int:
    users_by_id = User.objects.in_bulk(user_ids)
    made = [
        notification_create(
            user=users_by_id[user_id], kind=kind, title=title, body=body, url=url, email=email, dedupe_key=key
        )
        for user_id, title, body, key in zip(user_ids, titles, bodies, dedupe_keys, strict=True)
        if user_id in users_by_id
    ]
    return sum(1 for notification in made if notification is not None)


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
        url = notification.email_url or notification.url
        link = f"{settings.SITE_URL}{url}" if url.startswith("/") else url
        text = notification.email_body or notification.body
        if link and link not in text.split():  # a body that has the link (the invitation's) gives it once
            text += f"\n\n{link}"
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
    updates: dict[str, object] = {"email_attempts": F("email_attempts") + 1}
    if give_up:
        updates["email_state"] = Notification.EmailState.FAILED
    Notification.objects.filter(pk=notification_id, email_state=Notification.EmailState.PENDING).update(**updates)


def notifications_mark_read(*, user: User, notification_ids: list[int] | None = None) -> int:
    """Mark the member's notifications read (all unread ones when no ids are given)."""
    queryset = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        queryset = queryset.filter(pk__in=notification_ids)
    return queryset.update(read_at=timezone.now())
