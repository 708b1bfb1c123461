"""Messages from the program team to a segment of members."""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.errors import AccountError
from accounts.models import (
    Notification,
    SegmentMessage,
    SegmentMessageRecipient,
    User,
)
from accounts.services.notifications import notifications_create_many

SEGMENT_MESSAGE_KIND = "maintenance.program_message"


def segment_message_refusal(*, author: User) -> str | None:
    """Why `author` may not message members (None: they may). The buttons and the service ask this."""
    if not (author.is_active and author.is_staff and author.has_perm("accounts.add_segmentmessage")):
        return _("Only program admins can message members.")
    return None


@transaction.atomic
def segment_message_send(
    *, author: User, title: str, body: str, recipients: list[User], segment: str, request_token: str = ""
) -> SegmentMessage:
    """Send one message to each selected member once: a notification and, per their email preference
    for program news, an email through the outbox. Recorded with its author, segment and recipients.

    A member selected twice (two rows, two pages) is one recipient; the notifications share the
    message's dedupe key, so the unique (member, key) index also keeps a retry from sending twice.
    """
    refusal = segment_message_refusal(author=author)
    if refusal:
        raise PermissionDenied(refusal)
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise AccountError(_("Give the message a title."), field="title")
    if not body:
        raise AccountError(_("Write a message."), field="body")
    request_token = (request_token or "").strip()[:64]
    if request_token:
        sent = SegmentMessage.objects.filter(request_token=request_token).first()
        if sent is not None:
            return sent  # the same form posted again: already sent
    user_ids = sorted({user.pk for user in recipients})
    message = SegmentMessage(
        title=title,
        body=body,
        author=author,
        segment=segment[:300],
        recipient_count=len(user_ids),
        request_token=request_token,
    )
    message.full_clean(exclude=["author"], validate_constraints=False)
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        # The same form posted at the same moment: the other request's message is the one sent.
        return SegmentMessage.objects.get(request_token=request_token)
    _deliver(message, user_ids=user_ids)
    return message


def _deliver(message: SegmentMessage, *, user_ids: list[int]) -> None:
    """Each recipient's notification (one statement; emailed per their preference) and recipient row."""
    key = f"segment-message:{message.pk}"
    notifications_create_many(
        kind=SEGMENT_MESSAGE_KIND,
        user_ids=user_ids,
        titles=[message.title] * len(user_ids),
        bodies=[message.body] * len(user_ids),
        dedupe_keys=[key] * len(user_ids),
        url=reverse("notification_list"),
    )
    notification_ids = dict(
        Notification.objects.filter(dedupe_key=key, user_id__in=user_ids).values_list("user_id", "pk")
    )
    SegmentMessageRecipient.objects.bulk_create(
        SegmentMessageRecipient(message=message, user_id=pk, notification_id=notification_ids.get(pk))
        for pk in user_ids
    )
