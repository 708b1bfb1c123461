import pytest
from django.conf import settings
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from mahome.beat import DefaultsOnlyDatabaseScheduler
from mahome.celery import app

# django-celery-beat closes the connection it used, as in a real beat process.
pytestmark = pytest.mark.django_db(transaction=True)


def test_beat_creates_missing_schedules_and_keeps_the_admins_edits():
    every_ten_minutes, _ = IntervalSchedule.objects.get_or_create(every=10, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.create(
        name="worker-heartbeat", task="mahome.tasks.heartbeat", interval=every_ten_minutes, enabled=False
    )
    scheduler = DefaultsOnlyDatabaseScheduler(app=app, lazy=True)
    scheduler.update_from_dict(settings.CELERY_BEAT_SCHEDULE)

    heartbeat = PeriodicTask.objects.get(name="worker-heartbeat")
    assert heartbeat.interval == every_ten_minutes
    assert heartbeat.enabled is False
    assert set(PeriodicTask.objects.values_list("name", flat=True)) >= set(settings.CELERY_BEAT_SCHEDULE)
