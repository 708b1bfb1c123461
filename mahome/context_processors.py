from django.conf import settings
from django.utils.functional import SimpleLazyObject


def site(request) -> dict:
    """The header's unread-notification count, computed only if a template asks for it."""

    def unread_count() -> int:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return 0
        from accounts.selectors import notification_unread_count

        return notification_unread_count(user=user)

    return {"unread_notifications": SimpleLazyObject(unread_count), "support_email": settings.MAHOME_SUPPORT_EMAIL}
