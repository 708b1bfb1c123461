from django.conf import settings
from django.utils.functional import SimpleLazyObject

# Where a page that already read the header's unread-notification count in one of its own queries
# leaves it (mahome/page_cache.py), so the header spends no query of its own.
UNREAD_COUNT_ATTRIBUTE = "_unread_notifications"


def site(request) -> dict:
    """The header's unread-notification count, computed only if a template asks for it."""

    def unread_count() -> int:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return 0
        known = getattr(request, UNREAD_COUNT_ATTRIBUTE, None)
        if known is not None:
            return known
        from accounts.selectors import notification_unread_count

        return notification_unread_count(user=user)

    return {"unread_notifications": SimpleLazyObject(unread_count), "support_email": settings.MAHOME_SUPPORT_EMAIL}
