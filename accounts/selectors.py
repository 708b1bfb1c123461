from django.db.models import QuerySet

from accounts.models import Notification, User


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")
