"""Beat's scheduler: the database holds the schedules, editable in the admin.

django-celery-beat's DatabaseScheduler copies CELERY_BEAT_SCHEDULE over the database rows every
time beat starts, so an admin's edit of a schedule would be undone at the next restart. Here
the settings only provide the defaults: an entry is created when it is missing and otherwise
left exactly as the admin set it (enabled or not, its timing, its arguments).
"""

from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler


class DefaultsOnlyDatabaseScheduler(DatabaseScheduler):
    def update_from_dict(self, mapping: dict) -> None:
        existing = set(PeriodicTask.objects.filter(name__in=list(mapping)).values_list("name", flat=True))
        super().update_from_dict({name: entry for name, entry in mapping.items() if name not in existing})
