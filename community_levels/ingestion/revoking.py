"""Taking back events the platform removed, with exactly what they had added to the aggregates."""

from collections import defaultdict

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from community_levels.marks import members_mark_ids
from community_levels.models import ActivityEvent, DailyActivity


def revoke_events(event_ids: list[str], *, source: str, reason: str) -> int:
    """Take back stored events the platform has removed (a deleted post, an undone like).

    The events stay, marked revoked with the reason (their ids stay taken, so a replay does not
    bring them back); the daily aggregates lose exactly what they had added, in the same
    transaction, and the members are marked for recompute. Returns how many were revoked now.
    """

    if not event_ids:
        return 0
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            ActivityEvent.objects.select_for_update()
            .filter(source=source, event_id__in=event_ids, revoked_at__isnull=True)
            .values_list("pk", "member_id", "day", "kind", "quantity", "minutes", "is_self_like")
        )
        if not rows:
            return 0
        ActivityEvent.objects.filter(pk__in=[row[0] for row in rows]).update(
            revoked_at=now, revoked_reason=reason[:200]
        )
        totals: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        for _pk, member_id, day, kind, quantity, minutes, is_self_like in rows:
            if is_self_like:
                continue
            total = totals[(member_id, day, kind)]
            total[0] += quantity
            total[1] += minutes
            total[2] += 1
        for (member_id, day, kind), (quantity, minutes, events) in totals.items():
            daily = DailyActivity.objects.filter(member_id=member_id, day=day, kind=kind)
            daily.update(quantity=F("quantity") - quantity, minutes=F("minutes") - minutes, events=F("events") - events)
            # a day with nothing left is no day of activity (days visited, member days)
            daily.filter(events=0).delete()
        with connection.cursor() as cursor:
            members_mark_ids(cursor, (row[1] for row in rows))
    return len(rows)
