import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from accounts.models import Notification
from accounts.services import notifications

EMAIL_MAX_RETRIES = 5
logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=EMAIL_MAX_RETRIES, acks_late=True)
def notification_send_email(self, notification_id: int) -> bool:
    """Email one notification; retried with exponential backoff, never sent twice."""
    try:
        return notifications.notification_send_email(notification_id=notification_id)
    except Exception as exc:
        give_up = self.request.retries >= EMAIL_MAX_RETRIES
        notifications.notification_record_email_failure(notification_id=notification_id, give_up=give_up)
        if give_up:
            return False
        raise self.retry(exc=exc, countdown=min(30 * 2**self.request.retries, 1800)) from exc


@shared_task(acks_late=True)
def notification_send_emails(notification_ids: list[int]) -> int:
    """Email a batch from a set-based insert, each exactly once; a failed one stays pending for the sweep."""
    sent = 0
    for notification_id in notification_ids:
        try:
            sent += notifications.notification_send_email(notification_id=notification_id)
        except Exception:  # noqa: BLE001 - one bad address must not hold back the rest of the batch
            logger.warning("Email of notification %s failed; the outbox sweep retries it", notification_id)
            notifications.notification_record_email_failure(notification_id=notification_id, give_up=False)
    return sent


@shared_task(acks_late=True)
def notification_outbox_sweep() -> int:
    """Re-enqueue emails still pending after a minute (the broker was down, a worker died)."""
    cutoff = timezone.now() - timedelta(minutes=1)
    pending = list(
        Notification.objects.filter(email_state=Notification.EmailState.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:1000]
    )
    for notification_id in pending:
        notification_send_email.delay(notification_id)
    return len(pending)
